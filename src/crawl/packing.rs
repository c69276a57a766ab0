//! How many repositories one GraphQL query asks for. GitHub charges a query its requests (one per
//! parent item for every connection asked with `first`/`last`) divided by 100 and rounded to the
//! nearest whole point, at least 1. A `nodes(ids:)` list takes at most 100 ids, but a query may
//! hold several lists (`nodes`, `nodes1`, ...), so the batch is sized to what one point buys:
//!
//! - fields with one paged connection per repository (the topics of the detail query): 149
//!   repositories make 149 requests, one point, where 100 a query would spend a third more;
//! - fields with none (a refresh's check): the requests are 0, so the minimum point buys
//!   [`MOST_PER_QUERY`] repositories;
//! - fields with two (a check that also asks for the newest issue and pull request): 74.
//!
//! GitHub reports each query's real cost (`rateLimit { cost }`). If a packed query ever costs more
//! than the formula says, the shard warns once and goes back to one list of 100 a query, so a
//! change on GitHub's side can cost a few points, never a third of a crawl.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::github::RequestRecord;
use crate::github::graphql::{GraphqlError, NODES_PER_QUERY};

/// Requests GitHub still charges one point for (149 / 100 rounds to 1).
const ONE_POINT: usize = 149;

/// Most repositories one query asks for, even when GitHub would charge the minimum for more: a
/// bigger query only risks GitHub's 10-second timeout.
pub const MOST_PER_QUERY: usize = 3 * NODES_PER_QUERY;

/// Whether packed queries are still charged as GitHub's formula says, for one shard.
#[derive(Debug, Default)]
pub(crate) struct Packing {
    /// A packed query cost more than planned: one list of 100 a query from then on.
    refused: AtomicBool,
}

/// Connections asked with `first`/`last` in `fields`: each one is a request per repository.
pub(crate) fn paged_connections(fields: &str) -> usize {
    fields.matches("first:").count() + fields.matches("last:").count()
}

/// The points GitHub's formula charges for `requests`: divided by 100, rounded, at least 1.
pub(crate) fn points(requests: usize) -> u32 {
    u32::try_from(requests.saturating_add(50) / 100).unwrap_or(u32::MAX).max(1)
}

/// The points GitHub's formula charges for `repositories` with `fields`.
fn planned_points(repositories: usize, fields: &str) -> u32 {
    points(repositories * paged_connections(fields))
}

/// Repositories one point buys when each pages `per_repository` connections (what the planner
/// estimates with, and what a query asks for while GitHub charges as its formula says).
pub(crate) fn per_point(per_repository: usize) -> usize {
    match per_repository {
        0 => MOST_PER_QUERY,
        n => (ONE_POINT / n).clamp(1, MOST_PER_QUERY),
    }
}

/// Items of a page forward and of a page backward, in one query of a connection whose items each
/// page `per_item` connections: as many as one point buys, at most 100 a page; without packing,
/// one page of 100 forward (plain paging).
pub(crate) fn page_sizes(per_item: usize, packed: bool) -> (usize, usize) {
    if !packed {
        return (NODES_PER_QUERY, 0);
    }
    if per_item == 0 {
        return (NODES_PER_QUERY, NODES_PER_QUERY);
    }
    // Each page is a request, and one per item for each connection it pages.
    let forward = ((ONE_POINT - 1) / per_item).min(NODES_PER_QUERY);
    let left = ONE_POINT - (1 + forward * per_item);
    let backward = if left > 1 { ((left - 1) / per_item).min(NODES_PER_QUERY) } else { 0 };
    (forward, backward)
}

/// The points GitHub's formula charges for a query of pages of `sizes` (forward, backward; 0 for
/// none) whose items each page `per_item` connections.
pub(crate) fn pages_points((forward, backward): (usize, usize), per_item: usize) -> u32 {
    let page = |items: usize| if items > 0 { 1 + items * per_item } else { 0 };
    points(page(forward) + page(backward))
}

impl Packing {
    /// Repositories per query for `fields`: as many as the fewest points buy.
    pub(crate) fn batch(&self, fields: &str) -> usize {
        if self.refused.load(Ordering::Relaxed) {
            return NODES_PER_QUERY;
        }
        per_point(paged_connections(fields))
    }

    /// Whether queries may still be packed past what plain paging asks (100 a list or page).
    pub(crate) fn packs(&self) -> bool {
        !self.refused.load(Ordering::Relaxed)
    }

    /// Checks a query's real cost against the plan; a packed query (more than one list) that cost
    /// more turns packing off for the rest of the shard.
    pub(crate) fn check_cost(&self, shard: &str, repositories: usize, fields: &str, records: &[RequestRecord]) {
        let planned = planned_points(repositories, fields);
        self.check_charge(shard, repositories > NODES_PER_QUERY, planned, records);
    }

    /// Checks what GitHub charged for a query (its last record) against `planned`; when a
    /// `packed` query cost more, packing is off for the rest of the shard (one warning).
    pub(crate) fn check_charge(&self, shard: &str, packed: bool, planned: u32, records: &[RequestRecord]) {
        let Some(charged) = records.last().map(|r| r.cost).filter(|cost| *cost > 0) else { return };
        if packed && charged > planned && !self.refused.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "{shard}: GitHub charged {charged} points for a query its formula prices at {planned}; \
                 paging plainly (100 a query) from now on"
            );
        }
    }
}

/// The name of list `k` in a packed query (`nodes`, `nodes1`, ...).
fn list_name(k: usize) -> String {
    if k == 0 { "nodes".to_string() } else { format!("nodes{k}") }
}

