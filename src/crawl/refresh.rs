//! A refresh's check: the repositories of an earlier database (given to the crawl as
//! `--previous`), asked by GraphQL `nodes(ids:)` for only what tells a change (push time, update
//! time, name, description, archived, stars, forks, the default branch's head and its commit
//! count). None of that pages a connection, so one point checks 300 repositories (`packing`). Each gets its `daily_repository_changes` row; a changed
//! one is stored as a stub (its earlier row, detail to fetch again), so the usual detail and
//! streams (incremental against the earlier database) collect it; a gone one becomes a tombstone.
//! Unchanged repositories cost nothing more: merge carries their rows over from the earlier
//! database. The cursor is the number checked.

use std::collections::HashMap;

use serde_json::Value;

use crate::github::RequestKind;
use crate::store::{Check, DailyChange, RepositoryRow, Store, Tombstone};

use super::{CrawlError, ItemOutcome, Progress, ShardContext, packing};

/// What the check asks of each repository.
const SIGNALS: &str = "databaseId nameWithOwner description isArchived pushedAt updatedAt stargazerCount forkCount
      defaultBranchRef { target { oid ... on Commit { history { totalCount } } } }";

/// What the check asks of each repository; with streams collected it also asks for their
/// signals (the newest issue and pull request: one request per repository and connection, so 74
/// repositories a point).
fn signals(context: &ShardContext<'_>) -> String {
    if context.streams.is_empty() {
        SIGNALS.to_string()
    } else {
        format!("{SIGNALS}\n      {}", super::streams::spec::DETAIL_SIGNALS)
    }
}

/// Checks `repos` from position `cursor`, then collects the changed ones.
pub(super) async fn crawl(
    context: &ShardContext<'_>,
    store: &mut Store,
    progress: &mut Progress,
    idx: u32,
    date: &str,
    repos: &[(u64, String)],
    cursor: Option<&str>,
) -> Result<ItemOutcome, CrawlError> {
    let previous = context.previous.ok_or(CrawlError::RefreshWithoutPrevious)?;
    let mut done: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
    let signals = signals(context);
    while done < repos.len() {
        let end = (done + context.packing.batch(&signals)).min(repos.len());
        let batch = &repos[done..end];
        let ids: Vec<&str> = batch.iter().map(|(_, node)| node.as_str()).collect();
        let text = packing::nodes_query(&signals, ids.len());
        let check = context.github.graphql(&text, packing::variables(&ids), RequestKind::RepositoryCheck);
        let Some(response) = progress.before_deadline(check).await else {
            return Ok(ItemOutcome::Deadline);
        };
        let mut response = response?;
        let answers = super::detail::answered_nodes(context, &mut response, batch.len())?;
        context.packing.check_cost(progress.shard(), batch.len(), &signals, &response.records);
        let now = crate::time::now_rfc3339();
        let Classified { stubs, mut changes, gone } = {
            let previous = previous.lock().expect("previous lock");
            classify(context, &previous, batch, &answers, &response.errors, date, &now)?
        };
        let mut records = std::mem::take(&mut response.records);
        if context.files {
            for change in changes.iter_mut() {
                let (Some(base), Some(head)) = (&change.previous_head_sha, &change.head_sha) else { continue };
                if base == head {
                    continue;
                }
                let Some(compared) = progress.before_deadline(files_changed(context, change.repo_id, base, head)).await
                else {
                    return Ok(ItemOutcome::Deadline);
                };
                let (files, mut spent) = compared?;
                change.files_changed = files;
                records.append(&mut spent);
            }
        }
        done = end;
        let check = Check { stubs: &stubs, changes: &changes, gone: &gone, cursor: done, records: &records };
        store.commit_check(progress.shard(), idx, &check)?;
        progress.checked(changes.len() as u64, stubs.len() as u64, gone.len() as u64, &records);
        if let Some(outcome) = super::drain(context, store, progress, super::detail::batch(context) - 1).await? {
            return Ok(outcome);
        }
    }
    super::finish(context, store, progress, idx).await
}

/// What the check of one batch found.
struct Classified {
    /// Stubs of the changed repositories, to collect.
    stubs: Vec<RepositoryRow>,
    /// Every checked repository's record.
    changes: Vec<DailyChange>,
    /// The repositories found gone.
    gone: Vec<Tombstone>,
}

