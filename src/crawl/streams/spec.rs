//! The streams as data: for each kind of entity, its table and columns, where its items come
//! from (a GraphQL connection of the repository, batched across repositories, or a REST listing
//! in pages of 100), what the detail query already tells about it (how many items, whether it can
//! have any), and how one item becomes a row. A new entity is a new [`Spec`], not a new loop.

use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use super::rows;
use crate::plan::Collect;

/// Where a stream's items come from.
#[derive(Debug)]
pub enum Api {
    /// A connection of the `Repository` node: `field(first:, after:, args)` with `nodes`.
    Graphql(Connection),
    /// A REST listing under `/repos/{owner}/{name}`.
    Rest(Listing),
}

/// A GraphQL connection of a repository.
#[derive(Debug)]
pub struct Connection {
    /// The selection that leads to the connection, `{}` standing for the connection itself
    /// (`{}` for a direct field, `defaultBranchRef { target { ... on Commit { {} } } }`).
    pub wrap: &'static str,
    /// The connection field.
    pub field: &'static str,
    /// Arguments besides `first`/`after` (a full crawl).
    pub args: &'static str,
    /// Arguments of an incremental crawl, `{since}` standing for the time (the newest first, so
    /// the crawl can stop at the first item older than `since` when the connection cannot filter).
    pub since_args: &'static str,
    /// True when `since_args` filters by itself; false when the crawl stops at older items.
    pub filters: bool,
    /// The selection of each node.
    pub nodes: &'static str,
    /// Requests each item adds under GitHub's formula (a nested connection per item: labels).
    pub per_item: u64,
    /// JSON pointer from the repository node to the connection object.
    pub pointer: &'static str,
}

/// A REST listing of a repository.
#[derive(Debug)]
pub struct Listing {
    /// The path after `/repos/{owner}/{name}` (`/contributors`).
    pub path: &'static str,
    /// The array's key in an object answer (`workflow_runs`); `None` for a plain array.
    pub items: Option<&'static str>,
    /// The query parameter that takes an incremental lower bound (`created` as `>=TIME`).
    pub since_param: Option<&'static str>,
    /// Answers that mean "nothing here" (an empty repository's 204 or 409), with the note kept.
    pub empty: &'static [(u16, &'static str)],
    /// GitHub's cap on the results one query reaches (the runs listing: 1,000), past which the
    /// crawl slices by creation time.
    pub cap: Option<u64>,
}

/// What the detail query tells about a repository's streams.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// It has a default branch (an empty repository has no commits, contributors or runs).
    pub has_branch: bool,
    /// Issues are enabled.
    pub has_issues: bool,
    /// Issues (without pull requests), all states.
    pub issues: Option<u64>,
    /// Pull requests, all states.
    pub pulls: Option<u64>,
    /// Commits of the default branch.
    pub commits: Option<u64>,
    /// The newest `updatedAt` of the issues (incremental crawls only).
    pub newest_issue: Option<String>,
    /// The newest `updatedAt` of the pull requests (incremental crawls only).
    pub newest_pull: Option<String>,
    /// The last push (`pushedAt`).
    pub pushed: Option<String>,
}

/// One stream.
#[derive(Debug)]
pub struct Spec {
    /// The `--collect` word.
    pub collect: Collect,
    /// The name in `stream_state`.
    pub name: &'static str,
    /// The table.
    pub table: &'static str,
    /// Columns in bind order: `repo_id`, the entity key, the rest, `fetched_at` last.
    pub columns: &'static [&'static str],
    /// Where items come from.
    pub api: Api,
    /// How many items the detail query counted, or why there are none.
    pub known: fn(&Facts) -> Known,
    /// One item as a row (without `repo_id` and `fetched_at`); `None` skips it (an anonymous
    /// contributor has no account to key it by).
    pub row: fn(&Value) -> Option<Vec<SqlValue>>,
    /// The item's time compared with `since` when the connection cannot filter (`updatedAt`).
    pub changed_at: fn(&Value) -> Option<&str>,
    /// An aggregate over one repository's stored rows giving the time an incremental crawl reads
    /// from: the newest change an earlier database holds (or, for runs, the oldest run that was
    /// still going). `None`: re-read whole when it changed.
    pub since_sql: Option<&'static str>,
    /// What tells that the stream changed since an earlier crawl.
    pub changes_with: Signal,
}

/// The signal an incremental crawl reads (in the detail query) to skip unchanged streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// The newest `updatedAt` of the issues.
    NewestIssue,
    /// The newest `updatedAt` of the pull requests.
    NewestPull,
    /// A push (`pushedAt`).
    Push,
    /// A push or a pull request (workflow runs follow pushes and pull requests).
    PushOrPulls,
}

/// What is known of a stream before fetching it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Known {
    /// This many items (0 means nothing to fetch).
    Count(u64),
    /// Nothing to fetch, and why.
    Empty(&'static str),
    /// Unknown: fetch to see.
    Unknown,
}

