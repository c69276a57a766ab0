//! Walks `GET /repositories?since=` over one id range. The cursor is the `since` of the next
//! page, taken from the `Link: rel="next"` header (never inferred from a short page). Each page
//! is requested with the ETag stored for it (in this shard or a previous database); a 304 costs
//! nothing and stands in for the page. While the detail of one page's repositories is fetched,
//! the next page is already on its way (latency, not budget, is what a shard waits on).

use crate::github::models::MinimalRepository;
use crate::github::{ApiResponse, GitHub, GithubError, RequestKind};
use crate::store::{EtagRow, Page, RepositoryRow, Store, WorkStatus};

use super::{CrawlError, ItemOutcome, Progress, ShardContext, detail};

/// Crawls `from <= id < to` starting after `cursor` (the `since` to ask for next).
pub(super) async fn crawl(
    context: &ShardContext<'_>,
    store: &mut Store,
    progress: &mut Progress,
    (idx, from, to): (u32, u64, u64),
    cursor: Option<&str>,
) -> Result<ItemOutcome, CrawlError> {
    let store_path = store.path().to_path_buf();
    let corrupt = |text: &str| CrawlError::Corrupt {
        path: store_path.clone(),
        reason: format!("work item {idx} has cursor `{text}`, expected a repository id"),
    };
    let mut since = match cursor {
        Some(text) => text.parse::<u64>().map_err(|_| corrupt(text))?,
        None => from.saturating_sub(1),
    };
    let last_id = to - 1;
    // The next page, fetched while the last one's detail was (its `since`, stored ETag, answer).
    let mut ahead: Option<(u64, Option<EtagRow>, Listed)> = None;
    while since < last_id {
        let path = format!("/repositories?since={since}");
        let url = context.github.url(&path);
        let (known, fetched) = match ahead.take() {
            Some((at, known, fetched)) if at == since => (known, fetched),
            _ => {
                let known = known_etag(context, store, &path)?;
                let fetch = fetch(context.github, &url, known.as_ref());
                let Some(fetched) = progress.before_deadline(fetch).await else {
                    return Ok(ItemOutcome::Deadline);
                };
                (known, fetched)
            }
        };
        let (response, items) = fetched?;
        let (rows, next_since, newest_seen, etag) = match (response.status, items, known) {
            (200, Some(items), _) => {
                let next_since = match response.next_link() {
                    Some(link) => Some(crate::github::link::query_number(&link, "since").ok_or_else(|| {
                        GithubError::Unexpected {
                            url: url.clone(),
                            reason: format!("the next link `{link}` has no numeric since"),
                        }
                    })?),
                    None => None,
                };
                let fetched_at = crate::time::now_rfc3339();
                let rows: Vec<RepositoryRow> = items
                    .iter()
                    .filter(|r| r.id > since && r.id >= from && r.id < to)
                    .map(|r| super::paged::listing_row(r, &fetched_at))
                    .collect();
                let newest_seen = items.iter().map(|r| r.id).max().unwrap_or(since);
                let etag = response.etag().map(|etag| EtagRow {
                    path: path.clone(),
                    etag,
                    cursor_after: next_since.map(|n| n.to_string()),
                    ids: items.iter().map(|r| r.id).collect(),
                });
                (rows, next_since, newest_seen, etag)
            }
            (304, _, Some(known)) => {
                let next_since =
                    known.cursor_after.as_deref().map(|c| c.parse::<u64>().map_err(|_| corrupt(c))).transpose()?;
                let rows = unchanged_rows(context, store, &known, (since, from, to))?;
                let newest_seen = known.ids.iter().copied().max().unwrap_or(since);
                (rows, next_since, newest_seen, Some(known))
            }
            (status, _, _) => {
                let reason = format!("HTTP {status} (is GITHUB_API_URL a GitHub REST API?)");
                return Err(response.fail(GithubError::Unexpected { url, reason }).into());
            }
        };
        if let Some(next) = next_since
            && next <= since
        {
            return Err(GithubError::Unexpected {
                url,
                reason: format!("the next link goes back from {since} to {next}"),
            }
            .into());
        }
        let next = next_since.unwrap_or(newest_seen.max(since));
        let listing_done = next_since.is_none() || next >= last_id || newest_seen >= last_id;
        // The item completes only once its detail is stored too (below).
        let cursor = if listing_done { last_id.max(next) } else { next };
        let page = Page {
            rows: &rows,
            cursor: &cursor.to_string(),
            completed: listing_done && !context.detail,
            records: &response.records,
            etag: etag.as_ref(),
            streams: None,
        };
        store.commit_page(progress.shard(), idx, &page)?;
        progress.page(rows.len() as u64, &response.records, || {
            let percent = (next.clamp(from, to) - from) as f64 * 100.0 / (to - from) as f64;
            format!("at id {next} of {from}..{to} ({percent:.1}%)")
        });
        if context.detail {
            let keep = detail::batch(context) - 1;
            if listing_done {
                if let Some(outcome) = super::drain(context, store, progress, keep).await? {
                    return Ok(outcome);
                }
            } else {
                // The next page travels while the detail queries do.
                let next_path = format!("/repositories?since={next}");
                let next_known = known_etag(context, store, &next_path)?;
                let next_url = context.github.url(&next_path);
                let prefetch =
                    super::progress::within(progress.deadline(), fetch(context.github, &next_url, next_known.as_ref()));
                let (drained, prefetched) = tokio::join!(super::drain(context, store, progress, keep), prefetch);
                if let Some(outcome) = drained? {
                    return Ok(outcome);
                }
                let Some(prefetched) = prefetched else {
                    return Ok(ItemOutcome::Deadline);
                };
                ahead = Some((next, next_known, prefetched));
            }
        }
        if listing_done {
            break;
        }
        since = next;
    }
    if context.detail {
        if let Some(outcome) = super::drain(context, store, progress, 0).await? {
            return Ok(outcome);
        }
        store.set_item_status(progress.shard(), idx, WorkStatus::Completed, None)?;
    } else if since >= last_id {
        store.set_item_status(progress.shard(), idx, WorkStatus::Completed, None)?;
    }
    Ok(ItemOutcome::Completed)
}