/// Compares each repository of `batch` (its `answers` node, `null` when gone) with the earlier
/// database `previous`.
fn classify(
    context: &ShardContext<'_>,
    previous: &Store,
    batch: &[(u64, String)],
    answers: &[Value],
    errors: &[crate::github::graphql::GraphqlError],
    date: &str,
    now: &str,
) -> Result<Classified, CrawlError> {
    let repo_ids: Vec<u64> = batch.iter().map(|(id, _)| *id).collect();
    let earlier: HashMap<u64, RepositoryRow> =
        previous.repositories_by_id(&repo_ids)?.into_iter().map(|r| (r.id, r)).collect();
    let counts = previous.commit_counts_before(&repo_ids, date)?;
    let mut found = Classified { stubs: Vec::new(), changes: Vec::new(), gone: Vec::new() };
    for (i, (id, node_id)) in batch.iter().enumerate() {
        let before = earlier.get(id);
        let Some(node) = answers.get(i).filter(|node| !node.is_null()) else {
            found.gone.push(Tombstone {
                id: *id,
                node_id: Some(node_id.clone()),
                full_name: before.map(|r| r.full_name.clone()),
                reason: super::detail::reason(errors, i),
                observed_at: now.to_string(),
            });
            found.changes.push(DailyChange {
                repo_id: *id,
                check_date: date.to_string(),
                gone: true,
                previous_full_name: before.map(|r| r.full_name.clone()),
                previous_head_sha: before.and_then(|r| r.head_sha.clone()),
                fetched_at: now.to_string(),
                ..DailyChange::default()
            });
            continue;
        };
        let mut change = compare(*id, node, before, counts.get(id).copied(), date, now);
        if !change.has_changes() && before.is_some() {
            // The same decision an incremental crawl makes per stream: one that would not be
            // copied as it is means activity to collect.
            let facts = super::streams::spec::facts(node);
            for spec in &context.streams {
                let decision = super::streams::incremental::decide(previous, *id, &facts, spec)?;
                change.activity |= decision != super::streams::incremental::Decision::Unchanged;
            }
        }
        if change.has_changes() && context.detail {
            found.stubs.push(stub(*id, node_id, node, before));
        }
        found.changes.push(change);
    }
    Ok(found)
}

/// The body of a compare answer, as far as the count of files goes.
#[derive(serde::Deserialize)]
struct Comparison {
    #[serde(default)]
    files: Vec<serde_json::Value>,
}

/// The number of files changed between `base` and `head` (GitHub lists at most 300), from one
/// compare request for one commit; `None` when GitHub cannot compare them (a force push removed
/// `base`: 404).
async fn files_changed(
    context: &ShardContext<'_>,
    repo_id: u64,
    base: &str,
    head: &str,
) -> Result<(Option<i64>, Vec<crate::github::RequestRecord>), CrawlError> {
    let url = context.github.url(&format!("/repositories/{repo_id}/compare/{base}...{head}?per_page=1"));
    let (response, body) = context.github.get_json::<Comparison>(&url, RequestKind::Compare, None).await?;
    match response.status {
        200 => Ok((body.map(|b| b.files.len() as i64), response.records)),
        404 | 422 => Ok((None, response.records)),
        status => {
            crate::github::ledger::spill(response.records);
            Err(crate::github::GithubError::Unexpected {
                url,
                reason: format!("HTTP {status}: {}", crate::github::github_message(&response.body)),
            }
            .into())
        }
    }
}

/// What changed in `node` since `before` (the earlier database's row; all of it when there is
/// none). `count_before` is the commit count of the repository's previous check.
fn compare(
    id: u64,
    node: &Value,
    before: Option<&RepositoryRow>,
    count_before: Option<i64>,
    date: &str,
    now: &str,
) -> DailyChange {
    let text = |pointer: &str| node.pointer(pointer).and_then(Value::as_str).map(str::to_string);
    let number = |pointer: &str| node.pointer(pointer).and_then(Value::as_i64);
    let head_sha = text("/defaultBranchRef/target/oid");
    let commit_count = number("/defaultBranchRef/target/history/totalCount");
    let full_name = text("/nameWithOwner").unwrap_or_default();
    let mut change = DailyChange {
        repo_id: id,
        check_date: date.to_string(),
        head_sha: head_sha.clone(),
        commit_count,
        fetched_at: now.to_string(),
        ..DailyChange::default()
    };
    let Some(before) = before else {
        (change.pushed, change.metadata, change.counts) = (true, true, true);
        return change;
    };
    change.previous_head_sha = before.head_sha.clone();
    let head_moved = before.head_sha.is_some() && before.head_sha != head_sha;
    change.pushed = head_moved || before.pushed_at != text("/pushedAt");
    change.renamed = before.full_name != full_name;
    if change.renamed {
        change.previous_full_name = Some(before.full_name.clone());
    }
    let archived = node.get("isArchived").and_then(Value::as_bool);
    change.metadata = change.renamed
        || before.updated_at != text("/updatedAt")
        || before.description != text("/description")
        || before.archived != archived;
    change.counts = before.stargazers_count != number("/stargazerCount") || before.forks_count != number("/forkCount");
    change.new_commits = if before.head_sha.is_some() && !head_moved {
        Some(0)
    } else {
        count_before.zip(commit_count).map(|(then, now)| now - then).filter(|n| *n >= 0)
    };
    change
}