const ISSUE_NODES: &str = "databaseId number title state stateReason author { login ... on User { databaseId } } \
     createdAt updatedAt closedAt labels(first: 100) { totalCount nodes { name } } comments { totalCount }";

const PULL_NODES: &str = "databaseId number title state isDraft author { login ... on User { databaseId } } \
     createdAt updatedAt closedAt mergedAt mergeCommit { oid } baseRefName headRefName \
     headRepository { databaseId } labels(first: 100) { totalCount nodes { name } } \
     additions deletions changedFiles comments { totalCount } reviews { totalCount }";

const COMMIT_NODES: &str = "oid messageHeadline \
     author { name date user { login databaseId } } committer { name date user { login databaseId } }";

/// Every stream, in `--collect` order.
pub static STREAMS: &[Spec] = &[
    Spec {
        collect: Collect::Pulls,
        name: "pulls",
        table: "pull_requests",
        columns: &[
            "repo_id",
            "pr_id",
            "number",
            "title",
            "state",
            "draft",
            "author_id",
            "author_login",
            "created_at",
            "updated_at",
            "closed_at",
            "merged_at",
            "merge_commit_sha",
            "base_ref",
            "head_ref",
            "head_repo_id",
            "labels",
            "additions",
            "deletions",
            "changed_files",
            "comments",
            "review_count",
            "fetched_at",
        ],
        api: Api::Graphql(Connection {
            wrap: "{}",
            field: "pullRequests",
            args: "orderBy: {field: CREATED_AT, direction: ASC}",
            since_args: "orderBy: {field: UPDATED_AT, direction: DESC}",
            filters: false,
            nodes: PULL_NODES,
            per_item: 1,
            pointer: "/pullRequests",
        }),
        known: |facts| match facts.pulls {
            Some(0) => Known::Empty("none"),
            Some(n) => Known::Count(n),
            None => Known::Unknown,
        },
        row: rows::pull_request,
        changed_at: |item| item.get("updatedAt").and_then(Value::as_str),
        since_sql: Some("max(updated_at)"),
        changes_with: Signal::NewestPull,
    },
    Spec {
        collect: Collect::Issues,
        name: "issues",
        table: "issues",
        columns: &[
            "repo_id",
            "issue_id",
            "number",
            "title",
            "state",
            "state_reason",
            "author_id",
            "author_login",
            "created_at",
            "updated_at",
            "closed_at",
            "labels",
            "comments",
            "fetched_at",
        ],
        api: Api::Graphql(Connection {
            wrap: "{}",
            field: "issues",
            args: "orderBy: {field: CREATED_AT, direction: ASC}",
            since_args: "orderBy: {field: UPDATED_AT, direction: DESC}, filterBy: {since: \"{since}\"}",
            filters: true,
            nodes: ISSUE_NODES,
            per_item: 1,
            pointer: "/issues",
        }),
        known: |facts| match (facts.has_issues, facts.issues) {
            (false, _) => Known::Empty("issues disabled"),
            (true, Some(0)) => Known::Empty("none"),
            (true, Some(n)) => Known::Count(n),
            (true, None) => Known::Unknown,
        },
        row: rows::issue,
        changed_at: |item| item.get("updatedAt").and_then(Value::as_str),
        since_sql: Some("max(updated_at)"),
        changes_with: Signal::NewestIssue,
    },
    Spec {
        collect: Collect::Runs,
        name: "runs",
        table: "ci_runs",
        columns: &[
            "repo_id",
            "run_id",
            "workflow_id",
            "workflow_name",
            "event",
            "status",
            "conclusion",
            "head_sha",
            "head_branch",
            "run_attempt",
            "created_at",
            "started_at",
            "updated_at",
            "duration_seconds",
            "fetched_at",
        ],
        api: Api::Rest(Listing {
            path: "/actions/runs",
            items: Some("workflow_runs"),
            since_param: Some("created"),
            empty: &[],
            cap: Some(1000),
        }),
        known: |facts| if facts.has_branch { Known::Unknown } else { Known::Empty("empty repository") },
        row: rows::run,
        changed_at: |item| item.get("created_at").and_then(Value::as_str),
        since_sql: Some("coalesce(min(CASE WHEN status IS NOT 'completed' THEN created_at END), max(created_at))"),
        changes_with: Signal::PushOrPulls,
    },
    Spec {
        collect: Collect::Contributors,
        name: "contributors",
        table: "contributors",
        columns: &[
            "repo_id",
            "user_id",
            "login",
            "contributions",
            "first_contribution_at",
            "last_contribution_at",
            "fetched_at",
        ],
        api: Api::Rest(Listing {
            path: "/contributors",
            items: None,
            since_param: None,
            empty: &[(204, "empty repository")],
            cap: None,
        }),
        known: |facts| if facts.has_branch { Known::Unknown } else { Known::Empty("empty repository") },
        row: rows::contributor,
        changed_at: |_| None,
        since_sql: None,
        changes_with: Signal::Push,
    },
    Spec {
        collect: Collect::Commits,
        name: "commits",
        table: "commits",
        columns: &[
            "repo_id",
            "commit_sha",
            "author_id",
            "author_login",
            "author_name",
            "author_date",
            "committer_id",
            "committer_login",
            "committer_name",
            "committer_date",
            "message_headline",
            "fetched_at",
        ],
        api: Api::Graphql(Connection {
            wrap: "deepHead: defaultBranchRef { target { ... on Commit { {} } } }",
            field: "history",
            args: "",
            since_args: "since: \"{since}\"",
            filters: true,
            nodes: COMMIT_NODES,
            per_item: 0,
            pointer: "/deepHead/target/history",
        }),
        known: |facts| match (facts.has_branch, facts.commits) {
            (false, _) => Known::Empty("empty repository"),
            (true, Some(0)) => Known::Empty("none"),
            (true, Some(n)) => Known::Count(n),
            (true, None) => Known::Unknown,
        },
        row: rows::commit,
        changed_at: |item| item.pointer("/committer/date").and_then(Value::as_str),
        since_sql: Some("max(committer_date)"),
        changes_with: Signal::Push,
    },
];