/// A query for `selection` (fields of a `Repository`) of `count` repositories by node id, in lists
/// of 100 whose ids are the variables [`variables`] makes.
pub(crate) fn nodes_query(selection: &str, count: usize) -> String {
    let lists = count.div_ceil(NODES_PER_QUERY).max(1);
    let params: Vec<String> = (0..lists).map(|k| format!("${}: [ID!]!", list_name(k))).collect();
    let mut text = format!("query({}) {{\n  rateLimit {{ cost remaining resetAt limit }}\n", params.join(", "));
    for k in 0..lists {
        let name = list_name(k);
        let alias = if k == 0 { String::new() } else { format!("{name}: ") };
        text.push_str(&format!(
            "  {alias}nodes(ids: ${name}) {{\n    __typename\n    ... on Repository {{\n      {selection}\n    }}\n  }}\n"
        ));
    }
    text.push('}');
    text
}

/// The variables of [`nodes_query`]: `ids` split into lists of 100.
pub(crate) fn variables(ids: &[&str]) -> Value {
    let mut lists = serde_json::Map::new();
    for (k, chunk) in ids.chunks(NODES_PER_QUERY).enumerate() {
        lists.insert(list_name(k), json!(chunk));
    }
    if lists.is_empty() {
        lists.insert(list_name(0), json!([]));
    }
    Value::Object(lists)
}

/// The answers of a packed query, one per id in the order asked; `None` unless every list came
/// back with one entry per id.
pub(crate) fn answers(data: &Value, asked: usize) -> Option<Vec<Value>> {
    let mut out = Vec::with_capacity(asked);
    for k in 0..asked.div_ceil(NODES_PER_QUERY).max(1) {
        let list = data.get(list_name(k))?.as_array()?;
        let expected = (asked - k * NODES_PER_QUERY).min(NODES_PER_QUERY);
        if list.len() != expected {
            return None;
        }
        out.extend(list.iter().cloned());
    }
    Some(out)
}

/// Which repository (by position in the batch) an error of a packed query is about.
pub(crate) fn error_index(error: &GraphqlError) -> Option<usize> {
    match error.path.as_slice() {
        [Value::String(name), Value::Number(index), ..] => {
            let k = match name.strip_prefix("nodes")? {
                "" => 0,
                digits => digits.parse::<usize>().ok().filter(|k| *k > 0)?,
            };
            Some(k * NODES_PER_QUERY + usize::try_from(index.as_u64()?).ok()?)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DETAIL: &str = "id repositoryTopics(first: 20) { nodes { topic { name } } } watchers { totalCount }";

    #[test]
    fn one_point_buys_149_with_topics_and_more_without_any_paged_connection() {
        let packing = Packing::default();
        assert_eq!(packing.batch(DETAIL), 149);
        assert_eq!(packing.batch("id stargazerCount history { totalCount }"), MOST_PER_QUERY);
        assert_eq!(packing.batch("a(first: 1) { nodes { x } } b(last: 1) { nodes { x } }"), 74);
        assert_eq!((planned_points(149, DETAIL), planned_points(150, DETAIL), planned_points(300, "id")), (1, 2, 1));
    }

    #[test]
    fn one_point_pages_100_forward_and_47_backward_with_topics() {
        assert_eq!(page_sizes(1, true), (100, 47));
        assert_eq!((pages_points((100, 47), 1), pages_points((100, 48), 1), pages_points((100, 0), 2)), (1, 2, 2));
        assert_eq!(page_sizes(0, true), (100, 100));
        assert_eq!(page_sizes(2, true), (74, 0));
        assert_eq!(page_sizes(1, false), (100, 0));
    }

    #[test]
    fn a_packed_query_charged_more_than_planned_goes_back_to_100() {
        let packing = Packing::default();
        let record = |cost| RequestRecord {
            at: String::new(),
            kind: crate::github::RequestKind::RepositoryDetail,
            path: "/graphql".into(),
            status: 200,
            cost,
            latency_ms: 0,
            waited_ms: 0,
            conditional: false,
            attempt: 1,
            credential: "token1".into(),
            error: None,
        };
        packing.check_cost("s", 149, DETAIL, &[record(1)]);
        assert_eq!(packing.batch(DETAIL), 149);
        // An unpacked query is what it always was: its cost says nothing about packing.
        packing.check_cost("s", 100, DETAIL, &[record(2)]);
        assert_eq!(packing.batch(DETAIL), 149);
        packing.check_cost("s", 149, DETAIL, &[record(2)]);
        assert_eq!(packing.batch(DETAIL), NODES_PER_QUERY);
    }

    #[test]
    fn lists_of_100_are_asked_and_read_back_in_order() {
        let ids: Vec<String> = (0..149).map(|i| format!("R{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let text = nodes_query("id", ids.len());
        assert!(text.starts_with("query($nodes: [ID!]!, $nodes1: [ID!]!)"), "{text}");
        assert!(text.contains("  nodes(ids: $nodes)") && text.contains("  nodes1: nodes(ids: $nodes1)"), "{text}");
        let vars = variables(&ids);
        assert_eq!((vars["nodes"].as_array().unwrap().len(), vars["nodes1"].as_array().unwrap().len()), (100, 49));
        let data = json!({ "nodes": vars["nodes"], "nodes1": vars["nodes1"] });
        let back = answers(&data, 149).unwrap();
        assert_eq!((back[0].as_str(), back[148].as_str()), (Some("R0"), Some("R148")));
        assert!(answers(&data, 150).is_none(), "a short list is an error, not a shorter batch");
        let error: GraphqlError = serde_json::from_value(json!({ "path": ["nodes1", 7] })).unwrap();
        assert_eq!(error_index(&error), Some(107));
        let other: GraphqlError = serde_json::from_value(json!({ "path": ["nodesx", 7] })).unwrap();
        assert_eq!(error_index(&other), None);
    }
}
