//! Accounts in GraphQL: the root lookups `repositoryOwner(login:)`,
//! `user(login:)` and `organization(login:)`, the fields of users and
//! organizations, and their `repositories` and (users only)
//! `starredRepositories` connections.
//!
//! Lookups match logins case-insensitively. An unknown login gives
//! `repositoryOwner: null` with *no* error (what GitHub answers); `user` and
//! `organization` give `null` plus NOT_FOUND ("Could not resolve to a User
//! with the login of 'x'." / "... to an Organization ..."), also when the login
//! is an account of the other type.
//!
//! `repositories` lists the owner's visible repositories, the set of
//! [`Universe::owned_by`](crate::universe::Universe::owned_by) (the REST
//! listings' truth, forks included). Arguments, as in GitHub's schema:
//! `ownerAffiliations` (default `[OWNER, COLLABORATOR]`; fakehub has no
//! collaborators or members, so a list without `OWNER` lists nothing and an
//! empty list restricts nothing), `privacy` / `visibility` (`PRIVATE` and
//! `INTERNAL` list nothing: fakehub serves public repositories only),
//! `isFork`, `isArchived`, `hasIssuesEnabled`, `isLocked` (none is locked),
//! and `orderBy: {field: CREATED_AT|UPDATED_AT|PUSHED_AT|NAME|STARGAZERS,
//! direction: ASC|DESC}`. GitHub's `affiliations` (the viewer's) is not
//! served, as fakehub has no viewer: asking for it is a validation error
//! rather than a silently different answer.
//!
//! Default orders. GitHub's schema gives neither `orderBy` a default value
//! and its reference documents no order, so fakehub takes what GitHub is
//! seen to do: `repositories` oldest first (CREATED_AT ascending; ties, and
//! every other order's, by database id ascending; NAME compares names
//! case-insensitively) and `starredRepositories` oldest star first
//! (STARRED_AT ascending, ties by repository id) - the reverse of REST's
//! `/users/{u}/starred`, which is newest first, so GraphQL clients wanting
//! recent stars ask `orderBy: {field: STARRED_AT, direction: DESC}` or page
//! with `last`. Cursors are offsets into that order.

use super::args::{Field, SelectionSet, Vars, arg, str_arg};
use super::connection::{self, Conn, offset_cursor};
use super::exec::{Exec, Obj, Resolved};
use super::resolve_repo::{conn, strings};
use crate::universe::{Owner, OwnerType, Repo};
use serde_json::{Value, json};
use std::cell::Cell;
use std::cmp::Ordering;

/// Root `repositoryOwner`, `user` or `organization` (by `field.name`).
pub(crate) fn lookup<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    let login = str_arg(field, "login", exec.vars).unwrap_or_default();
    let wanted = match field.name.as_str() {
        "user" => Some(OwnerType::User),
        "organization" => Some(OwnerType::Organization),
        _ => None,
    };
    let found = exec.universe.owner(&login).filter(|o| wanted.is_none_or(|t| o.owner_type == t));
    exec.returned += 1;
    if let (None, Some(t)) = (found, wanted) {
        let article = if t == OwnerType::User { "a" } else { "an" };
        let message = format!("Could not resolve to {article} {} with the login of '{login}'.", t.as_str());
        exec.error(path, field, Some("NOT_FOUND"), message);
    }
    Ok(exec.nullable(found.map(Obj::Account), subs, path))
}

/// A field of a User or Organization of the universe.
pub(crate) fn field<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    owner: &'u Owner,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    Ok(match field.name.as_str() {
        "id" => json!(owner.node_id()),
        "databaseId" => json!(owner.id),
        "name" => Value::Null,
        "repositories" => repositories(exec, owner, field, subs, path)?,
        "starredRepositories" => starred(exec, owner, field, subs, path)?,
        name => super::resolve::user_field(name, &owner.login, owner.id),
    })
}

/// `repositories`: the owner's visible repositories, filtered and ordered.
fn repositories<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    owner: &'u Owner,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    const TYPE: &str = "RepositoryConnection";
    let wants = exec.asks(subs, TYPE, &["nodes", "edges"]);
    let paging = connection::paging(exec, field, wants, path)?;
    let mut repos = if lists_owned(field, exec.vars) { exec.universe.owned_by(&owner.login) } else { Vec::new() };
    repos.retain(|r| kept(r, field, exec.vars));
    let (by, descending) = order(field, exec.vars, "CREATED_AT");
    sort(&mut repos, &by, descending);
    let (start, end, next, prev) = connection::offset_window(exec, field, path, &paging, repos.len())?;
    let items = (start..end).map(|i| (offset_cursor(i), Obj::Repository(repos[i]))).collect();
    exec.object(&conn(TYPE, repos.len(), items, next, prev), subs, path)
}

