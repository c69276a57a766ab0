//! Datasette metadata (`metadata.json`) for a crawl database: a title, a description of every
//! table and of the columns people ask about, the facets worth clicking (language, license,
//! archived, fork, states and conclusions), and the full-text index that merge builds. Tables
//! without a description here still appear, with their columns; nothing is hidden from them.

use serde_json::{Map, Value, json};

use super::tables::Table;

/// What a table holds, and its facets.
fn describe(table: &str) -> Option<(&'static str, &'static [&'static str])> {
    Some(match table {
        "repositories" => (
            "GitHub repositories: listing fields and GraphQL detail; merge keeps the newest version (fetched_at).",
            &["language", "license", "archived", "fork"],
        ),
        "pull_requests" => ("Pull requests of the crawled repositories.", &["state", "draft", "base_ref"]),
        "issues" => ("Issues (without pull requests) of the crawled repositories.", &["state", "state_reason"]),
        "ci_runs" => ("GitHub Actions workflow runs.", &["workflow_name", "event", "status", "conclusion"]),
        "contributors" => ("Contributors with a GitHub account, by commits.", &[]),
        "commits" => ("Commits of each repository's default branch.", &[]),
        "tombstones" => ("Repositories listed but found gone.", &["reason"]),
        "missing_repositories" => ("Names from repos:FILE that GitHub could not resolve.", &["reason"]),
        "stream_state" => ("How far each stream of each repository got.", &["stream", "status", "note"]),
        "work_items" => ("The plans' work and how far it got.", &["status", "kind", "plan_id"]),
        "shard_runs" => ("One row per crawl invocation.", &["status", "plan_id"]),
        "api_requests" => {
            ("Every request attempt: kind, status, cost, latency, credential label.", &["kind", "status", "credential"])
        }
        "plans" => ("The plans whose work the file holds.", &[]),
        "meta" => ("Schema version, plan, source and tool version.", &[]),
        "etags" => ("ETags of listing pages, for conditional re-crawls.", &[]),
        "analyzed_repositories" => {
            ("Category and quality score (0..100) of each repository, by analyzer.", &["analyzer", "category"])
        }
        _ => return None,
    })
}

/// Descriptions of the columns people ask about.
fn column(table: &str, column: &str) -> Option<&'static str> {
    Some(match (table, column) {
        (_, "repo_id") => "The repository's GitHub id (repositories.id)",
        (_, "fetched_at") => "When octoshard stored the row",
        (_, "author_login") => "The author's login; ghost for a deleted account",
        (_, "labels") => "Label names, a JSON array",
        ("repositories", "id") => "GitHub's repository id",
        ("repositories", "topics") => "Topic names, a JSON array",
        ("repositories", "open_issues_count") => "Open issues (without pull requests)",
        ("repositories", "size") => "Kilobytes, as GitHub reports",
        ("repositories", "detail_fetched_at") => "When the GraphQL detail was stored; empty: listing fields only",
        ("pull_requests", "head_repo_id") => "The head repository; empty when the fork was deleted",
        ("ci_runs", "duration_seconds") => "updated_at - started_at of a completed run",
        ("contributors", "contributions") => "Commits GitHub counts for the account",
        ("analyzed_repositories", "signals") => "What the category and score came from, a JSON object",
        _ => return None,
    })
}

/// `metadata.json` for `tables` of the database named `database` (its file stem).
pub fn metadata(database: &str, tables: &[Table]) -> Value {
    let mut described = Map::new();
    for table in tables {
        let mut entry = Map::new();
        if let Some((description, facets)) = describe(&table.name) {
            entry.insert("description".into(), json!(description));
            if !facets.is_empty() {
                entry.insert("facets".into(), json!(facets));
            }
        }
        let columns: Map<String, Value> = table
            .columns
            .iter()
            .filter_map(|c| column(&table.name, &c.name).map(|d| (c.name.clone(), json!(d))))
            .collect();
        if !columns.is_empty() {
            entry.insert("columns".into(), Value::Object(columns));
        }
        if table.name == "repositories" {
            entry.insert("fts_table".into(), json!("repositories_fts"));
            entry.insert("fts_pk".into(), json!("id"));
            entry.insert("sort_desc".into(), json!("stargazers_count"));
        }
        described.insert(table.name.clone(), Value::Object(entry));
    }
    json!({
        "title": "octoshard crawl",
        "description": "GitHub repositories and their activity, crawled by octoshard. See docs/SCHEMA.md for every column.",
        "databases": { database: { "tables": described } }
    })
}
