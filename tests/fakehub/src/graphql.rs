//! `POST /graphql`, parsed for real (graphql-parser) and executed over the
//! universe: `rateLimit`, `nodes(ids:)`, `node(id:)`, `repository(owner:,
//! name:)`, `repositoryOwner(login:)`, `user(login:)`, `organization(login:)`
//! and below them repositories, issues, pull requests, commits, users and
//! organizations with their `repositories` and `starredRepositories` (see
//! `graphql/schema.rs` for every field). Variables, aliases,
//! inline and named fragments, `__typename`, `@skip`/`@include`.
//!
//! A request goes through [`prepare`] (before the budget is charged: JSON,
//! syntax, validation, the id and lookup limits, the node limit and the cost)
//! and then [`execute`]. Answers as GitHub gives them (HTTP 200 unless the
//! body is not JSON): validation errors without `data`; more than 100 node
//! ids or repository lookups, or more than 500,000 possible nodes, `data:
//! null`; unknown ids `null` + NOT_FOUND with `path`; paging errors null the
//! enclosing object. The cost is GitHub's formula (`graphql/cost.rs`); a
//! refused query costs 1. With `Options::graphql_timeout_nodes`, a query
//! returning more objects than that is answered like GitHub's timeout.

mod args;
mod connection;
mod cost;
mod exec;
mod resolve;
mod resolve_items;
mod resolve_owner;
mod resolve_repo;
mod resolve_root;
mod schema;
mod validate;

use crate::graphql_repos;
use crate::http::Response;
use crate::limits::RateSnapshot;
use crate::time::Timestamp;
use crate::universe::Universe;
use args::{Document, Vars};
use graphql_parser::query::{Definition, Selection};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

pub(crate) use cost::MAX_NODE_LIMIT;

/// Maximum ids in one `nodes(ids:)` call.
pub(crate) const MAX_NODES: usize = 100;

/// A query ready to run.
pub(crate) struct Plan {
    doc: Document,
    operation_name: Option<String>,
    variables: Value,
    cost: cost::Cost,
    /// Node ids plus repository lookups asked for.
    pub asked: u64,
}

/// What [`prepare`] made of a request body.
pub(crate) enum Prepared {
    Ready(Box<Plan>),
    /// Answered without running (costs 1): the response and the ids/lookups asked.
    Refused(Response, u64),
}

impl Prepared {
    /// Points this query costs.
    pub fn points(&self) -> u32 {
        match self {
            Prepared::Ready(plan) => plan.cost.points(),
            Prepared::Refused(..) => 1,
        }
    }

    /// Requests by GitHub's formula (before dividing by 100).
    pub fn requests(&self) -> u64 {
        match self {
            Prepared::Ready(plan) => plan.cost.requests,
            Prepared::Refused(..) => 0,
        }
    }
}

fn errors_only(errors: Vec<Value>) -> Response {
    Response::json(200, &json!({"errors": errors}))
}

/// Parse, validate and cost a request body.
pub(crate) fn prepare(body: &[u8]) -> Prepared {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Prepared::Refused(problems_parsing_json(), 0);
    };
    let Some(query) = request.get("query").and_then(Value::as_str) else {
        let error = json!({"message": "A query attribute must be specified and must be a string."});
        return Prepared::Refused(errors_only(vec![error]), 0);
    };
    let variables = match request.get("variables") {
        Some(Value::String(text)) => serde_json::from_str(text).unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    let operation_name = request.get("operationName").and_then(Value::as_str).map(str::to_string);
    let doc: Document = match graphql_parser::parse_query::<String>(query) {
        Ok(doc) => doc.into_static(),
        Err(e) => return Prepared::Refused(errors_only(vec![parse_error(&e.to_string())]), 0),
    };
    let asked_before = asked_in(&doc, &variables);
    let op = match validate::operation(&doc, operation_name.as_deref(), &variables) {
        Ok(op) => op,
        Err(errors) => return Prepared::Refused(errors_only(errors), asked_before),
    };
    let errors = validate::validate(&doc, &op);
    if !errors.is_empty() {
        return Prepared::Refused(errors_only(errors), asked_before);
    }
    // Root `repository` lookups and `nodes(ids:)` sizes.
    let mut lookups = Vec::new();
    let mut ids = Vec::new();
    for selection in &op.selection.items {
        if let Selection::Field(f) = selection {
            match f.name.as_str() {
                "repository" => lookups.push(f),
                "nodes" => {
                    let n = args::arg(f, "ids", &op.vars).and_then(|v| v.as_array().map(Vec::len)).unwrap_or(0);
                    ids.push((f, n));
                }
                _ => {}
            }
        }
    }
    let asked = (ids.iter().map(|(_, n)| n).sum::<usize>() + lookups.len()) as u64;
    if let Err(body) = graphql_repos::check_count(&lookups) {
        return Prepared::Refused(Response::json(200, &body), asked);
    }
    if let Some((f, n)) = ids.iter().find(|(_, n)| *n > MAX_NODES) {
        let error = json!({"data": null, "errors": [{
            "type": "EXCESSIVE_PAGINATION",
            "path": [args::key(f)],
            "locations": [args::location(f.position)],
            "message": format!("You may not provide more than {MAX_NODES} node ids; you provided {n}.")
        }]});
        return Prepared::Refused(Response::json(200, &error), asked);
    }
    let fragments = fragments(&doc);
    let cost = cost::analyse(op.selection, &fragments, &op.vars);
    if cost.nodes > MAX_NODE_LIMIT {
        let error = json!({"data": null, "errors": [{
            "type": "MAX_NODE_LIMIT_EXCEEDED",
            "message": format!(
                "This query requests up to {} possible nodes which exceeds the maximum limit of {}.",
                thousands(cost.nodes),
                thousands(MAX_NODE_LIMIT)
            )
        }]});
        return Prepared::Refused(Response::json(200, &error), asked);
    }
    drop(op);
    Prepared::Ready(Box::new(Plan { doc, operation_name, variables, cost, asked }))
}

