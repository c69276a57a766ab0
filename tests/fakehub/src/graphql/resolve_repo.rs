//! The Repository object: the fields of the existing detail answer, the
//! default branch (`defaultBranchRef { name target { ... on Commit } }`) and
//! the `repositoryTopics`, `watchers`, `issues` and `pullRequests`
//! connections. `issues(states: OPEN) { totalCount }` (and the same for pull
//! requests) is answered from the seeded open-count split without
//! generating the repository's deep data, so detail queries over a huge
//! universe stay cheap. Issue and pull request order: `orderBy: {field:
//! CREATED_AT|UPDATED_AT|COMMENTS, direction: ASC|DESC}`, default created
//! ascending, ties by number; `filterBy: {since, states, labels}` for issues.

use super::args::{Field, SelectionSet, Vars, arg};
use super::connection::{self, Conn, Paging, bad_cursor, decode_key, key_cursor, offset_cursor, window};
use super::exec::{Bubble, Exec, Obj, Resolved};
use crate::deep::{Deep, State};
use crate::universe::Repo;
use serde_json::{Value, json};
use std::cell::Cell;
use std::sync::Arc;

/// A connection object over `items` (a window of `total`).
pub(crate) fn conn<'u>(
    type_name: &'static str,
    total: usize,
    items: Vec<(String, Obj<'u>)>,
    next: bool,
    prev: bool,
) -> Obj<'u> {
    Obj::Connection(Box::new(Conn {
        type_name,
        total,
        items,
        has_next: next,
        has_prev: prev,
        counted: Cell::new(false),
        starred_at: Vec::new(),
    }))
}

/// A field of a Repository.
pub(crate) fn field<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    repo: &'u Repo,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    Ok(match field.name.as_str() {
        "id" => json!(repo.node_id),
        "databaseId" => json!(repo.id),
        "nameWithOwner" => json!(repo.full_name),
        "name" => json!(repo.name()),
        "owner" => exec.nullable(Some(Obj::Owner(repo)), subs, path),
        "description" => json!(repo.description),
        "url" => json!(format!("https://github.com/{}", repo.full_name)),
        "primaryLanguage" => exec.nullable(repo.language.map(Obj::Language), subs, path),
        "repositoryTopics" => {
            let wants = exec.asks(subs, "RepositoryTopicConnection", &["nodes", "edges"]);
            let p = connection::paging(exec, field, wants, path)?;
            let (start, end, next, prev) = connection::offset_window(exec, field, path, &p, repo.topics.len())?;
            let items = (start..end).map(|i| (offset_cursor(i), Obj::RepositoryTopic(repo.topics[i]))).collect();
            exec.object(&conn("RepositoryTopicConnection", repo.topics.len(), items, next, prev), subs, path)?
        }
        "stargazerCount" => json!(repo.stargazers_count),
        "forkCount" => json!(repo.forks_count),
        "watchers" => {
            exec.object(&conn("UserConnection", repo.subscribers_count as usize, Vec::new(), false, false), subs, path)?
        }
        "issues" => issues(exec, repo, field, subs, path)?,
        "pullRequests" => pulls(exec, repo, field, subs, path)?,
        "licenseInfo" => exec.nullable(repo.license.map(Obj::License), subs, path),
        "defaultBranchRef" => exec.nullable((!repo.is_empty()).then_some(Obj::Ref(repo)), subs, path),
        "isFork" => json!(repo.fork),
        "isArchived" => json!(repo.archived),
        "isPrivate" => json!(false),
        "isDisabled" => json!(repo.disabled),
        "isTemplate" => json!(repo.is_template),
        "isEmpty" => json!(repo.is_empty()),
        "visibility" => json!("PUBLIC"),
        "diskUsage" => json!(repo.size),
        "hasIssuesEnabled" => json!(repo.has_issues),
        "hasWikiEnabled" => json!(repo.has_wiki),
        "createdAt" => json!(repo.created_at.to_string()),
        "updatedAt" => json!(repo.updated_at.to_string()),
        "pushedAt" => json!(repo.pushed_at.to_string()),
        _ => Value::Null,
    })
}

