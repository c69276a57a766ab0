//! Known repositories, looked up with their detail, as many per GraphQL query as one point buys: by name (`repos:FILE`,
//! aliased `repository(owner:, name:)` fields) or by node id (`db:FILE`, `nodes(ids:)`). A name
//! GitHub cannot resolve is recorded in `missing_repositories`, a node id that comes back null
//! becomes a tombstone; the others in the batch are kept. The cursor is the number done. Their
//! streams follow, like those of listed repositories.

use serde_json::Value;

use crate::github::RequestKind;
use crate::github::graphql::literal;
use crate::store::{Lookup, Store, Tombstone};

use super::detail::{fields, row};
use super::{CrawlError, ItemOutcome, Progress, ShardContext, packing};

/// What an item looks up.
#[derive(Clone, Copy, Debug)]
pub(super) enum Wanted<'a> {
    /// `owner/name`s.
    Names(&'a [String]),
    /// `(id, node id)`s.
    Nodes(&'a [(u64, String)]),
}

impl Wanted<'_> {
    fn len(&self) -> usize {
        match self {
            Wanted::Names(names) => names.len(),
            Wanted::Nodes(nodes) => nodes.len(),
        }
    }
}

/// The lookup query for a batch of `owner/name`s, aliased `r0`, `r1`, ...
fn query(names: &[String], fields: &str) -> String {
    let mut text = String::from("query {\n  rateLimit { cost remaining resetAt limit }\n");
    for (i, name) in names.iter().enumerate() {
        let (owner, repo) = name.split_once('/').unwrap_or((name, ""));
        text.push_str(&format!(
            "  r{i}: repository(owner: {}, name: {}) {{ {fields} }}\n",
            literal(owner),
            literal(repo)
        ));
    }
    text.push('}');
    text
}

/// What one batch found.
#[derive(Default)]
struct Found {
    rows: Vec<crate::store::RepositoryRow>,
    streams: crate::store::StreamStart,
    missing: Vec<(String, String)>,
    gone: Vec<Tombstone>,
}

impl Found {
    fn add(&mut self, context: &ShardContext<'_>, node: &Value, now: &str) -> Result<(), CrawlError> {
        let row = row(0, node, now);
        if row.id == 0 {
            return Ok(());
        }
        super::streams::start(context, row.id, node, &mut self.streams)?;
        self.rows.push(row);
        Ok(())
    }
}

/// The reason GitHub gives for the name aliased `alias` (`NOT_FOUND` when it says nothing).
fn reason(errors: &[crate::github::graphql::GraphqlError], alias: &str) -> String {
    errors
        .iter()
        .find(|e| e.path.first().and_then(Value::as_str) == Some(alias))
        .and_then(|e| e.kind.clone())
        .unwrap_or_else(|| "NOT_FOUND".into())
        .to_ascii_lowercase()
}

/// Looks up `wanted` from position `cursor`.
pub(super) async fn crawl(
    context: &ShardContext<'_>,
    store: &mut Store,
    progress: &mut Progress,
    idx: u32,
    wanted: Wanted<'_>,
    cursor: Option<&str>,
) -> Result<ItemOutcome, CrawlError> {
    let mut done: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
    let fields = fields(context);
    while done < wanted.len() {
        let end = (done + context.packing.batch(&fields)).min(wanted.len());
        let (text, variables, kind) = match wanted {
            Wanted::Names(names) => (query(&names[done..end], &fields), Value::Null, RequestKind::RepositoryLookup),
            Wanted::Nodes(nodes) => {
                let ids: Vec<&str> = nodes[done..end].iter().map(|(_, node)| node.as_str()).collect();
                (packing::nodes_query(&fields, ids.len()), packing::variables(&ids), RequestKind::RepositoryDetail)
            }
        };
        let lookup = context.github.graphql(&text, variables, kind);
        let Some(response) = progress.before_deadline(lookup).await else {
            return Ok(ItemOutcome::Deadline);
        };
        let mut response = response?;
        context.packing.check_cost(progress.shard(), end - done, &fields, &response.records);
        let now = crate::time::now_rfc3339();
        let mut found = Found::default();
        match wanted {
            Wanted::Names(names) => {
                for (i, name) in names[done..end].iter().enumerate() {
                    let alias = format!("r{i}");
                    match response.data.get(&alias).filter(|node| !node.is_null()) {
                        Some(node) => found.add(context, node, &now)?,
                        None => {
                            let why = reason(&response.errors, &alias);
                            found.missing.push((name.clone(), why));
                        }
                    }
                }
            }
            Wanted::Nodes(nodes) => {
                let answers = super::detail::answered_nodes(context, &mut response, end - done)?;
                for (i, (id, node_id)) in nodes[done..end].iter().enumerate() {
                    match answers.get(i).filter(|node| !node.is_null()) {
                        Some(node) => found.add(context, node, &now)?,
                        None => found.gone.push(Tombstone {
                            id: *id,
                            node_id: Some(node_id.clone()),
                            full_name: None,
                            reason: super::detail::reason(&response.errors, i),
                            observed_at: now.clone(),
                        }),
                    }
                }
            }
        }
        done = end;
        let lookup = Lookup {
            rows: &found.rows,
            missing: &found.missing,
            gone: &found.gone,
            streams: &found.streams,
            cursor: done,
            records: &response.records,
        };
        store.commit_lookup(progress.shard(), idx, &lookup)?;
        let absent = (found.missing.len() + found.gone.len()) as u64;
        progress.detail(found.rows.len() as u64, absent, &response.records);
        if let Some(outcome) = super::drain(context, store, progress, super::detail::batch(context) - 1).await? {
            return Ok(outcome);
        }
    }
    super::finish(context, store, progress, idx).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_into_aliases() {
        let text = query(&["octo/hello".to_string(), "a-b/we\"ird".to_string()], "id");
        assert!(text.contains(r#"r0: repository(owner: "octo", name: "hello")"#), "{text}");
        assert!(text.contains(r#"r1: repository(owner: "a-b", name: "we\"ird")"#), "{text}");
        assert!(text.starts_with("query {\n  rateLimit"));
    }
}
