//! GraphQL streams of many repositories in one query: each (repository, stream) waiting for a
//! page becomes an aliased `node(id:)` with its connection, `first` sized to what is left of it
//! (GitHub's formula charges every connection as if it returned `first` items), until the query
//! holds [`MAX_PARTS`] parts or [`ItemBudget`] items. The answer is taken apart again per part.

use serde_json::Value;

use super::spec::{Connection, Spec};
use crate::github::graphql::{GraphqlError, literal};
use crate::store::PendingStream;

/// Parts (aliases) in one query: GitHub's `nodes(ids:)` takes 100; the same bound keeps answers
/// a few megabytes at most.
pub const MAX_PARTS: usize = 100;

/// Items one query may ask for at first. A query GitHub answers with a timeout halves it.
pub const MAX_ITEMS: u64 = 2000;

/// Items on a GraphQL page: the connection limit.
pub const PAGE: u64 = 100;

/// One (repository, stream) in a query.
#[derive(Debug)]
pub struct Part<'a> {
    /// The stream waiting for a page.
    pub pending: &'a PendingStream,
    /// Its spec.
    pub spec: &'static Spec,
    /// Its connection.
    pub connection: &'static Connection,
    /// Items asked for.
    pub first: u64,
}

/// The items to ask for: what is left of the known count (at least 1, at most a page), a page
/// when the count is unknown or already passed (items were added since it was counted), and a
/// small page for an incremental read, where usually little changed.
pub fn first(pending: &PendingStream, limit: u64) -> u64 {
    let wanted = match (pending.expected, &pending.since) {
        (_, Some(_)) if pending.cursor.is_none() => 10,
        (Some(expected), _) if expected > pending.stored => expected - pending.stored,
        _ => PAGE,
    };
    wanted.clamp(1, PAGE).min(limit.max(1))
}

/// Picks the parts of the next query from the waiting streams, in order, within the limits.
pub fn pick<'a>(waiting: &'a [PendingStream], items: u64) -> Vec<Part<'a>> {
    let mut parts = Vec::new();
    let mut total = 0;
    for pending in waiting {
        let Some(spec) = super::spec::by_name(&pending.stream) else { continue };
        let super::spec::Api::Graphql(connection) = &spec.api else { continue };
        if pending.node_id.is_none() {
            continue;
        }
        let first = first(pending, items);
        if !parts.is_empty() && (parts.len() >= MAX_PARTS || total + first > items) {
            break;
        }
        total += first;
        parts.push(Part { pending, spec, connection, first });
    }
    parts
}

/// The connection selection of one part.
fn selection(part: &Part<'_>) -> String {
    let connection = part.connection;
    let mut args = vec![format!("first: {}", part.first)];
    if let Some(cursor) = &part.pending.cursor {
        args.push(format!("after: {}", literal(cursor)));
    }
    let extra = match &part.pending.since {
        Some(since) => connection.since_args.replace("{since}", since),
        None => connection.args.to_string(),
    };
    if !extra.is_empty() {
        args.push(extra);
    }
    let field = format!(
        "{}({}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ {} }} }}",
        connection.field,
        args.join(", "),
        connection.nodes
    );
    connection.wrap.replace("{}", &field)
}