/// A field of the default branch (`Ref`).
pub(crate) fn branch_field<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    obj: &Obj<'u>,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    let Obj::Ref(repo) = obj else { return Ok(Value::Null) };
    Ok(match field.name.as_str() {
        "name" => json!(repo.default_branch),
        "prefix" => json!("refs/heads/"),
        "id" => {
            json!(crate::ids::base64_encode(format!("03:Ref{}:refs/heads/{}", repo.id, repo.default_branch).as_bytes()))
        }
        "target" => {
            let head = exec.universe.deep(repo.id).filter(|d| !d.commits.is_empty());
            exec.nullable(head.map(|d| Obj::Commit(repo, d, 0)), subs, path)
        }
        _ => Value::Null,
    })
}

/// A list argument of strings or enum values (a single value counts as a list of one).
pub(crate) fn strings(value: Option<Value>) -> Option<Vec<String>> {
    match value? {
        Value::Array(items) => Some(items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()),
        Value::String(s) => Some(vec![s]),
        _ => None,
    }
}

/// `orderBy`: (field, descending).
fn order(field: &Field, vars: &Vars) -> (String, bool) {
    let order = arg(field, "orderBy", vars).unwrap_or(Value::Null);
    let by = order.get("field").and_then(Value::as_str).unwrap_or("CREATED_AT").to_string();
    let descending = order.get("direction").and_then(Value::as_str) == Some("DESC");
    (by, descending)
}

/// Build a connection over `indices` (already filtered) sorted by `key_of` (sort key, number).
#[allow(clippy::too_many_arguments)]
fn keyset<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    field: &Field,
    path: &[Value],
    paging: &Paging,
    type_name: &'static str,
    mut indices: Vec<usize>,
    descending: bool,
    key_of: impl Fn(usize) -> (i64, u32),
    make: impl Fn(usize) -> Obj<'u>,
) -> Result<Obj<'u>, Bubble> {
    indices.sort_by_key(|&i| key_of(i));
    if descending {
        indices.reverse();
    }
    // "comes after c in this order"
    let after_of = |k: (i64, u32), c: (i64, u32)| if descending { k < c } else { k > c };
    let lo = match paging.after.as_deref() {
        None => 0,
        Some(text) => {
            let c = decode_key(text).ok_or_else(|| bad_cursor(exec, field, path, text))?;
            indices.partition_point(|&i| !after_of(key_of(i), c))
        }
    };
    let hi = match paging.before.as_deref() {
        None => indices.len(),
        Some(text) => {
            let c = decode_key(text).ok_or_else(|| bad_cursor(exec, field, path, text))?;
            indices.partition_point(|&i| after_of(c, key_of(i)))
        }
    };
    let (start, end, next, prev) = window(indices.len(), lo, hi, paging);
    let items = indices[start..end]
        .iter()
        .map(|&i| {
            let (k, n) = key_of(i);
            (key_cursor(k, n), make(i))
        })
        .collect();
    Ok(conn(type_name, indices.len(), items, next, prev))
}

/// Whether only `totalCount` of open items is asked (answered without deep data).
fn open_count_only(
    exec: &Exec,
    subs: &[&SelectionSet],
    type_name: &str,
    wanted: &Option<Vec<String>>,
    filtered: bool,
) -> bool {
    !filtered
        && wanted.as_deref() == Some(&["OPEN".to_string()][..])
        && !exec.asks(subs, type_name, &["nodes", "edges", "pageInfo"])
}

