//! `POST /graphql` without a GraphQL parser: it recognises the repository
//! batch query (`nodes(ids: $var)`, optionally aliased, ids from the variables
//! or an inline list), aliased `repository(owner:, name:)` lookups (see
//! [`crate::graphql_repos`]; they may be combined with `nodes`) and a bare
//! `rateLimit` query. Every query costs 1 point. Answers like GitHub:
//! unknown/hidden/deleted ids give `null` plus a NOT_FOUND error (HTTP 200,
//! partial data); more than 100 ids give `data: null` and an
//! EXCESSIVE_PAGINATION error. The full Repository field set is always returned.

use crate::graphql_repos;
use crate::http::Response;
use crate::ids;
use crate::limits::RateSnapshot;
use crate::time::Timestamp;
use crate::universe::{Repo, Universe};
use serde_json::{Map, Value, json};

/// Maximum ids in one `nodes(ids:)` call.
pub(crate) const MAX_NODES: usize = 100;
/// Points charged per query (GitHub's minimum).
pub(crate) const COST: u32 = 1;

/// The response and the number of node ids and repository lookups asked for.
pub(crate) fn handle(universe: &Universe, body: &[u8], rate: &RateSnapshot) -> (Response, u64) {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return (problems_parsing_json(), 0);
    };
    let Some(query) = request.get("query").and_then(Value::as_str) else {
        return (
            Response::json(
                200,
                &json!({"errors": [{"message": "A query attribute must be specified and must be a string."}]}),
            ),
            0,
        );
    };
    let variables = match request.get("variables") {
        Some(Value::String(text)) => serde_json::from_str(text).unwrap_or(Value::Null),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    let compact: String = query.chars().filter(|c| !c.is_whitespace()).collect();
    let rate_json = rate_limit(rate);
    let rate_key = alias_of(&compact, "rateLimit").unwrap_or_else(|| "rateLimit".to_string());
    let lookups = graphql_repos::scan(query, &variables);
    let looked_up = match graphql_repos::resolve(universe, &lookups) {
        Ok(parts) => parts,
        Err(body) => return (Response::json(200, &body), lookups.len() as u64),
    };
    let Some(at) = compact.find("nodes(ids:") else {
        if !lookups.is_empty() {
            let (entries, errors) = looked_up;
            let mut data = Map::new();
            if compact.contains("rateLimit") {
                data.insert(rate_key, rate_json);
            }
            data.extend(entries);
            return (respond(data, errors), lookups.len() as u64);
        }
        if compact.contains("rateLimit") {
            return (Response::json(200, &json!({"data": {rate_key: rate_json}})), 0);
        }
        let error = json!({"errors": [{"message": "fakehub understands only the `nodes(ids: $ids)` repository batch query, `repository(owner:, name:)` lookups and `rateLimit`.", "locations": [{"line": 1, "column": 1}]}]});
        return (Response::json(200, &error), 0);
    };
    let nodes_key = alias_of(&compact, "nodes(ids:").unwrap_or_else(|| "nodes".to_string());
    let Some(ids) = ids_argument(&compact[at + "nodes(ids:".len()..], &variables) else {
        let error = json!({"errors": [{
            "message": "Variable $ids of type [ID!]! was provided invalid value",
            "locations": [{"line": 1, "column": 7}],
            "extensions": {"problems": [{"path": [], "explanation": "Expected a list of IDs"}]}
        }]});
        return (Response::json(200, &error), 0);
    };
    let count = (ids.len() + lookups.len()) as u64;
    if ids.len() > MAX_NODES {
        let error = json!({"data": null, "errors": [{
            "type": "EXCESSIVE_PAGINATION",
            "path": [nodes_key],
            "locations": [{"line": 1, "column": 1}],
            "message": format!("You may not provide more than {MAX_NODES} node ids; you provided {}.", ids.len())
        }]});
        return (Response::json(200, &error), count);
    }
    let mut nodes = Vec::with_capacity(ids.len());
    let mut errors = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let repo = id.as_str().and_then(ids::parse_repo_node_id).and_then(|db_id| universe.visible(db_id));
        match repo {
            Some(repo) => nodes.push(repository(repo)),
            None => {
                nodes.push(Value::Null);
                let shown = id.as_str().map_or_else(|| id.to_string(), str::to_string);
                errors.push(json!({
                    "type": "NOT_FOUND",
                    "path": [nodes_key, i],
                    "locations": [{"line": 1, "column": 1}],
                    "message": format!("Could not resolve to a node with the global id of '{shown}'")
                }));
            }
        }
    }
    let mut data = Map::new();
    data.insert(rate_key, rate_json);
    data.insert(nodes_key, Value::Array(nodes));
    let (entries, more_errors) = looked_up;
    data.extend(entries);
    errors.extend(more_errors);
    (respond(data, errors), count)
}