/// Node ids and `repository` lookups at the root of the document's
/// operations (counted even when the query is refused).
fn asked_in(doc: &Document, variables: &Value) -> u64 {
    let vars: Vars = variables.as_object().cloned().unwrap_or_default();
    let mut asked = 0;
    for def in &doc.definitions {
        let set = match def {
            Definition::Operation(graphql_parser::query::OperationDefinition::Query(q)) => &q.selection_set,
            Definition::Operation(graphql_parser::query::OperationDefinition::SelectionSet(s)) => s,
            _ => continue,
        };
        for selection in &set.items {
            if let Selection::Field(f) = selection {
                asked += match f.name.as_str() {
                    "repository" => 1,
                    "nodes" => args::arg(f, "ids", &vars).and_then(|v| v.as_array().map(Vec::len)).unwrap_or(0) as u64,
                    _ => 0,
                };
            }
        }
    }
    asked
}

fn fragments(doc: &Document) -> HashMap<&str, &args::FragmentDefinition> {
    doc.definitions
        .iter()
        .filter_map(|d| match d {
            Definition::Fragment(f) => Some((f.name.as_str(), f)),
            _ => None,
        })
        .collect()
}

/// `1,000,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A syntax error as GitHub words it (`Parse error on "}" (RCURLY) at [1, 5]`, roughly).
fn parse_error(text: &str) -> Value {
    // graphql-parser: "query parse error: Parse error at 1:5\nUnexpected `}`\n..."
    let at = text.split("Parse error at ").nth(1).and_then(|rest| {
        let pos = rest.split_whitespace().next()?;
        let (line, column) = pos.split_once(':')?;
        Some((line.parse::<u64>().ok()?, column.parse::<u64>().ok()?))
    });
    let detail = text.lines().nth(1).unwrap_or("unexpected input").trim();
    match at {
        Some((line, column)) => json!({
            "message": format!("Parse error on {detail} at [{line}, {column}]"),
            "locations": [{"line": line, "column": column}]
        }),
        None => json!({"message": format!("Parse error: {}", text.trim())}),
    }
}

/// What running a query returned, for the stats.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Outcome {
    /// Objects returned in connections and node lists.
    pub returned: u64,
    pub timed_out: bool,
}

/// Run a prepared query. `rate` is the budget after charging.
pub(crate) fn execute(
    universe: &Universe,
    plan: &Plan,
    rate: &RateSnapshot,
    timeout_nodes: Option<u64>,
    request_id: &str,
    next_ids: bool,
) -> (Response, Outcome) {
    let op = match validate::operation(&plan.doc, plan.operation_name.as_deref(), &plan.variables) {
        Ok(op) => op,
        Err(errors) => return (errors_only(errors), Outcome::default()),
    };
    let vars: Vars = op.vars.clone();
    let mut exec = exec::Exec {
        universe,
        vars: &vars,
        fragments: fragments(&plan.doc),
        errors: Vec::new(),
        returned: 0,
        rate: rate_limit(rate, plan.cost),
        next_ids,
    };
    let mut path = Vec::new();
    let data = exec.object(&exec::Obj::Query, &[op.selection], &mut path).unwrap_or(Value::Null);
    let outcome = Outcome { returned: exec.returned, timed_out: timeout_nodes.is_some_and(|max| exec.returned > max) };
    if outcome.timed_out {
        let message = format!(
            "Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug. Please include `{request_id}` when reporting this issue."
        );
        return (Response::json(200, &json!({"data": null, "errors": [{"message": message}]})), outcome);
    }
    let mut out = Map::new();
    out.insert("data".into(), data);
    if !exec.errors.is_empty() {
        out.insert("errors".into(), Value::Array(exec.errors));
    }
    (Response::json(200, &Value::Object(out)), outcome)
}

pub(crate) fn problems_parsing_json() -> Response {
    Response::json(
        400,
        &json!({"message": "Problems parsing JSON", "documentation_url": "https://docs.github.com/graphql", "status": "400"}),
    )
}

/// The error GitHub sends (HTTP 200) when the GraphQL budget is exhausted.
/// `subject` as in GitHub's message: `user ID 2`, `installation ID 7`.
pub(crate) fn rate_limited(subject: &str) -> Response {
    Response::json(
        200,
        &json!({"errors": [{"type": "RATE_LIMITED", "message": format!("API rate limit exceeded for {subject}.")}]}),
    )
}

fn rate_limit(rate: &RateSnapshot, cost: cost::Cost) -> Value {
    json!({
        "limit": rate.limit,
        "cost": cost.points(),
        "remaining": rate.remaining(),
        "resetAt": Timestamp(rate.reset as i64).to_string(),
        "used": rate.used,
        "nodeCount": cost.nodes,
    })
}
