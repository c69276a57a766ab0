//! Walks `GET /repositories?since=` over one id range. The cursor is the `since` of the next
//! page, taken from the `Link: rel="next"` header (never inferred from a short page).

use crate::github::models::MinimalRepository;
use crate::github::{GitHub, GithubError, RequestKind};
use crate::store::{RepositoryRow, Store};

use super::{CrawlError, ItemOutcome, Progress};

/// Crawls `from <= id < to` starting after `cursor` (the `since` to ask for next).
pub(super) async fn crawl(
    github: &GitHub,
    store: &mut Store,
    progress: &mut Progress,
    (idx, from, to): (u32, u64, u64),
    cursor: Option<&str>,
) -> Result<ItemOutcome, CrawlError> {
    let mut since = match cursor {
        Some(text) => text.parse::<u64>().map_err(|_| CrawlError::Corrupt {
            path: store.path().to_path_buf(),
            reason: format!("work item {idx} has cursor `{text}`, expected a repository id"),
        })?,
        None => from.saturating_sub(1),
    };
    let last_id = to - 1;
    while since < last_id {
        let url = github.url(&format!("/repositories?since={since}"));
        let Some(response) = progress.before_deadline(github.get(&url, RequestKind::ListRepositories, None)).await
        else {
            return Ok(ItemOutcome::Deadline);
        };
        let response = response?;
        if response.status != 200 {
            return Err(GithubError::Unexpected {
                url,
                reason: format!("HTTP {} (is GITHUB_API_URL a GitHub REST API?)", response.status),
            }
            .into());
        }
        let items: Vec<MinimalRepository> = response.json()?;
        let next_since = match response.next_link() {
            Some(link) => Some(since_of(&link).ok_or_else(|| GithubError::Unexpected {
                url: url.clone(),
                reason: format!("the next link `{link}` has no numeric since"),
            })?),
            None => None,
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
        let fetched_at = crate::time::now_rfc3339();
        let rows: Vec<RepositoryRow> =
            items.iter().filter(|r| r.id > since && r.id >= from && r.id < to).map(|r| row(r, &fetched_at)).collect();
        let newest_seen = items.iter().map(|r| r.id).max().unwrap_or(since);
        let next = next_since.unwrap_or(newest_seen.max(since));
        let completed = next_since.is_none() || next >= last_id || newest_seen >= last_id;
        store.commit_page(progress.shard(), idx, &rows, &next.to_string(), completed, &response.records)?;
        progress.page(rows.len() as u64, &response.records, next, (from, to));
        if completed {
            return Ok(ItemOutcome::Completed);
        }
        since = next;
    }
    store.commit_page(progress.shard(), idx, &[], &since.to_string(), true, &[])?;
    Ok(ItemOutcome::Completed)
}

fn row(repository: &MinimalRepository, fetched_at: &str) -> RepositoryRow {
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

/// The `since` query parameter of a next link.
fn since_of(link: &str) -> Option<u64> {
    let query = link.split_once('?')?.1;
    query.split('&').find_map(|pair| pair.strip_prefix("since=")).and_then(|value| value.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_comes_from_the_query() {
        assert_eq!(since_of("https://api.github.com/repositories?since=369"), Some(369));
        assert_eq!(since_of("http://h/repositories?per_page=5&since=7"), Some(7));
        assert_eq!(since_of("http://h/repositories?since=abc"), None);
        assert_eq!(since_of("http://h/repositories"), None);
    }
}
