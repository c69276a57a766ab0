//! Named repositories (`repos:FILE`): looked up 100 per GraphQL query with aliased
//! `repository(owner:, name:)` fields, which return detail directly. A name GitHub cannot
//! resolve is recorded in `missing_repositories`; the others in the batch are kept. The cursor is
//! the number of names done.

use serde_json::Value;

use crate::github::RequestKind;
use crate::store::{Lookup, Store, WorkStatus};

use super::detail::{BATCH, fields, row};
use super::{CrawlError, ItemOutcome, Progress, ShardContext};

/// GraphQL string literal (quotes, backslashes and control characters escaped).
fn literal(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
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

/// Looks up `names` from position `cursor`.
pub(super) async fn crawl(
    context: &ShardContext<'_>,
    store: &mut Store,
    progress: &mut Progress,
    idx: u32,
    names: &[String],
    cursor: Option<&str>,
) -> Result<ItemOutcome, CrawlError> {
    let mut done: usize = cursor.and_then(|c| c.parse().ok()).unwrap_or(0);
    while done < names.len() {
        let batch = &names[done..(done + BATCH).min(names.len())];
        let text = query(batch, &fields(context));
        let lookup = context.github.graphql(&text, Value::Null, RequestKind::RepositoryLookup);
        let Some(response) = progress.before_deadline(lookup).await else {
            return Ok(ItemOutcome::Deadline);
        };
        let response = response?;
        let now = crate::time::now_rfc3339();
        let mut rows = Vec::new();
        let mut seeds = Vec::new();
        let mut missing = Vec::new();
        for (i, name) in batch.iter().enumerate() {
            let alias = format!("r{i}");
            match response.data.get(&alias).filter(|node| !node.is_null()) {
                Some(node) => {
                    let row = row(0, node, &now);
                    seeds.extend(super::streams::seeds(row.id, node, &context.streams, &|_| None));
                    rows.push(row);
                }
                None => {
                    let reason = response
                        .errors
                        .iter()
                        .find(|e| e.path.first().and_then(Value::as_str) == Some(alias.as_str()))
                        .and_then(|e| e.kind.clone())
                        .unwrap_or_else(|| "NOT_FOUND".into())
                        .to_ascii_lowercase();
                    missing.push((name.clone(), reason));
                }
            }
        }
        rows.retain(|r| r.id != 0);
        seeds.retain(|s| s.repo_id != 0);
        done += batch.len();
        let lookup =
            Lookup { rows: &rows, missing: &missing, streams: &seeds, cursor: done, records: &response.records };
        store.commit_lookup(progress.shard(), idx, &lookup)?;
        progress.detail(rows.len() as u64, missing.len() as u64, &response.records);
        if let Some(outcome) = super::drain(context, store, progress, BATCH as u64 - 1).await? {
            return Ok(outcome);
        }
    }
    if let Some(outcome) = super::drain(context, store, progress, 0).await? {
        return Ok(outcome);
    }
    store.set_item_status(progress.shard(), idx, WorkStatus::Completed, None)?;
    Ok(ItemOutcome::Completed)
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
