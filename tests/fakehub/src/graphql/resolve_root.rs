//! The root fields: `rateLimit`, `nodes(ids:)`, `node(id:)`,
//! `repository(owner:, name:, followRenames:)`, and `repositoryOwner(login:)`,
//! `user(login:)`, `organization(login:)` (in `resolve_owner.rs`: unknown
//! owners are a silent `null`, unknown users and organizations `null` plus
//! NOT_FOUND). Node ids resolve to repositories, issues, pull requests, users
//! and organizations; unknown, hidden and deleted ones are `null` with a
//! NOT_FOUND error whose `path` names the list index, as on GitHub.
//! `repository` finds a renamed repository by its old name unless
//! `followRenames: false`.

use super::args::{Field, SelectionSet, arg, str_arg};
use super::exec::{Exec, Obj, Resolved};
use crate::deep::{ISSUE_ID_BASE, PULL_ID_BASE, split_id};
use crate::ids;
use crate::universe::{OwnerType, Universe};
use serde_json::{Value, json};

/// The object behind a global node id (legacy, or next-format unless `next_ids` is off), if it
/// exists and is visible.
pub(crate) fn node<'u>(u: &'u Universe, id: &str, next_ids: bool) -> Option<Obj<'u>> {
    let (type_name, db_id) = ids::parse_node_id(id).or_else(|| ids::parse_next_node_id(id).filter(|_| next_ids))?;
    match type_name.as_str() {
        "Repository" => u.visible(db_id).map(Obj::Repository),
        "Issue" => {
            let (repo_id, number) = split_id(db_id, ISSUE_ID_BASE)?;
            let repo = u.visible(repo_id)?;
            let deep = u.deep(repo_id)?;
            let index = deep.issues.binary_search_by_key(&number, |i| i.number).ok()?;
            Some(Obj::Issue(repo, deep, index))
        }
        "PullRequest" => {
            let (repo_id, number) = split_id(db_id, PULL_ID_BASE)?;
            let repo = u.visible(repo_id)?;
            let deep = u.deep(repo_id)?;
            let index = deep.pulls.binary_search_by_key(&number, |p| p.number).ok()?;
            Some(Obj::PullRequest(repo, deep, index))
        }
        "User" | "Organization" => {
            let wanted = if type_name == "User" { OwnerType::User } else { OwnerType::Organization };
            u.owners().iter().find(|o| o.id == db_id && o.owner_type == wanted).map(Obj::Account)
        }
        _ => None,
    }
}

fn id_text(id: &Value) -> String {
    id.as_str().map_or_else(|| id.to_string(), str::to_string)
}

/// A root field.
pub(crate) fn field<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    match field.name.as_str() {
        "rateLimit" => Ok(exec.nullable(Some(Obj::RateLimit), subs, path)),
        "nodes" => {
            let ids = arg(field, "ids", exec.vars).and_then(|v| v.as_array().cloned()).unwrap_or_default();
            exec.returned += ids.len() as u64;
            let mut out = Vec::with_capacity(ids.len());
            for (i, id) in ids.iter().enumerate() {
                path.push(json!(i));
                let found = id.as_str().and_then(|id| node(exec.universe, id, exec.next_ids));
                if found.is_none() {
                    let message = format!("Could not resolve to a node with the global id of '{}'", id_text(id));
                    exec.error(path, field, Some("NOT_FOUND"), message);
                }
                out.push(exec.nullable(found, subs, path));
                path.pop();
            }
            Ok(Value::Array(out))
        }
        "node" => {
            let id = arg(field, "id", exec.vars).unwrap_or(Value::Null);
            let found = id.as_str().and_then(|id| node(exec.universe, id, exec.next_ids));
            exec.returned += 1;
            if found.is_none() {
                let message = format!("Could not resolve to a node with the global id of '{}'", id_text(&id));
                exec.error(path, field, Some("NOT_FOUND"), message);
            }
            Ok(exec.nullable(found, subs, path))
        }
        "repository" => {
            let owner = str_arg(field, "owner", exec.vars).unwrap_or_default();
            let name = str_arg(field, "name", exec.vars).unwrap_or_default();
            // `followRenames` (default true) resolves a renamed repository's old name, as on GitHub.
            let follow = arg(field, "followRenames", exec.vars).and_then(|v| v.as_bool()).unwrap_or(true);
            let found = match exec.universe.by_owner_and_name(&owner, &name) {
                Some(repo) => Some(repo),
                None if follow => exec.universe.renamed_from(&owner, &name),
                None => None,
            }
            .filter(|r| !r.deleted);
            exec.returned += 1;
            if found.is_none() {
                let message = format!("Could not resolve to a Repository with the name '{owner}/{name}'.");
                exec.error(path, field, Some("NOT_FOUND"), message);
            }
            Ok(exec.nullable(found.map(Obj::Repository), subs, path))
        }
        "repositoryOwner" | "user" | "organization" => super::resolve_owner::lookup(exec, field, subs, path),
        _ => Ok(Value::Null),
    }
}
