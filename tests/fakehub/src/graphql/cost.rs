//! GitHub's GraphQL cost and node limit, computed before execution from the
//! query text and variables (https://docs.github.com/en/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api):
//!
//! - requests: every connection asked for `first`/`last` items needs one
//!   request per parent item, i.e. the product of the `first`/`last` of all
//!   enclosing connections (a `nodes(ids: L)` list counts as `len(L)`
//!   parents; `node(id:)` and `repository(...)` as one).
//! - A connection asked without `first`/`last` (count-only, such as
//!   `history { totalCount }` or `issues(states: OPEN) { totalCount }`; GitHub
//!   allows that when no `nodes`/`edges` are asked) adds no request and
//!   multiplies nothing below it. Decision, checked against GitHub's
//!   documented formula ("Add up the number of requests needed to fulfill
//!   each unique connection in the call. Assume every request will reach the
//!   `first` or `last` argument limits", divide by 100, round to the nearest
//!   whole number, at least 1): the formula counts requests by their
//!   `first`/`last` limits, and a connection without them fetches no page of
//!   items (its count is read with the parent object), so it counts for
//!   nothing. GitHub's charges agree: a published measurement of
//!   `search(last: 100) { nodes { ... on PullRequest { reviews(last: 100) {
//!   totalCount } reviewRequests(last: 100) { totalCount } } } }` cost 1 point
//!   where counting the inner count-only connections would make 201 requests,
//!   2 points. Hence 100 repositories by node id with `defaultBranchRef {
//!   target { ... on Commit { history { totalCount } } } }` and plain fields
//!   cost 1 point (0 requests: the minimum). Known difference: a count-only
//!   connection that does give `first`/`last` is still charged here (one
//!   request per parent), which that measurement suggests GitHub does not do.
//! - cost (points) = requests / 100 rounded to the nearest whole number
//!   (halves up), at least 1.
//! - nodes: the sum over those connections of `first`/`last` times the same
//!   product (plus `len(L)` for `nodes(ids:)`); more than 500,000 is refused.
//!
//! Fragments count whether or not they will match (the analysis is static);
//! `@skip`/`@include` are honoured.

use super::args::{FragmentDefinition, Selection, SelectionSet, Vars, arg, included, int_arg};
use super::schema::{self, Ty};
use std::collections::HashMap;

/// Queries asking for more nodes than this are refused.
pub(crate) const MAX_NODE_LIMIT: u64 = 500_000;

/// The analysis of one query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Cost {
    /// Requests needed (before dividing by 100).
    pub requests: u64,
    /// Nodes that may be returned.
    pub nodes: u64,
}

impl Cost {
    /// Points charged: `requests / 100`, rounded, at least 1.
    pub fn points(&self) -> u32 {
        u32::try_from(self.requests.saturating_add(50) / 100).unwrap_or(u32::MAX).max(1)
    }
}

/// Analyse `set` (of type `Query`).
pub(crate) fn analyse(set: &SelectionSet, fragments: &HashMap<&str, &FragmentDefinition>, vars: &Vars) -> Cost {
    let mut cost = Cost::default();
    walk(set, "Query", 1, fragments, vars, &mut cost, 0);
    cost
}