/// `{"data": data}`, with `"errors"` when there are any.
fn respond(data: Map<String, Value>, errors: Vec<Value>) -> Response {
    let mut out = Map::new();
    out.insert("data".into(), Value::Object(data));
    if !errors.is_empty() {
        out.insert("errors".into(), Value::Array(errors));
    }
    Response::json(200, &Value::Object(out))
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

fn rate_limit(rate: &RateSnapshot) -> Value {
    json!({
        "limit": rate.limit,
        "cost": COST,
        "remaining": rate.remaining(),
        "resetAt": Timestamp(rate.reset as i64).to_string(),
        "used": rate.used,
    })
}

/// `alias:` in front of `field` in the compacted query, if any.
fn alias_of(compact: &str, field: &str) -> Option<String> {
    let before = &compact[..compact.find(field)?];
    let before = before.strip_suffix(':')?;
    let start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let alias = &before[start..];
    (!alias.is_empty()).then(|| alias.to_string())
}

/// The ids after `nodes(ids:`: `$var` from the variables, or an inline list.
fn ids_argument(rest: &str, variables: &Value) -> Option<Vec<Value>> {
    if let Some(var) = rest.strip_prefix('$') {
        let end = var.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(var.len());
        return variables.get(&var[..end])?.as_array().cloned();
    }
    if rest.starts_with('[') {
        let end = rest.find(']')?;
        return serde_json::from_str::<Vec<Value>>(&rest[..=end]).ok();
    }
    None
}

/// A Repository node with GraphQL field names.
pub(crate) fn repository(r: &Repo) -> Value {
    let topics: Vec<Value> = r.topics.iter().map(|t| json!({"topic": {"name": t}})).collect();
    json!({
        "__typename": "Repository",
        "id": r.node_id,
        "databaseId": r.id,
        "nameWithOwner": r.full_name,
        "name": r.name(),
        "owner": {"__typename": r.owner_type.as_str(), "login": r.owner_login()},
        "description": r.description,
        "url": format!("https://github.com/{}", r.full_name),
        "primaryLanguage": r.language.map(|name| json!({"name": name})),
        "repositoryTopics": {"totalCount": topics.len(), "nodes": topics},
        "stargazerCount": r.stargazers_count,
        "forkCount": r.forks_count,
        "watchers": {"totalCount": r.subscribers_count},
        "issues": {"totalCount": r.open_issues_count},
        "licenseInfo": r.license.map(|l| json!({"spdxId": l.spdx_id, "key": l.key, "name": l.name})),
        "defaultBranchRef": (!r.is_empty()).then(|| json!({"name": r.default_branch})),
        "isFork": r.fork,
        "isArchived": r.archived,
        "isPrivate": false,
        "isDisabled": r.disabled,
        "isTemplate": r.is_template,
        "isEmpty": r.is_empty(),
        "visibility": "PUBLIC",
        "diskUsage": r.size,
        "hasIssuesEnabled": r.has_issues,
        "hasWikiEnabled": r.has_wiki,
        "createdAt": r.created_at,
        "updatedAt": r.updated_at,
        "pushedAt": r.pushed_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_arguments() {
        assert_eq!(alias_of("query($ids:[ID!]!){repos:nodes(ids:$ids){id}}", "nodes(ids:"), Some("repos".into()));
        assert_eq!(alias_of("query($ids:[ID!]!){nodes(ids:$ids){id}}", "nodes(ids:"), None);
        assert_eq!(alias_of("{é:nodes(ids:$ids){id}}", "nodes(ids:"), None);
        assert_eq!(alias_of("{éa:nodes(ids:$ids){id}}", "nodes(ids:"), Some("a".into()));
        let vars = json!({"ids": ["a", "b"]});
        assert_eq!(ids_argument("$ids){id}", &vars).map(|v| v.len()), Some(2));
        assert_eq!(ids_argument("[\"x\"]){id}", &vars).map(|v| v.len()), Some(1));
        assert_eq!(ids_argument("$other){id}", &vars), None);
    }
}
