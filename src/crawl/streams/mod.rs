//! Deep collection: the streams of every detailed repository (pull requests, issues, workflow
//! runs, contributors, commits), run by one engine over declarative [`spec::Spec`]s.
//!
//! The detail query counts each repository's items (free `totalCount`s), so a stream known to be
//! empty never costs a request. GraphQL streams of many repositories share one query ([`batch`]),
//! each connection sized to what is left of it; large ones go on page by page with their cursor.
//! REST streams ([`rest`]) take pages of 100, several repositories at once. Each answer's pages,
//! their streams' cursors and the requests commit in one transaction, so a kill loses at most the
//! query in flight and a resume never duplicates.

mod batch;
pub(crate) mod incremental;
mod rest;
mod rows;
pub mod spec;

use futures_util::future::join_all;
use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use crate::github::{GithubError, RequestKind, RequestRecord};
use crate::store::{PendingStream, StreamPage, StreamSeed, StreamStart, TableRows, Tombstone};

use super::{CrawlError, ItemOutcome, Progress, ShardContext};
use spec::{Api, Known, Spec};

/// REST pages requested at once within one shard (the GitHub layer caps requests in flight).
const REST_PARALLEL: usize = 8;

/// Streams read from the store per round.
const WINDOW: usize = 400;

/// The streams a detail node starts: counted ones sized, known-empty ones done at once, and in an
/// incremental crawl, unchanged ones copied from the earlier database.
pub(crate) fn start(
    context: &ShardContext<'_>,
    repo_id: u64,
    node: &Value,
    into: &mut StreamStart,
) -> Result<(), CrawlError> {
    let facts = spec::facts(node);
    for spec in &context.streams {
        let (expected, empty) = match (spec.known)(&facts) {
            Known::Count(n) => (Some(n), None),
            Known::Empty(why) => (Some(0), Some(why)),
            Known::Unknown => (None, None),
        };
        let mut seed = StreamSeed { repo_id, stream: spec.name, expected, since: None, empty, cursor: None };
        if let (None, Some(previous)) = (empty, context.previous) {
            let previous = previous.lock().expect("previous lock");
            match incremental::decide(&previous, repo_id, &facts, spec)? {
                incremental::Decision::Full => {}
                incremental::Decision::Unchanged => {
                    into.copied.push(incremental::earlier_rows(&previous, repo_id, spec)?);
                    seed.empty = Some("unchanged");
                }
                incremental::Decision::Since(since) => {
                    into.copied.push(incremental::earlier_rows(&previous, repo_id, spec)?);
                    seed.since = Some(since);
                }
            }
        }
        into.seeds.push(seed);
    }
    Ok(())
}

/// Fetches stream pages until at most `keep` streams wait; `Some(Deadline)` if the deadline
/// came first.
pub(super) async fn drain(
    context: &ShardContext<'_>,
    store: &mut crate::store::Store,
    progress: &mut Progress,
    keep: u64,
) -> Result<Option<ItemOutcome>, CrawlError> {
    let mut items = batch::MAX_ITEMS;
    while store.pending_stream_count()? > keep {
        let waiting = store.pending_streams(WINDOW)?;
        let mut moved = false;
        let parts = batch::pick(&waiting, items);
        if !parts.is_empty() {
            match graphql_round(context, store, progress, &parts).await {
                Ok(Some(outcome)) => return Ok(Some(outcome)),
                Ok(None) => moved = true,
                Err(CrawlError::Github(GithubError::GraphqlTooBig { .. })) if items > 1 => {
                    // Too much for GitHub in one go: ask for less, never the same again.
                    items = (parts.iter().map(|p| p.first).sum::<u64>() / 2).max(1);
                    tracing::info!(
                        "{}: a stream query was too big for GitHub; asking for {items} items at most",
                        progress.shard()
                    );
                    continue;
                }
                Err(error) => return Err(error),
            }
        }
        let rest: Vec<&PendingStream> = waiting
            .iter()
            .filter(|p| matches!(spec::by_name(&p.stream).map(|s| &s.api), Some(Api::Rest(_))))
            .take(REST_PARALLEL)
            .collect();
        if !rest.is_empty() {
            if let Some(outcome) = rest_round(context, store, progress, &rest).await? {
                return Ok(Some(outcome));
            }
            moved = true;
        }
        if !moved {
            // Streams that no engine can serve (no node id for GraphQL): nothing to ask.
            return Err(CrawlError::Corrupt {
                path: store.path().to_path_buf(),
                reason: format!("{} stream(s) wait but none can be fetched", waiting.len()),
            });
        }
    }
    Ok(None)
}

