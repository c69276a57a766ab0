//! Search slicing: the search API returns at most 1,000 results per query, so a query is cut by
//! creation time until every slice has at most 1,000 results. Counts come from `total_count`
//! (one search request each, `per_page=1`). A slice that cannot be cut further (over 1,000
//! results created within one second) is reported in the plan, never silently truncated; its
//! crawl stores the first 1,000 and records the rest as failed work for the leftovers.

use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::github::{GitHub, GithubError, RequestKind};

/// The search API's cap on results per query.
pub const SEARCH_CAP: u64 = 1000;

/// Before GitHub's first repository (2007-10): the start of every slicing.
pub const FIRST_SECOND: u64 = 1_190_000_000;

/// 2100-01-01: a fixed end, so that plans of the same query do not depend on today's date.
pub const LAST_SECOND: u64 = 4_102_444_799;

/// A query restricted to a creation-time range, with its result count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slice {
    /// The full query, including its `created:` qualifier.
    pub query: String,
    /// Results GitHub counted for it.
    pub count: u64,
    /// Why it could not be cut under the cap (unsplittable slices only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// RFC 3339 (seconds) for an epoch second, as search qualifiers want it.
pub fn timestamp(second: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(second)).to_string()
}

/// `query created:A..B`, both ends inclusive.
pub(crate) fn restricted(query: &str, (first, last): (u64, u64)) -> String {
    let range = format!("created:{}..{}", timestamp(first), timestamp(last));
    match query.trim() {
        "" => range,
        query => format!("{query} {range}"),
    }
}

#[derive(Deserialize)]
struct Counted {
    total_count: u64,
    #[serde(default)]
    items: Vec<Found>,
}

/// A search result, as far as counting needs it.
#[derive(Clone, Debug, Deserialize)]
pub struct Found {
    /// Repository id.
    pub id: u64,
    /// Creation time (RFC 3339).
    #[serde(default)]
    pub created_at: Option<String>,
}

/// How many results GitHub counts for a query.
pub async fn count(github: &GitHub, query: &str) -> Result<u64, GithubError> {
    Ok(count_and_list(github, query, 1).await?.0)
}

/// How many results GitHub counts for a query, and the first `per_page` of them.
pub async fn count_and_list(github: &GitHub, query: &str, per_page: u32) -> Result<(u64, Vec<Found>), GithubError> {
    let encoded = crate::github::link::encode_query(query);
    let url = github.url(&format!("/search/repositories?q={encoded}&per_page={per_page}"));
    let (response, answer) = github.get_json::<Counted>(&url, RequestKind::Search, None).await?;
    match answer {
        Some(answer) => Ok((answer.total_count, answer.items)),
        None => Err(GithubError::Unexpected {
            url,
            reason: format!("HTTP {}: {}", response.status, crate::github::github_message(&response.body)),
        }),
    }
}

/// Slices of at most [`SEARCH_CAP`] results covering every result of `query`, in creation order,
/// plus the slices that could not be cut small enough. A `created:` range in the query bounds the
/// slicing; a `created:` term that cannot be read leaves the query whole, unsplittable if too big.
pub async fn slice(github: &GitHub, query: &str) -> Result<(Vec<Slice>, Vec<Slice>), GithubError> {
    let (base, first, last) = match super::created::split(query) {
        Ok(created) => {
            let (lo, hi) = created.range.unwrap_or((i64::MIN, i64::MAX));
            let first = lo.max(FIRST_SECOND as i64) as u64;
            let last = hi.min(LAST_SECOND as i64).max(0) as u64;
            (created.rest, first, last)
        }
        Err(reason) => {
            let count = count(github, query).await?;
            let mut slice = Slice { query: query.trim().to_string(), count, reason: None };
            if count <= SEARCH_CAP {
                return Ok((vec![slice], vec![]));
            }
            slice.reason = Some(format!("{reason}, so it cannot be sliced by creation time"));
            return Ok((vec![], vec![slice]));
        }
    };
    let mut fitting: Vec<((u64, u64), u64)> = Vec::new();
    let mut too_big = Vec::new();
    // Depth first, earliest half first: the slices come out in time order.
    let mut stack = if first <= last { vec![(first, last)] } else { Vec::new() };
    while let Some(range) = stack.pop() {
        let count = count(github, &restricted(&base, range)).await?;
        if count == 0 {
            continue;
        }
        if count <= SEARCH_CAP {
            fitting.push((range, count));
        } else if range.1 == range.0 {
            let reason = Some(format!("{count} results were created within one second"));
            too_big.push(Slice { query: restricted(&base, range), count, reason });
        } else {
            let middle = range.0 + (range.1 - range.0) / 2;
            stack.push((middle + 1, range.1));
            stack.push((range.0, middle));
        }
    }
    Ok((merge_adjacent(&base, fitting), too_big))
}

/// Joins neighbouring slices while their counts still fit under the cap (counts of disjoint
/// ranges add up), so fewer, fuller slices cost fewer partial pages.
fn merge_adjacent(query: &str, slices: Vec<((u64, u64), u64)>) -> Vec<Slice> {
    let mut merged: Vec<((u64, u64), u64)> = Vec::new();
    for (range, count) in slices {
        match merged.last_mut() {
            Some((last, total)) if *total + count <= SEARCH_CAP => {
                last.1 = range.1;
                *total += count;
            }
            _ => merged.push((range, count)),
        }
    }
    merged.into_iter().map(|(range, count)| Slice { query: restricted(query, range), count, reason: None }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_search_qualifier_syntax() {
        assert_eq!(timestamp(FIRST_SECOND), "2007-09-17T03:33:20Z");
        assert_eq!(timestamp(LAST_SECOND), "2099-12-31T23:59:59Z");
        assert_eq!(restricted("stars:>10 ", (0, 59)), "stars:>10 created:1970-01-01T00:00:00Z..1970-01-01T00:00:59Z");
        assert_eq!(restricted("", (0, 59)), "created:1970-01-01T00:00:00Z..1970-01-01T00:00:59Z");
    }

    #[test]
    fn adjacent_slices_merge_up_to_the_cap() {
        let merged = merge_adjacent("q", vec![((0, 9), 400), ((10, 19), 500), ((20, 29), 200), ((30, 39), 1000)]);
        let counts: Vec<u64> = merged.iter().map(|s| s.count).collect();
        assert_eq!(counts, vec![900, 200, 1000]);
        assert_eq!(merged[0].query, restricted("q", (0, 19)));
        assert_eq!(merged[1].query, restricted("q", (20, 29)));
    }
}
