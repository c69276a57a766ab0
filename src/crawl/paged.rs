//! Page-based listings: search slices, the repositories of a user or organization, and a user's
//! stars. Each follows GitHub's `Link: rel="next"` (never a short page); the cursor is the next
//! page number. Listed repositories get their detail through GraphQL like id ranges do.

use crate::github::models::MinimalRepository;
use crate::github::{GithubError, RequestKind};
use crate::plan::{OwnerKind, WorkItem};
use crate::store::{Page, RepositoryRow, Store, WorkStatus};

use super::{CrawlError, ItemOutcome, Progress, ShardContext, detail};

/// The search API returns at most this many results per query.
pub const SEARCH_CAP: u64 = 1000;

/// The search API's answer.
#[derive(serde::Deserialize)]
struct SearchPage {
    total_count: u64,
    #[serde(default)]
    incomplete_results: bool,
    items: Vec<MinimalRepository>,
}

/// The first-page URL path of a listing (without `page=`), and its request kind.
fn listing(item: &WorkItem) -> (String, RequestKind) {
    match item {
        WorkItem::Search { query, sort, .. } => {
            let sort = sort.as_deref().map(|s| format!("&sort={s}&order=desc")).unwrap_or_default();
            (
                format!("/search/repositories?q={}{sort}&per_page=100", crate::github::link::encode_query(query)),
                RequestKind::Search,
            )
        }
        WorkItem::OwnerRepos { login, owner: OwnerKind::User } => {
            (format!("/users/{login}/repos?type=owner&sort=full_name&per_page=100"), RequestKind::Listing)
        }
        WorkItem::OwnerRepos { login, owner: OwnerKind::Org } => {
            (format!("/orgs/{login}/repos?type=all&sort=full_name&per_page=100"), RequestKind::Listing)
        }
        WorkItem::Starred { login } => (format!("/users/{login}/starred?per_page=100"), RequestKind::Listing),
        WorkItem::IdRange { .. }
        | WorkItem::RepoNames { .. }
        | WorkItem::RepoNodes { .. }
        | WorkItem::Refresh { .. } => {
            unreachable!("not a page-based listing")
        }
    }
}

/// Crawls a page-based listing from page `cursor` (1 when absent).
pub(super) async fn crawl(
    context: &ShardContext<'_>,
    store: &mut Store,
    progress: &mut Progress,
    idx: u32,
    item: &WorkItem,
    cursor: Option<&str>,
) -> Result<ItemOutcome, CrawlError> {
    let (base, kind) = listing(item);
    // A search without a limit must get every result: more than the cap is a failure. A limit
    // (trending's top 1,000) asks for the first results only.
    let (limit, wants_all) = match item {
        WorkItem::Search { limit: Some(limit), .. } => (u64::from(*limit).min(SEARCH_CAP), false),
        WorkItem::Search { limit: None, .. } => (SEARCH_CAP, true),
        _ => (u64::MAX, false),
    };
    let mut page: u64 = cursor.and_then(|c| c.parse().ok()).unwrap_or(1);
    let mut listing_done = page == 0;
    let mut overflow = None;
    while !listing_done {
        let path = format!("{base}&page={page}");
        let url = context.github.url(&path);
        let fetch = context.github.get(&url, kind, None);
        let Some(response) = progress.before_deadline(fetch).await else {
            return Ok(ItemOutcome::Deadline);
        };
        let response = response?;
        let items: Vec<MinimalRepository> = match (response.status, kind) {
            (200, RequestKind::Search) => {
                let answer: SearchPage = response.json()?;
                if answer.total_count > SEARCH_CAP && wants_all {
                    overflow = Some(answer.total_count);
                }
                if answer.incomplete_results {
                    tracing::warn!(
                        "{}: GitHub marked the results of {item} incomplete (search timed out)",
                        progress.shard()
                    );
                }
                answer.items
            }
            (200, _) => response.json()?,
            (404, RequestKind::Listing) => {
                let hint = match item {
                    WorkItem::OwnerRepos { login, owner: OwnerKind::Org } if is_user(context, login).await => {
                        format!("; `{login}` is a user, not an organization: use user:{login}")
                    }
                    _ => String::new(),
                };
                let reason = format!("GitHub has no account by that name (404): misspelled, renamed or deleted{hint}");
                return Err(response.fail(GithubError::Unexpected { url, reason }).into());
            }
            (status, _) => {
                let reason = format!("HTTP {status}: {}", crate::github::github_message(&response.body));
                return Err(response.fail(GithubError::Unexpected { url, reason }).into());
            }
        };
        let fetched_at = crate::time::now_rfc3339();
        let offset = (page - 1) * 100;
        let take = limit.saturating_sub(offset).min(items.len() as u64) as usize;
        let rows: Vec<RepositoryRow> = items[..take].iter().map(|r| listing_row(r, &fetched_at)).collect();
        let next = response.next_link();
        if let Some(Err(error)) = next.as_deref().map(|next| context.github.check_same_origin(next)) {
            return Err(response.fail(error).into());
        }
        listing_done = next.is_none() || offset + items.len() as u64 >= limit;
        let cursor = if listing_done { 0 } else { page + 1 };
        store.commit_page(
            progress.shard(),
            idx,
            &Page {
                rows: &rows,
                cursor: &cursor.to_string(),
                completed: listing_done && !context.detail,
                records: &response.records,
                etag: None,
                streams: None,
            },
        )?;
        progress.page(rows.len() as u64, &response.records, || format!("page {page} of {item}"));
        if context.detail
            && let Some(outcome) = super::drain(context, store, progress, detail::batch(context) - 1).await?
        {
            return Ok(outcome);
        }
        page += 1;
    }
    if context.detail
        && let Some(outcome) = super::drain(context, store, progress, 0).await?
    {
        return Ok(outcome);
    }
    if let Some(total) = overflow {
        // Never truncate silently: the slice is recorded as failed with the reason, so merge puts
        // it in the leftovers and planning them slices it finer.
        let error =
            format!("{total} results, above the search cap of {SEARCH_CAP}: only the first {SEARCH_CAP} are stored");
        tracing::warn!("{}: {item}: {error}", progress.shard());
        store.set_item_status(progress.shard(), idx, WorkStatus::Failed, Some(&error))?;
        return Ok(ItemOutcome::Truncated(error));
    }
    store.set_item_status(progress.shard(), idx, WorkStatus::Completed, None)?;
    Ok(ItemOutcome::Completed)
}

/// True when `login` is a user (one page of its repositories answers), for the hint of an
/// `org:` source that names a user. Its attempts are failures' accounting like the 404's.
async fn is_user(context: &ShardContext<'_>, login: &str) -> bool {
    let url = context.github.url(&format!("/users/{login}/repos?per_page=1"));
    match context.github.get(&url, RequestKind::Listing, None).await {
        Ok(response) => {
            let status = response.status;
            crate::github::ledger::spill(response.records);
            status == 200
        }
        Err(_) => false,
    }
}

/// The listing fields of a repository object (the rest comes from GraphQL detail).
pub(super) fn listing_row(repository: &MinimalRepository, fetched_at: &str) -> RepositoryRow {
    RepositoryRow {
        id: repository.id,
        node_id: repository.node_id.clone(),
        full_name: repository.full_name.clone(),
        owner: repository.owner.login.clone(),
        name: repository.name.clone(),
        description: repository.description.clone(),
        fork: Some(repository.fork),
        fetched_at: fetched_at.to_string(),
        ..RepositoryRow::default()
    }
}