/// A listing page's answer.
type Listed = Result<(ApiResponse, Option<Vec<MinimalRepository>>), GithubError>;

/// The ETag stored for a listing page, in this shard or the earlier database.
fn known_etag(context: &ShardContext<'_>, store: &Store, path: &str) -> Result<Option<EtagRow>, CrawlError> {
    Ok(match store.etag(path)? {
        Some(known) => Some(known),
        None => {
            context.previous.map(|previous| previous.lock().expect("previous lock").etag(path)).transpose()?.flatten()
        }
    })
}

/// Requests one listing page, conditionally when its ETag is known.
async fn fetch(github: &GitHub, url: &str, known: Option<&EtagRow>) -> Listed {
    github.get_json::<Vec<MinimalRepository>>(url, RequestKind::ListRepositories, known.map(|k| k.etag.as_str())).await
}

/// The rows of a page GitHub says is unchanged: those already in this shard stay; the others
/// come from the previous database, with their detail marked for refresh.
fn unchanged_rows(
    context: &ShardContext<'_>,
    store: &Store,
    known: &EtagRow,
    (since, from, to): (u64, u64, u64),
) -> Result<Vec<RepositoryRow>, CrawlError> {
    let wanted: Vec<u64> = known.ids.iter().copied().filter(|id| *id > since && *id >= from && *id < to).collect();
    let present: std::collections::HashSet<u64> =
        store.repositories_by_id(&wanted)?.into_iter().map(|r| r.id).collect();
    let missing: Vec<u64> = wanted.into_iter().filter(|id| !present.contains(id)).collect();
    let Some(previous) = context.previous else {
        return Ok(Vec::new());
    };
    let now = crate::time::now_rfc3339();
    let mut rows = previous.lock().expect("previous lock").repositories_by_id(&missing)?;
    for row in &mut rows {
        row.fetched_at = now.clone();
        if context.detail {
            row.detail_fetched_at = None;
        }
    }
    Ok(rows)
}