fn walk(
    set: &SelectionSet,
    parent: &str,
    multiplier: u64,
    fragments: &HashMap<&str, &FragmentDefinition>,
    vars: &Vars,
    cost: &mut Cost,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    for selection in &set.items {
        match selection {
            Selection::Field(f) => {
                if !included(&f.directives, vars) || f.name == "__typename" {
                    continue;
                }
                let Some(def) = schema::field(parent, &f.name) else { continue };
                let (child_type, child_multiplier) = match def.ty {
                    Ty::Scalar => continue,
                    Ty::Object(t) => (t, multiplier),
                    Ty::List(t) if parent == "Query" => {
                        let ids = arg(f, "ids", vars).and_then(|v| v.as_array().map(Vec::len)).unwrap_or(0) as u64;
                        cost.nodes = cost.nodes.saturating_add(multiplier.saturating_mul(ids));
                        (t, multiplier.saturating_mul(ids))
                    }
                    Ty::List(t) => (t, multiplier),
                    Ty::Connection { name, .. } => {
                        let asked = int_arg(f, "first", vars).or_else(|| int_arg(f, "last", vars));
                        match asked {
                            Some(n) => {
                                let n = n.max(0) as u64;
                                cost.requests = cost.requests.saturating_add(multiplier);
                                cost.nodes = cost.nodes.saturating_add(multiplier.saturating_mul(n));
                                (name, multiplier.saturating_mul(n))
                            }
                            None => (name, multiplier),
                        }
                    }
                };
                walk(&f.selection_set, child_type, child_multiplier, fragments, vars, cost, depth + 1);
            }
            Selection::InlineFragment(fragment) => {
                if !included(&fragment.directives, vars) {
                    continue;
                }
                let on = match &fragment.type_condition {
                    Some(graphql_parser::query::TypeCondition::On(t)) => t.as_str(),
                    None => parent,
                };
                walk(&fragment.selection_set, on, multiplier, fragments, vars, cost, depth + 1);
            }
            Selection::FragmentSpread(spread) => {
                if !included(&spread.directives, vars) {
                    continue;
                }
                if let Some(fragment) = fragments.get(spread.fragment_name.as_str()) {
                    let graphql_parser::query::TypeCondition::On(on) = &fragment.type_condition;
                    walk(&fragment.selection_set, on, multiplier, fragments, vars, cost, depth + 1);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::args::Document;
    use graphql_parser::query::{Definition, OperationDefinition};
    use serde_json::json;

    fn cost_of(query: &str, vars: serde_json::Value) -> Cost {
        let doc: Document = graphql_parser::parse_query::<String>(query).map(|d| d.into_static()).expect("parses");
        let mut fragments = HashMap::new();
        let mut set = None;
        for def in &doc.definitions {
            match def {
                Definition::Fragment(f) => {
                    fragments.insert(f.name.as_str(), f);
                }
                Definition::Operation(OperationDefinition::Query(q)) => set = Some(&q.selection_set),
                Definition::Operation(OperationDefinition::SelectionSet(s)) => set = Some(s),
                _ => {}
            }
        }
        let vars = vars.as_object().cloned().unwrap_or_default();
        analyse(set.expect("an operation"), &fragments, &vars)
    }

    #[test]
    fn worked_examples() {
        // octoshard's detail query: 100 ids x repositoryTopics(first: 20) = 100 requests = 1 point.
        let ids: Vec<String> = (0..100).map(|i| format!("id{i}")).collect();
        let detail = "query($ids: [ID!]!) { rateLimit { cost } nodes(ids: $ids) { ... on Repository { repositoryTopics(first: 20) { nodes { topic { name } } } issues(states: OPEN) { totalCount } } } }";
        let c = cost_of(detail, json!({"ids": ids}));
        assert_eq!((c.requests, c.nodes, c.points()), (100, 100 + 2000, 1));
        // Nothing paginated: the minimum, 1.
        assert_eq!(cost_of("{ rateLimit { cost } }", json!({})).points(), 1);
        // One repository, 100 issues with 10 labels each: 1 + 100 = 101 requests -> 1 point.
        let nested = "{ repository(owner: \"a\", name: \"b\") { issues(first: 100) { nodes { labels(first: 10) { nodes { name } } } } } }";
        let c = cost_of(nested, json!({}));
        assert_eq!((c.requests, c.nodes, c.points()), (101, 100 + 1000, 1));
        // The same under 100 node ids: 100 + 100 * 100 = 10,100 requests -> 101 points.
        let under_nodes = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Repository { issues(first: 100) { nodes { labels(first: 10) { totalCount nodes { name } } } } } } }";
        let c = cost_of(under_nodes, json!({"ids": ids}));
        assert_eq!((c.requests, c.points()), (10_100, 101));
        assert_eq!(c.nodes, 100 + 100 * 100 + 100 * 100 * 10);
        // GitHub's documented example (100 repositories x 50 issues x 60 labels) has
        // 1 + 100 + 5,000 = 5,101 requests -> 51 points; the same shape with nested history:
        let doc = "{ repository(owner: \"a\", name: \"b\") { defaultBranchRef { target { ... on Commit { history(first: 100) { nodes { history(first: 50) { nodes { history(first: 60) { nodes { oid } } } } } } } } } } }";
        let c = cost_of(doc, json!({}));
        assert_eq!((c.requests, c.points()), (5101, 51));
        assert_eq!(c.nodes, 100 + 5000 + 300_000);
        // Halves round up; aliases count each; variables for first; totalCount-only is free.
        let aliased = "query($n: Int!) { a: repository(owner: \"a\", name: \"b\") { issues(first: $n) { nodes { labels(first: 30) { nodes { name } } } } } b: repository(owner: \"c\", name: \"d\") { issues(last: 50) { totalCount } pullRequests { totalCount } } }";
        let c = cost_of(aliased, json!({"n": 49}));
        assert_eq!((c.requests, c.points()), (1 + 49 + 1, 1));
        let c = cost_of(aliased, json!({"n": 100}));
        assert_eq!((c.requests, c.points()), (102, 1));
        let fifty = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Repository { issues(first: 50) { nodes { labels(first: 1) { totalCount } } } } } }";
        let ids150: Vec<String> = (0..3).map(|i| format!("id{i}")).collect();
        // 3 ids: 3 + 3 * 50 = 153 requests -> 2 points (1.53 rounds to 2).
        assert_eq!(cost_of(fifty, json!({"ids": ids150})).points(), 2);
        // Fragments and @skip.
        let frag = "query { repository(owner: \"a\", name: \"b\") { ...F skipped: issues(first: 100) @skip(if: true) { nodes { number } } } } fragment F on Repository { issues(first: 100) { nodes { labels(first: 100) { nodes { name } } } } }";
        let c = cost_of(frag, json!({}));
        assert_eq!((c.requests, c.points()), (101, 1));
        // A daily refresh's query: 100 ids, count-only history (no first/last): 0 requests, 1 point.
        let refresh = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Repository { databaseId nameWithOwner pushedAt updatedAt stargazerCount forkCount isArchived description defaultBranchRef { target { ... on Commit { oid history { totalCount } } } } } } }";
        let c = cost_of(refresh, json!({"ids": ids}));
        assert_eq!((c.requests, c.nodes, c.points()), (0, 100, 1));
        // An owner's repositories with their topics: 1 + 100 requests -> 1 point; two aliases 202 -> 2.
        let owner =
            "repositories(first: 100) { nodes { id repositoryTopics(first: 20) { nodes { topic { name } } } } }";
        let c = cost_of(&format!("{{ repositoryOwner(login: \"x\") {{ {owner} }} }}"), json!({}));
        assert_eq!((c.requests, c.nodes, c.points()), (101, 100 + 2000, 1));
        let twice =
            format!("{{ a: repositoryOwner(login: \"x\") {{ {owner} }} b: organization(login: \"y\") {{ {owner} }} }}");
        assert_eq!(cost_of(&twice, json!({})).points(), 2);
        let stars = "{ user(login: \"x\") { starredRepositories(last: 100) { edges { starredAt node { id } } } } }";
        assert_eq!(cost_of(stars, json!({})).requests, 1);
        // The node limit: 100 x 100 x 100 = 1,000,000 nodes.
        let huge = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Repository { issues(first: 100) { nodes { labels(first: 100) { nodes { name } } } } } } }";
        assert!(cost_of(huge, json!({"ids": ids})).nodes > MAX_NODE_LIMIT);
    }
}
