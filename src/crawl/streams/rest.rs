//! REST streams (workflow runs, contributors): one page of 100 per request, per repository. The
//! cursor is the next page, and for a listing GitHub caps (runs: 1,000 results per query) the
//! creation time the next window of results ends at: `3` or `1@2025-06-01T10:00:00Z`. Each window
//! reaches back from the oldest item of the last one, so every run is reached, whatever the count.

use serde_json::Value;

use super::spec::Listing;
use crate::store::PendingStream;

/// Items per REST page (GitHub's maximum).
pub const PER_PAGE: u64 = 100;

/// Where a REST stream goes on: a page, within the window of items created at or before `before`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// Page number, from 1.
    pub page: u64,
    /// The newest creation time of the current window (inclusive), for capped listings.
    pub before: Option<String>,
}

impl Position {
    /// Reads a cursor (`None`: the first page).
    pub fn parse(cursor: Option<&str>) -> Option<Position> {
        let Some(cursor) = cursor else { return Some(Position { page: 1, before: None }) };
        let (page, before) = match cursor.split_once('@') {
            Some((page, before)) => (page, Some(before.to_string())),
            None => (cursor, None),
        };
        Some(Position { page: page.parse().ok().filter(|p| *p >= 1)?, before })
    }

    /// As a cursor.
    pub fn cursor(&self) -> String {
        match &self.before {
            Some(before) => format!("{}@{before}", self.page),
            None => self.page.to_string(),
        }
    }
}

/// The path and query of a page.
pub fn path(pending: &PendingStream, listing: &Listing, at: &Position) -> String {
    let mut query = format!("per_page={PER_PAGE}&page={}", at.page);
    if let Some(param) = listing.since_param {
        let range = match (&pending.since, &at.before) {
            (Some(since), Some(before)) => Some(format!("{since}..{before}")),
            (Some(since), None) => Some(format!(">={since}")),
            (None, Some(before)) => Some(format!("<={before}")),
            (None, None) => None,
        };
        if let Some(range) = range {
            query.push_str(&format!("&{param}={}", crate::github::link::encode_query(&range)));
        }
    }
    format!("/repos/{}{}?{query}", pending.full_name, listing.path)
}

/// The items of a 200 answer, and the total GitHub reports (object answers).
pub fn items<'v>(body: &'v Value, listing: &Listing) -> Option<(&'v [Value], Option<u64>)> {
    match listing.items {
        Some(key) => {
            let items = body.get(key)?.as_array()?;
            Some((items.as_slice(), body.get("total_count").and_then(Value::as_u64)))
        }
        None => Some((body.as_array()?.as_slice(), None)),
    }
}

/// Where to go after a page: the next page, the next window of a capped listing (before the
/// oldest creation time seen), or nowhere. An error when a window cannot move back (more items
/// created at one instant than the cap).
pub fn next(
    at: &Position,
    listing: &Listing,
    has_next_link: bool,
    total: Option<u64>,
    oldest: Option<&str>,
) -> Result<Option<Position>, String> {
    let cap_pages = listing.cap.map(|cap| cap / PER_PAGE);
    let at_cap = cap_pages.is_some_and(|pages| at.page >= pages);
    if !at_cap {
        return Ok(has_next_link.then(|| Position { page: at.page + 1, before: at.before.clone() }));
    }
    let cap = listing.cap.unwrap_or(u64::MAX);
    if total.is_none_or(|total| total <= cap) {
        return Ok(None);
    }
    let Some(oldest) = oldest else { return Ok(None) };
    if at.before.as_deref() == Some(oldest) {
        return Err(format!("more than {cap} results created at {oldest}: the listing cannot be sliced further"));
    }
    Ok(Some(Position { page: 1, before: Some(oldest.to_string()) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUNS: Listing = Listing {
        path: "/actions/runs",
        items: Some("workflow_runs"),
        since_param: Some("created"),
        empty: &[],
        cap: Some(1000),
    };

    fn pending(since: Option<&str>) -> PendingStream {
        PendingStream {
            repo_id: 1,
            node_id: None,
            full_name: "o/r".into(),
            stream: "runs".into(),
            cursor: None,
            expected: None,
            stored: 0,
            since: since.map(str::to_string),
        }
    }

    #[test]
    fn cursors_round_trip() {
        for cursor in ["3", "1@2025-06-01T10:00:00Z"] {
            assert_eq!(Position::parse(Some(cursor)).unwrap().cursor(), cursor);
        }
        assert_eq!(Position::parse(None), Some(Position { page: 1, before: None }));
        assert_eq!(Position::parse(Some("0")), None);
    }

    #[test]
    fn paths_carry_the_window() {
        let at = Position { page: 2, before: Some("2025-06-01T10:00:00Z".into()) };
        assert_eq!(
            path(&pending(None), &RUNS, &at),
            "/repos/o/r/actions/runs?per_page=100&page=2&created=%3C%3D2025-06-01T10%3A00%3A00Z"
        );
        let first = Position { page: 1, before: None };
        assert_eq!(
            path(&pending(Some("2025-01-01T00:00:00Z")), &RUNS, &first),
            "/repos/o/r/actions/runs?per_page=100&page=1&created=%3E%3D2025-01-01T00%3A00%3A00Z"
        );
    }

    #[test]
    fn a_capped_listing_moves_to_the_next_window() {
        let page = |n| Position { page: n, before: None };
        assert_eq!(next(&page(3), &RUNS, true, Some(5000), Some("t")).unwrap(), Some(page(4)));
        assert_eq!(next(&page(3), &RUNS, false, Some(250), Some("t")).unwrap(), None);
        assert_eq!(next(&page(10), &RUNS, true, Some(1000), Some("t")).unwrap(), None);
        let moved = next(&page(10), &RUNS, true, Some(5000), Some("2025-01-01T00:00:00Z")).unwrap().unwrap();
        assert_eq!(moved, Position { page: 1, before: Some("2025-01-01T00:00:00Z".into()) });
        assert!(next(&moved.clone().with_page(10), &RUNS, true, Some(5000), Some("2025-01-01T00:00:00Z")).is_err());
    }

    impl Position {
        fn with_page(mut self, page: u64) -> Position {
            self.page = page;
            self
        }
    }
}