/// The query for `parts`, aliased `p0`, `p1`, ...
pub fn query(parts: &[Part<'_>]) -> String {
    let mut text = String::from("query {\n  rateLimit { cost remaining resetAt limit }\n");
    for (i, part) in parts.iter().enumerate() {
        let node = part.pending.node_id.as_deref().unwrap_or_default();
        text.push_str(&format!(
            "  p{i}: node(id: {}) {{ ... on Repository {{ {} }} }}\n",
            literal(node),
            selection(part)
        ));
    }
    text.push('}');
    text
}

/// What the answer says about one part.
#[derive(Debug, PartialEq)]
pub enum Answer<'v> {
    /// The repository is gone (the node came back null); the reason from the errors.
    Gone(String),
    /// The connection is not there (an empty repository has no default branch any more).
    Missing,
    /// A page: its items, and the cursor of the next page if there is one.
    Page { items: &'v [Value], next: Option<String> },
}

/// Part `index` of an answer.
pub fn answer<'v>(data: &'v Value, errors: &[GraphqlError], index: usize, part: &Part<'_>) -> Answer<'v> {
    let alias = format!("p{index}");
    let Some(node) = data.get(&alias).filter(|node| !node.is_null()) else {
        let reason = errors
            .iter()
            .find(|e| e.path.first().and_then(Value::as_str) == Some(alias.as_str()))
            .and_then(|e| e.kind.clone())
            .unwrap_or_else(|| "NOT_FOUND".into());
        return Answer::Gone(reason.to_ascii_lowercase());
    };
    let Some(connection) = node.pointer(part.connection.pointer).filter(|c| !c.is_null()) else {
        return Answer::Missing;
    };
    let items = connection.get("nodes").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let more = connection.pointer("/pageInfo/hasNextPage").and_then(Value::as_bool).unwrap_or(false);
    let next = connection.pointer("/pageInfo/endCursor").and_then(Value::as_str).filter(|_| more);
    Answer::Page { items, next: next.map(str::to_string) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(stream: &str, expected: Option<u64>, stored: u64) -> PendingStream {
        PendingStream {
            repo_id: 1,
            node_id: Some("R_1".into()),
            full_name: "o/r".into(),
            stream: stream.into(),
            cursor: None,
            expected,
            stored,
            since: None,
        }
    }

    #[test]
    fn first_is_sized_to_what_is_left() {
        assert_eq!(first(&pending("issues", Some(7), 0), MAX_ITEMS), 7);
        assert_eq!(first(&pending("issues", Some(250), 200), MAX_ITEMS), 50);
        assert_eq!(first(&pending("issues", Some(250), 0), MAX_ITEMS), 100);
        assert_eq!(first(&pending("issues", Some(5), 5), MAX_ITEMS), 100, "the count was passed: a full page");
        assert_eq!(first(&pending("issues", None, 0), 30), 30);
    }

    #[test]
    fn parts_fill_a_query_up_to_its_items() {
        let waiting: Vec<PendingStream> = (0..10).map(|_| pending("pulls", Some(30), 0)).collect();
        let parts = pick(&waiting, 100);
        assert_eq!(parts.len(), 3);
        // GitHub's formula: a connection per repository and a labels connection per item.
        let requests: u64 = parts.iter().map(|p| 1 + p.first * p.connection.per_item).sum();
        assert_eq!(requests, 3 * 31);
        let runs = vec![pending("runs", None, 0)];
        assert!(pick(&runs, 100).is_empty(), "REST streams are not batched");
    }

    #[test]
    fn a_query_aliases_each_part_with_its_cursor_and_order() {
        let mut waiting = vec![pending("issues", Some(3), 0), pending("commits", Some(300), 100)];
        waiting[1].cursor = Some("Y3Vyc29y".into());
        let text = query(&pick(&waiting, MAX_ITEMS));
        assert!(text.contains(r#"p0: node(id: "R_1") { ... on Repository { issues(first: 3, orderBy: {field: CREATED_AT, direction: ASC}) { pageInfo"#), "{text}");
        assert!(text.contains(r#"p1: node(id: "R_1") { ... on Repository { deepHead: defaultBranchRef { target { ... on Commit { history(first: 100, after: "Y3Vyc29y") {"#), "{text}");
    }

    #[test]
    fn answers_are_taken_apart_per_part() {
        let waiting = vec![pending("issues", Some(2), 0), pending("commits", Some(2), 0), pending("pulls", Some(1), 0)];
        let parts = pick(&waiting, MAX_ITEMS);
        let data = serde_json::json!({
            "p0": { "issues": { "pageInfo": { "hasNextPage": true, "endCursor": "c1" }, "nodes": [{ "databaseId": 1 }] } },
            "p1": { "deepHead": null },
            "p2": null
        });
        let errors: Vec<GraphqlError> =
            serde_json::from_value(serde_json::json!([{ "type": "NOT_FOUND", "path": ["p2"], "message": "gone" }]))
                .unwrap();
        match answer(&data, &errors, 0, &parts[0]) {
            Answer::Page { items, next } => assert_eq!((items.len(), next.as_deref()), (1, Some("c1"))),
            other => panic!("{other:?}"),
        }
        assert_eq!(answer(&data, &errors, 1, &parts[1]), Answer::Missing);
        assert_eq!(answer(&data, &errors, 2, &parts[2]), Answer::Gone("not_found".into()));
    }
}
