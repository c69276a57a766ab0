//! Repository detail through GraphQL: rows waiting for detail (`detail_fetched_at IS NULL`) are
//! fetched by node id, as many per query as one point buys (149: see `packing`). A node that comes
//! back `null` with an error (deleted since it was listed, blocked, private now) becomes a
//! tombstone; the others are stored. Rows wait in
//! the database, not in memory, so a kill between listing and detail loses nothing.

use serde_json::Value;

use crate::github::RequestKind;
use crate::github::graphql::GraphqlError;
use crate::store::{RepositoryRow, Store, Tombstone};

use super::{CrawlError, ItemOutcome, Progress, ShardContext, packing};

/// The repository fields every detail query asks for (DESIGN.md §5's repository columns).
pub(super) const FIELDS: &str = "id databaseId nameWithOwner name owner { login } description
      primaryLanguage { name }
      repositoryTopics(first: 20) { nodes { topic { name } } }
      stargazerCount forkCount watchers { totalCount } issues(states: OPEN) { totalCount }
      licenseInfo { spdxId key }
      defaultBranchRef { name target { oid } }
      isFork isArchived diskUsage createdAt updatedAt pushedAt";

/// The head of the default branch in [`FIELDS`].
const HEAD: &str = "defaultBranchRef { name target { oid } }";

/// The repository fields a crawl asks for: [`FIELDS`], and the counts that size its streams when
/// it collects any.
pub(super) fn fields(context: &ShardContext<'_>) -> String {
    let mut fields = FIELDS.to_string();
    if context.code.is_some() {
        fields = fields.replace(HEAD, super::code::HEAD_WITH_DATE);
    }
    if !context.streams.is_empty() {
        fields.push_str(&format!("\n      {}", super::streams::spec::DETAIL_COUNTS));
        if context.previous.is_some() {
            fields.push_str(&format!("\n      {}", super::streams::spec::DETAIL_SIGNALS));
        }
    }
    fields
}

/// Repositories per detail query (and so how many wait before one is sent): what one point buys.
pub(super) fn batch(context: &ShardContext<'_>) -> u64 {
    context.packing.batch(&fields(context)) as u64
}

/// Fetches detail until at most `keep` rows wait (full batches only, unless `keep` is 0).
/// `None` when done, `Some(Deadline)` when the deadline came first.
pub(super) async fn drain(
    context: &ShardContext<'_>,
    store: &mut Store,
    progress: &mut Progress,
    keep: u64,
) -> Result<Option<ItemOutcome>, CrawlError> {
    let fields = fields(context);
    while store.pending_detail_count()? > keep {
        let batch = store.pending_detail(context.packing.batch(&fields))?;
        let ids: Vec<&str> = batch.iter().filter_map(|(_, node)| node.as_deref()).collect();
        let query = packing::nodes_query(&fields, ids.len());
        let query = context.github.graphql(&query, packing::variables(&ids), RequestKind::RepositoryDetail);
        let Some(response) = progress.before_deadline(query).await else {
            return Ok(Some(ItemOutcome::Deadline));
        };
        let mut response = response?;
        let nodes = answered_nodes(context, &mut response, ids.len())?;
        context.packing.check_cost(progress.shard(), ids.len(), &fields, &response.records);
        let now = crate::time::now_rfc3339();
        let mut rows = Vec::with_capacity(batch.len());
        let mut streams = crate::store::StreamStart::default();
        let mut tombstones = Vec::new();
        let mut with_node = 0;
        for (id, node_id) in &batch {
            let Some(node_id) = node_id else {
                // Nothing to ask GraphQL with: keep the listing fields, stop waiting for detail.
                tombstones.push(Tombstone {
                    id: *id,
                    node_id: None,
                    full_name: None,
                    reason: "no_node_id".into(),
                    observed_at: now.clone(),
                });
                continue;
            };
            let index = with_node;
            with_node += 1;
            match nodes.get(index).filter(|node| !node.is_null()) {
                Some(node) => {
                    let row = row(*id, node, &now);
                    super::streams::start(context, row.id, node, &mut streams)?;
                    super::code::start(context, row.id, node, &mut streams)?;
                    rows.push(row);
                }
                None => tombstones.push(Tombstone {
                    id: *id,
                    node_id: Some(node_id.clone()),
                    full_name: None,
                    reason: reason(&response.errors, index),
                    observed_at: now.clone(),
                }),
            }
        }
        store.commit_detail(progress.shard(), &rows, &tombstones, &streams, &response.records)?;
        progress.detail(rows.len() as u64, tombstones.len() as u64, &response.records);
    }
    Ok(None)
}

/// The nodes of a packed `nodes(ids:)` answer, one per id asked (`null` for a gone one); any
/// other number is an error, and the answer's requests go to the failed-request ledger.
pub(super) fn answered_nodes(
    context: &ShardContext<'_>,
    response: &mut crate::github::graphql::GraphqlResponse,
    asked: usize,
) -> Result<Vec<Value>, CrawlError> {
    match packing::answers(&response.data, asked) {
        Some(nodes) => Ok(nodes),
        None => {
            crate::github::ledger::spill(std::mem::take(&mut response.records));
            Err(crate::github::GithubError::Unexpected {
                url: context.github.graphql_url().to_string(),
                reason: format!("asked for {asked} nodes, got a different number"),
            }
            .into())
        }
    }
}