/// Whether `ownerAffiliations` asks for what the owner owns (fakehub's only kind).
fn lists_owned(field: &Field, vars: &Vars) -> bool {
    match strings(arg(field, "ownerAffiliations", vars)) {
        // GitHub's default, [OWNER, COLLABORATOR].
        None => true,
        Some(affiliations) => affiliations.is_empty() || affiliations.iter().any(|a| a == "OWNER"),
    }
}

/// Whether a repository passes the filter arguments (`privacy`, `visibility`,
/// `isFork`, `isArchived`, `isLocked`, `hasIssuesEnabled`).
fn kept(repo: &Repo, field: &Field, vars: &Vars) -> bool {
    let flag = |name: &str| arg(field, name, vars).and_then(|v| v.as_bool());
    let public_only = |name: &str| str_arg(field, name, vars).is_none_or(|v| v == "PUBLIC");
    public_only("privacy")
        && public_only("visibility")
        && flag("isFork").is_none_or(|f| repo.fork == f)
        && flag("isArchived").is_none_or(|a| repo.archived == a)
        && flag("isLocked").is_none_or(|locked| !locked)
        && flag("hasIssuesEnabled").is_none_or(|h| repo.has_issues == h)
}

/// `orderBy: {field, direction}` as (field, descending); `default` when absent.
fn order(field: &Field, vars: &Vars, default: &str) -> (String, bool) {
    let order = arg(field, "orderBy", vars).unwrap_or(Value::Null);
    let by = order.get("field").and_then(Value::as_str).unwrap_or(default).to_string();
    (by, order.get("direction").and_then(Value::as_str) == Some("DESC"))
}

/// Sort by a `RepositoryOrderField`; ties by id ascending.
fn sort(repos: &mut [&Repo], by: &str, descending: bool) {
    let directed = |o: Ordering| if descending { o.reverse() } else { o };
    let compare = |a: &Repo, b: &Repo| match by {
        "NAME" => a.name().to_lowercase().cmp(&b.name().to_lowercase()),
        "UPDATED_AT" => a.updated_at.cmp(&b.updated_at),
        "PUSHED_AT" => a.pushed_at.cmp(&b.pushed_at),
        "STARGAZERS" => a.stargazers_count.cmp(&b.stargazers_count),
        _ => a.created_at.cmp(&b.created_at),
    };
    repos.sort_by(|a, b| directed(compare(a, b)).then(a.id.cmp(&b.id)));
}

/// `starredRepositories`: what the user starred, with `starredAt` on the edges.
fn starred<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    owner: &'u Owner,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    const TYPE: &str = "StarredRepositoryConnection";
    let wants = exec.asks(subs, TYPE, &["nodes", "edges"]);
    let paging = connection::paging(exec, field, wants, path)?;
    let mut stars = exec.universe.starred_at(&owner.login);
    // StarOrderField has one value, STARRED_AT.
    let (_, descending) = order(field, exec.vars, "STARRED_AT");
    stars.sort_by(|a, b| {
        let o = a.1.cmp(&b.1);
        (if descending { o.reverse() } else { o }).then(a.0.id.cmp(&b.0.id))
    });
    let (start, end, next, prev) = connection::offset_window(exec, field, path, &paging, stars.len())?;
    let window = &stars[start..end];
    let obj = Obj::Connection(Box::new(Conn {
        type_name: TYPE,
        total: stars.len(),
        items: window.iter().enumerate().map(|(k, (r, _))| (offset_cursor(start + k), Obj::Repository(r))).collect(),
        has_next: next,
        has_prev: prev,
        counted: Cell::new(false),
        starred_at: window.iter().map(|(_, at)| *at).collect(),
    }));
    exec.object(&obj, subs, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::universe::{Universe, UniverseConfig};

    #[test]
    fn sorts_by_each_field_with_ties_by_id() {
        let u = Universe::generate(&UniverseConfig::new(3000, 3));
        let (owner, _) = u.owners_by_repo_count(OwnerType::Organization)[0];
        let mut repos = u.owned_by(&owner.login);
        assert!(repos.len() > 5);
        sort(&mut repos, "CREATED_AT", false);
        assert!(repos.windows(2).all(|w| (w[0].created_at, w[0].id) < (w[1].created_at, w[1].id)));
        sort(&mut repos, "STARGAZERS", true);
        assert!(repos.windows(2).all(|w| w[0].stargazers_count > w[1].stargazers_count
            || (w[0].stargazers_count == w[1].stargazers_count && w[0].id < w[1].id)));
        sort(&mut repos, "NAME", false);
        assert!(repos.windows(2).all(|w| w[0].name().to_lowercase() <= w[1].name().to_lowercase()));
        sort(&mut repos, "PUSHED_AT", true);
        assert!(repos.windows(2).all(|w| w[0].pushed_at >= w[1].pushed_at));
    }
}
