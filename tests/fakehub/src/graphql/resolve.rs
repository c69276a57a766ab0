//! Field resolution for each runtime object: the dispatch, and the small
//! objects (rate limit, owners and users, language, license, topics,
//! labels, page info, git actors). Repositories are in `resolve_repo.rs`,
//! issues, pull requests and commits in `resolve_items.rs`, the root fields
//! in `resolve_root.rs`, accounts' `repositories` and `starredRepositories`
//! in `resolve_owner.rs` (also for a repository's owner and an author).
//! Validation ran before, so unknown names never get here; anything
//! unexpected answers `null`.

use super::args::{Field, SelectionSet};
use super::connection;
use super::exec::{Exec, Obj, Resolved};
use super::{resolve_items, resolve_owner, resolve_repo, resolve_root};
use crate::hash::mix_all;
use crate::ids;
use crate::universe::OwnerType;
use serde_json::{Value, json};

/// Connection fields of users and organizations (see `resolve_owner.rs`).
const OWNER_CONNECTIONS: &[&str] = &["repositories", "starredRepositories"];

/// Resolve `field` of `obj`.
pub(crate) fn field<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    obj: &Obj<'u>,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    let name = field.name.as_str();
    match obj {
        Obj::Query => resolve_root::field(exec, field, subs, path),
        Obj::RateLimit => Ok(exec.rate.get(name).cloned().unwrap_or(Value::Null)),
        Obj::Repository(repo) => resolve_repo::field(exec, repo, field, subs, path),
        Obj::Ref(..) => resolve_repo::branch_field(exec, obj, field, subs, path),
        Obj::Account(owner) => resolve_owner::field(exec, owner, field, subs, path),
        // Accounts met through a repository or an author: their connections are the universe owner's.
        Obj::Owner(_) | Obj::User(_) if OWNER_CONNECTIONS.contains(&name) => {
            let login = match obj {
                Obj::Owner(repo) => repo.owner_login(),
                Obj::User(account) => account.login.as_str(),
                _ => "",
            };
            match exec.universe.owner(login) {
                Some(owner) => resolve_owner::field(exec, owner, field, subs, path),
                None => Ok(Value::Null),
            }
        }
        Obj::Owner(repo) => Ok(match name {
            "id" => json!(match repo.owner_type {
                OwnerType::User => ids::user_node_id(repo.owner_id),
                OwnerType::Organization => ids::org_node_id(repo.owner_id),
            }),
            "databaseId" => json!(repo.owner_id),
            "name" => Value::Null,
            _ => user_field(name, repo.owner_login(), repo.owner_id),
        }),
        Obj::User(account) => Ok(match name {
            "id" => json!(ids::user_node_id(account.id)),
            "databaseId" => json!(account.id),
            "name" => Value::Null,
            _ => user_field(name, &account.login, account.id),
        }),
        Obj::Language(language) => Ok(match name {
            "name" => json!(language),
            "color" => {
                json!(format!("#{:06x}", mix_all(&[language.len() as u64, language.as_bytes()[0].into()]) >> 40))
            }
            _ => Value::Null,
        }),
        Obj::License(license) => Ok(match name {
            "spdxId" => json!(license.spdx_id),
            "key" => json!(license.key),
            "name" => json!(license.name),
            "url" => json!(format!("http://choosealicense.com/licenses/{}/", license.key)),
            _ => Value::Null,
        }),
        Obj::RepositoryTopic(topic) => match name {
            "topic" => Ok(exec.nullable(Some(Obj::Topic(topic)), subs, path)),
            "url" => Ok(json!(format!("https://github.com/topics/{topic}"))),
            _ => Ok(Value::Null),
        },
        Obj::Topic(topic) => Ok(match name {
            "name" => json!(topic),
            "id" => json!(ids::base64_encode(format!("05:Topic{}", topic.len()).as_bytes())),
            _ => Value::Null,
        }),
        Obj::Label(repo, label) => {
            let h =
                mix_all(&[repo.id, label.bytes().fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)))]);
            Ok(match name {
                "name" => json!(label),
                "color" => json!(format!("{:06x}", h >> 40)),
                "id" => json!(ids::label_node_id(h % 9_000_000_000 + 1_000_000_000)),
                _ => Value::Null,
            })
        }
        Obj::PageInfo { has_next, has_prev, start, end } => Ok(match name {
            "hasNextPage" => json!(has_next),
            "hasPreviousPage" => json!(has_prev),
            "startCursor" => json!(start),
            "endCursor" => json!(end),
            _ => Value::Null,
        }),
        Obj::Connection(conn) => connection::field(exec, conn, field, subs, path),
        Obj::GitActor(deep, index, author) => {
            let commit = &deep.commits[*index];
            let (actor, account) = if *author {
                (&commit.author, &commit.author_account)
            } else {
                (&commit.committer, &commit.committer_account)
            };
            Ok(match name {
                "name" => json!(actor.name),
                "email" => json!(actor.email),
                "date" => json!(actor.date.to_string()),
                "user" => exec.nullable(account.clone().map(Obj::User), subs, path),
                _ => Value::Null,
            })
        }
        Obj::Issue(..) | Obj::PullRequest(..) | Obj::Commit(..) | Obj::MergeCommit(..) => {
            resolve_items::field(exec, obj, field, subs, path)
        }
    }
}

/// `login`, `avatarUrl`, `url` of an account.
pub(crate) fn user_field(name: &str, login: &str, id: u64) -> Value {
    match name {
        "login" => json!(login),
        "avatarUrl" => json!(format!("https://avatars.githubusercontent.com/u/{id}?v=4")),
        "url" => json!(format!("https://github.com/{login}")),
        _ => Value::Null,
    }
}