/// Why node `index` came back null, from the errors array (`not_found` when GitHub says nothing).
pub(super) fn reason(errors: &[GraphqlError], index: usize) -> String {
    errors
        .iter()
        .find(|e| packing::error_index(e) == Some(index))
        .and_then(|e| e.kind.clone())
        .unwrap_or_else(|| "NOT_FOUND".into())
        .to_ascii_lowercase()
}

/// A repository row from a GraphQL `Repository` node.
pub(super) fn row(id: u64, node: &Value, now: &str) -> RepositoryRow {
    let text = |pointer: &str| node.pointer(pointer).and_then(Value::as_str).map(str::to_string);
    let number = |pointer: &str| node.pointer(pointer).and_then(Value::as_i64);
    let flag = |pointer: &str| node.pointer(pointer).and_then(Value::as_bool);
    let full_name = text("/nameWithOwner").unwrap_or_default();
    let (owner, name) = match full_name.split_once('/') {
        Some((owner, name)) => (owner.to_string(), name.to_string()),
        None => (text("/owner/login").unwrap_or_default(), text("/name").unwrap_or_default()),
    };
    let topics: Vec<&str> = node
        .pointer("/repositoryTopics/nodes")
        .and_then(Value::as_array)
        .map(|nodes| nodes.iter().filter_map(|n| n.pointer("/topic/name").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    RepositoryRow {
        id: node.get("databaseId").and_then(Value::as_u64).unwrap_or(id),
        node_id: text("/id"),
        full_name,
        owner,
        name,
        description: text("/description"),
        language: text("/primaryLanguage/name"),
        topics: Some(serde_json::to_string(&topics).expect("topics serialize")),
        stargazers_count: number("/stargazerCount"),
        forks_count: number("/forkCount"),
        open_issues_count: number("/issues/totalCount"),
        size: number("/diskUsage"),
        default_branch: text("/defaultBranchRef/name"),
        fork: flag("/isFork"),
        archived: flag("/isArchived"),
        license: text("/licenseInfo/spdxId").or_else(|| text("/licenseInfo/key")),
        created_at: text("/createdAt"),
        updated_at: text("/updatedAt"),
        pushed_at: text("/pushedAt"),
        fetched_at: now.to_string(),
        etag: None,
        watchers_count: number("/watchers/totalCount"),
        detail_fetched_at: Some(now.to_string()),
        head_sha: text("/defaultBranchRef/target/oid"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn code_asks_for_the_head_commits_date_in_the_same_selection() {
        assert!(FIELDS.contains(HEAD));
        assert!(super::super::code::HEAD_WITH_DATE.starts_with(&HEAD[..HEAD.len() - 4]));
    }

    #[test]
    fn a_graphql_node_becomes_a_row() {
        let node = json!({
            "__typename": "Repository", "id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "databaseId": 1296269,
            "nameWithOwner": "octocat/Hello-World", "name": "Hello-World", "owner": { "login": "octocat" },
            "description": null, "primaryLanguage": { "name": "Rust" },
            "repositoryTopics": { "nodes": [{ "topic": { "name": "cli" } }, { "topic": { "name": "github" } }] },
            "stargazerCount": 80, "forkCount": 9, "watchers": { "totalCount": 4 }, "issues": { "totalCount": 2 },
            "licenseInfo": { "spdxId": "MIT", "key": "mit" }, "defaultBranchRef": null,
            "isFork": false, "isArchived": true, "diskUsage": 108,
            "createdAt": "2011-01-26T19:01:12Z", "updatedAt": "2011-01-26T19:14:43Z", "pushedAt": "2011-01-26T19:06:43Z"
        });
        let row = row(1, &node, "now");
        assert_eq!((row.id, row.owner.as_str(), row.name.as_str()), (1296269, "octocat", "Hello-World"));
        assert_eq!(row.topics.as_deref(), Some(r#"["cli","github"]"#));
        assert_eq!(
            (row.stargazers_count, row.watchers_count, row.open_issues_count, row.size),
            (Some(80), Some(4), Some(2), Some(108))
        );
        assert_eq!(
            (row.language.as_deref(), row.license.as_deref(), row.default_branch),
            (Some("Rust"), Some("MIT"), None)
        );
        assert_eq!((row.fork, row.archived, row.detail_fetched_at.as_deref()), (Some(false), Some(true), Some("now")));
    }

    #[test]
    fn null_nodes_take_their_reason_from_the_errors() {
        let errors: Vec<GraphqlError> = serde_json::from_value(json!([
            { "type": "NOT_FOUND", "path": ["nodes", 1], "message": "Could not resolve" },
            { "type": "FORBIDDEN", "path": ["nodes", 2], "message": "blocked" }
        ]))
        .unwrap();
        assert_eq!(reason(&errors, 1), "not_found");
        assert_eq!(reason(&errors, 2), "forbidden");
        assert_eq!(reason(&errors, 0), "not_found");
    }
}