/// A tombstone for a repository found gone while its streams were read.
fn tombstone(pending: &PendingStream, reason: String) -> Tombstone {
    Tombstone {
        id: pending.repo_id,
        node_id: pending.node_id.clone(),
        full_name: Some(pending.full_name.clone()),
        reason,
        observed_at: crate::time::now_rfc3339(),
    }
}

/// Rows of `items` for `spec`, with the repository id and `fetched_at` around each.
fn table_rows(spec: &'static Spec, repo_id: u64, items: &[Value], now: &str) -> TableRows {
    let rows = items
        .iter()
        .filter_map(|item| (spec.row)(item))
        .map(|mut row| {
            row.insert(0, SqlValue::Integer(repo_id as i64));
            row.push(SqlValue::Text(now.to_string()));
            row
        })
        .collect();
    TableRows { table: spec.table, columns: spec.columns, rows }
}

/// One batched GraphQL query and its pages.
async fn graphql_round(
    context: &ShardContext<'_>,
    store: &mut crate::store::Store,
    progress: &mut Progress,
    parts: &[batch::Part<'_>],
) -> Result<Option<ItemOutcome>, CrawlError> {
    let text = batch::query(parts);
    let call = context.github.graphql(&text, Value::Null, RequestKind::DeepQuery);
    let Some(response) = progress.before_deadline(call).await else {
        return Ok(Some(ItemOutcome::Deadline));
    };
    let response = response?;
    let now = crate::time::now_rfc3339();
    let mut pages = Vec::new();
    let mut gone = Vec::new();
    for (index, part) in parts.iter().enumerate() {
        let pending = part.pending;
        match batch::answer(&response.data, &response.errors, index, part) {
            batch::Answer::Gone(reason) => gone.push(tombstone(pending, reason)),
            batch::Answer::Missing => pages.push(StreamPage {
                repo_id: pending.repo_id,
                stream: part.spec.name,
                note: Some("empty repository".into()),
                ..StreamPage::default()
            }),
            batch::Answer::Page { items, next } => {
                // An incremental read newest first stops at the first item older than `since`.
                let (items, older) = match (&pending.since, part.connection.filters) {
                    (Some(since), false) => {
                        let fresh = items
                            .iter()
                            .take_while(|item| (part.spec.changed_at)(item).is_none_or(|at| at >= since.as_str()))
                            .count();
                        (&items[..fresh], fresh < items.len())
                    }
                    _ => (items, false),
                };
                pages.push(StreamPage {
                    repo_id: pending.repo_id,
                    stream: part.spec.name,
                    rows: table_rows(part.spec, pending.repo_id, items, &now),
                    cursor: if older { None } else { next },
                    note: None,
                });
            }
        }
    }
    gone.sort_by_key(|t| t.id);
    gone.dedup_by_key(|t| t.id);
    commit(store, progress, &pages, &gone, &response.records)?;
    Ok(None)
}

/// One REST page of each of `waiting`, fetched together.
async fn rest_round(
    context: &ShardContext<'_>,
    store: &mut crate::store::Store,
    progress: &mut Progress,
    waiting: &[&PendingStream],
) -> Result<Option<ItemOutcome>, CrawlError> {
    let fetches = waiting.iter().map(|pending| rest_page(context, pending));
    let Some(results) = progress.before_deadline(join_all(fetches)).await else {
        return Ok(Some(ItemOutcome::Deadline));
    };
    let mut pages = Vec::new();
    let mut gone = Vec::new();
    let mut records = Vec::new();
    let mut failure = None;
    for result in results {
        match result {
            Ok(RestOutcome { page, tombstone, records: spent }) => {
                pages.extend(page);
                gone.extend(tombstone);
                records.extend(spent);
            }
            Err(error) => failure = failure.or(Some(error)),
        }
    }
    // What arrived is kept even when one repository's page failed; the failure fails the item.
    commit(store, progress, &pages, &gone, &records)?;
    match failure {
        Some(error) => Err(error),
        None => Ok(None),
    }
}

/// What one REST page brought.
struct RestOutcome {
    page: Option<StreamPage>,
    tombstone: Option<Tombstone>,
    records: Vec<RequestRecord>,
}

/// Fetches one REST page of one stream.
async fn rest_page(context: &ShardContext<'_>, pending: &PendingStream) -> Result<RestOutcome, CrawlError> {
    let spec = spec::by_name(&pending.stream).expect("pending streams have a spec");
    let Api::Rest(listing) = &spec.api else { unreachable!("only REST streams come here") };
    let corrupt = || CrawlError::Corrupt {
        path: std::path::PathBuf::from(&pending.full_name),
        reason: format!("stream {} has cursor {:?}", pending.stream, pending.cursor),
    };
    let at = rest::Position::parse(pending.cursor.as_deref()).ok_or_else(corrupt)?;
    let url = context.github.url(&rest::path(pending, listing, &at));
    let response = context.github.get(&url, RequestKind::DeepPage, None).await?;
    let done = |note: &str| StreamPage {
        repo_id: pending.repo_id,
        stream: spec.name,
        note: Some(note.to_string()),
        ..StreamPage::default()
    };
    let status = response.status;
    if let Some((_, note)) = listing.empty.iter().find(|(code, _)| *code == status) {
        return Ok(RestOutcome { page: Some(done(note)), tombstone: None, records: response.records });
    }
    match status {
        200 => {}
        404 | 451 => {
            let reason = if status == 404 { "not_found" } else { "unavailable_for_legal_reasons" };
            return Ok(RestOutcome {
                page: None,
                tombstone: Some(tombstone(pending, reason.into())),
                records: response.records,
            });
        }
        _ => {
            let reason = format!("HTTP {status}: {}", crate::github::github_message(&response.body));
            return Err(response.fail(GithubError::Unexpected { url, reason }).into());
        }
    }
    let body: Value = response.json()?;
    let Some((items, total)) = rest::items(&body, listing) else {
        let reason = "the answer is not the listing it should be".to_string();
        return Err(response.fail(GithubError::Unexpected { url, reason }).into());
    };
    let oldest = items.last().and_then(|item| (spec.changed_at)(item)).map(str::to_string);
    let next = rest::next(&at, listing, response.next_link().is_some(), total, oldest.as_deref())
        .map_err(|reason| GithubError::Unexpected { url: url.clone(), reason })?;
    let now = crate::time::now_rfc3339();
    let page = StreamPage {
        repo_id: pending.repo_id,
        stream: spec.name,
        rows: table_rows(spec, pending.repo_id, items, &now),
        cursor: next.map(|n| n.cursor()),
        note: None,
    };
    Ok(RestOutcome { page: Some(page), tombstone: None, records: response.records })
}

/// Commits pages, tombstones and records, and counts them.
fn commit(
    store: &mut crate::store::Store,
    progress: &mut Progress,
    pages: &[StreamPage],
    gone: &[Tombstone],
    records: &[RequestRecord],
) -> Result<(), CrawlError> {
    store.commit_streams(progress.shard(), pages, gone, records)?;
    let rows: u64 = pages.iter().map(|p| p.rows.rows.len() as u64).sum();
    progress.streams(rows, gone.len() as u64, records);
    Ok(())
}