/// The spec of a stream by name.
pub fn by_name(name: &str) -> Option<&'static Spec> {
    STREAMS.iter().find(|spec| spec.name == name)
}

/// The specs a collect list asks for.
pub fn requested(collect: &[Collect]) -> Vec<&'static Spec> {
    STREAMS.iter().filter(|spec| collect.contains(&spec.collect)).collect()
}

/// The fields the detail query adds when streams are collected: the counts that size (or skip)
/// each stream. Connections asked only for `totalCount` cost nothing under GitHub's formula.
pub const DETAIL_COUNTS: &str = "hasIssuesEnabled deepIssues: issues { totalCount } \
     deepPulls: pullRequests { totalCount } \
     deepCount: defaultBranchRef { target { ... on Commit { history { totalCount } } } }";

/// The fields an incremental crawl adds to the detail query: the newest issue and pull request
/// (one request per repository and connection under GitHub's formula; pushes show in `pushedAt`).
pub const DETAIL_SIGNALS: &str = "deepNewestIssue: issues(first: 1, orderBy: {field: UPDATED_AT, direction: DESC}) { nodes { updatedAt } } \
     deepNewestPull: pullRequests(first: 1, orderBy: {field: UPDATED_AT, direction: DESC}) { nodes { updatedAt } }";

/// The facts a detail node (with [`DETAIL_COUNTS`]) tells.
pub fn facts(node: &Value) -> Facts {
    let count = |pointer: &str| node.pointer(pointer).and_then(Value::as_u64);
    let text = |pointer: &str| node.pointer(pointer).and_then(Value::as_str).map(str::to_string);
    Facts {
        has_branch: node.get("defaultBranchRef").is_some_and(|v| !v.is_null()),
        has_issues: node.get("hasIssuesEnabled").and_then(Value::as_bool).unwrap_or(true),
        issues: count("/deepIssues/totalCount"),
        pulls: count("/deepPulls/totalCount"),
        commits: count("/deepCount/target/history/totalCount"),
        newest_issue: text("/deepNewestIssue/nodes/0/updatedAt"),
        newest_pull: text("/deepNewestPull/nodes/0/updatedAt"),
        pushed: text("/pushedAt"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spec_starts_with_its_key_and_ends_with_fetched_at() {
        for spec in STREAMS {
            assert_eq!(spec.columns[0], "repo_id", "{}", spec.name);
            assert_eq!(*spec.columns.last().unwrap(), "fetched_at", "{}", spec.name);
            assert!(crate::store::ENTITY_TABLES.contains(&spec.table), "{}", spec.name);
            assert_eq!(by_name(spec.name).map(|s| s.table), Some(spec.table));
        }
    }

    #[test]
    fn counts_skip_what_is_known_empty() {
        let node = serde_json::json!({
            "defaultBranchRef": null, "hasIssuesEnabled": false,
            "deepIssues": { "totalCount": 3 }, "deepPulls": { "totalCount": 0 }, "deepCount": null
        });
        let facts = facts(&node);
        let known: Vec<Known> = STREAMS.iter().map(|s| (s.known)(&facts)).collect();
        assert_eq!(
            known,
            [
                Known::Empty("none"),
                Known::Empty("issues disabled"),
                Known::Empty("empty repository"),
                Known::Empty("empty repository"),
                Known::Empty("empty repository")
            ]
        );
        let full = Facts {
            has_branch: true,
            has_issues: true,
            issues: Some(7),
            pulls: Some(2),
            commits: Some(40),
            ..Facts::default()
        };
        let known: Vec<Known> = STREAMS.iter().map(|s| (s.known)(&full)).collect();
        assert_eq!(known, [Known::Count(2), Known::Count(7), Known::Unknown, Known::Unknown, Known::Count(40)]);
    }
}