/// The row a changed repository is stored as until its detail comes: its earlier row (so that a
/// merge prefers nothing over it until the detail is in), waiting for detail.
fn stub(id: u64, node_id: &str, node: &Value, before: Option<&RepositoryRow>) -> RepositoryRow {
    match before {
        Some(row) => RepositoryRow { detail_fetched_at: None, ..row.clone() },
        None => {
            let full_name = node.get("nameWithOwner").and_then(Value::as_str).unwrap_or_default().to_string();
            let (owner, name) =
                full_name.split_once('/').map(|(o, n)| (o.to_string(), n.to_string())).unwrap_or_default();
            RepositoryRow {
                id,
                node_id: Some(node_id.to_string()),
                full_name,
                owner,
                name,
                fetched_at: "1970-01-01T00:00:00.000Z".into(),
                ..RepositoryRow::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn earlier() -> RepositoryRow {
        RepositoryRow {
            id: 7,
            full_name: "octo/hello".into(),
            pushed_at: Some("2026-01-01T00:00:00Z".into()),
            updated_at: Some("2026-01-02T00:00:00Z".into()),
            stargazers_count: Some(10),
            forks_count: Some(2),
            archived: Some(false),
            head_sha: Some("aaa".into()),
            ..RepositoryRow::default()
        }
    }

    fn node(name: &str, pushed: &str, stars: i64, head: &str, commits: i64) -> Value {
        json!({
            "databaseId": 7, "nameWithOwner": name, "description": null, "isArchived": false,
            "pushedAt": pushed, "updatedAt": "2026-01-02T00:00:00Z", "stargazerCount": stars, "forkCount": 2,
            "defaultBranchRef": { "target": { "oid": head, "history": { "totalCount": commits } } }
        })
    }

    #[test]
    fn an_unchanged_repository_has_no_changes_and_no_new_commits() {
        let change =
            compare(7, &node("octo/hello", "2026-01-01T00:00:00Z", 10, "aaa", 40), Some(&earlier()), None, "d", "now");
        assert!(!change.has_changes(), "{change:?}");
        assert_eq!(change.new_commits, Some(0));
    }

    #[test]
    fn each_signal_says_what_changed() {
        let pushed = node("octo/hello", "2026-01-03T00:00:00Z", 10, "bbb", 43);
        let change = compare(7, &pushed, Some(&earlier()), Some(40), "d", "now");
        assert!(change.pushed && !change.metadata && !change.counts);
        assert_eq!((change.new_commits, change.previous_head_sha.as_deref()), (Some(3), Some("aaa")));
        let starred =
            compare(7, &node("octo/hello", "2026-01-01T00:00:00Z", 11, "aaa", 40), Some(&earlier()), None, "d", "n");
        assert!(starred.counts && !starred.pushed && !starred.metadata);
        let renamed =
            compare(7, &node("octo/bye", "2026-01-01T00:00:00Z", 10, "aaa", 40), Some(&earlier()), None, "d", "n");
        assert!(renamed.renamed && renamed.metadata);
        assert_eq!(renamed.previous_full_name.as_deref(), Some("octo/hello"));
        // A moved head without an earlier count: the new commits are not known.
        let unknown = compare(7, &pushed, Some(&earlier()), None, "d", "now");
        assert_eq!(unknown.new_commits, None);
    }

    #[test]
    fn a_changed_repository_waits_for_detail_as_its_earlier_row() {
        let row = stub(7, "R_1", &json!({}), Some(&earlier()));
        assert_eq!((row.full_name.as_str(), row.detail_fetched_at), ("octo/hello", None));
    }
}