fn issues<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    repo: &'u Repo,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    const TYPE: &str = "IssueConnection";
    let wants = exec.asks(subs, TYPE, &["nodes", "edges"]);
    let paging = connection::paging(exec, field, wants, path)?;
    let filter_by = arg(field, "filterBy", exec.vars).unwrap_or(Value::Null);
    let wanted = strings(arg(field, "states", exec.vars)).or_else(|| strings(filter_by.get("states").cloned()));
    let since = filter_by.get("since").and_then(Value::as_str).map(|s| crate::query::instant(s).unwrap_or(i64::MAX));
    let labels = strings(arg(field, "labels", exec.vars)).or_else(|| strings(filter_by.get("labels").cloned()));
    let filtered = since.is_some() || labels.is_some();
    if open_count_only(exec, subs, TYPE, &wanted, filtered) {
        let total = if exec.universe.config().deep_scale <= 0.0 {
            repo.open_issues_count
        } else {
            exec.universe.open_counts(repo).0
        };
        return exec.object(&conn(TYPE, total as usize, Vec::new(), false, false), subs, path);
    }
    let deep = exec.universe.deep(repo.id).unwrap_or_else(|| Arc::new(Deep::default_for(repo.id)));
    let indices: Vec<usize> = (0..deep.issues.len())
        .filter(|&i| {
            let issue = &deep.issues[i];
            let state = match issue.state {
                State::Open => "OPEN",
                State::Closed => "CLOSED",
            };
            wanted.as_ref().is_none_or(|w| w.iter().any(|s| s == state))
                && since.is_none_or(|s| issue.updated_at.0 >= s)
                && labels.as_ref().is_none_or(|ls| ls.iter().any(|l| issue.labels.contains(&l.as_str())))
        })
        .collect();
    let (by, descending) = order(field, exec.vars);
    let d = deep.clone();
    let key_of = move |i: usize| {
        let issue = &d.issues[i];
        let key = match by.as_str() {
            "UPDATED_AT" => issue.updated_at.0,
            "COMMENTS" => i64::from(issue.comments),
            _ => issue.created_at.0,
        };
        (key, issue.number)
    };
    let obj =
        keyset(exec, field, path, &paging, TYPE, indices, descending, key_of, |i| Obj::Issue(repo, deep.clone(), i))?;
    exec.object(&obj, subs, path)
}

fn pulls<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    repo: &'u Repo,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    const TYPE: &str = "PullRequestConnection";
    let wants = exec.asks(subs, TYPE, &["nodes", "edges"]);
    let paging = connection::paging(exec, field, wants, path)?;
    let wanted = strings(arg(field, "states", exec.vars));
    let labels = strings(arg(field, "labels", exec.vars));
    let base = arg(field, "baseRefName", exec.vars).and_then(|v| v.as_str().map(str::to_string));
    let head = arg(field, "headRefName", exec.vars).and_then(|v| v.as_str().map(str::to_string));
    let filtered = labels.is_some() || base.is_some() || head.is_some();
    if open_count_only(exec, subs, TYPE, &wanted, filtered) {
        let total = if exec.universe.config().deep_scale <= 0.0 { 0 } else { exec.universe.open_counts(repo).1 };
        return exec.object(&conn(TYPE, total as usize, Vec::new(), false, false), subs, path);
    }
    let deep = exec.universe.deep(repo.id).unwrap_or_else(|| Arc::new(Deep::default_for(repo.id)));
    let indices: Vec<usize> = (0..deep.pulls.len())
        .filter(|&i| {
            let p = &deep.pulls[i];
            wanted.as_ref().is_none_or(|w| w.iter().any(|s| s == p.graphql_state()))
                && labels.as_ref().is_none_or(|ls| ls.iter().any(|l| p.labels.contains(&l.as_str())))
                && base.as_ref().is_none_or(|b| &p.base_ref == b)
                && head.as_ref().is_none_or(|h| &p.head_ref == h)
        })
        .collect();
    let (by, descending) = order(field, exec.vars);
    let d = deep.clone();
    let key_of = move |i: usize| {
        let p = &d.pulls[i];
        let key = match by.as_str() {
            "UPDATED_AT" => p.updated_at.0,
            "COMMENTS" => i64::from(p.comments),
            _ => p.created_at.0,
        };
        (key, p.number)
    };
    let obj = keyset(exec, field, path, &paging, TYPE, indices, descending, key_of, |i| {
        Obj::PullRequest(repo, deep.clone(), i)
    })?;
    exec.object(&obj, subs, path)
}
