//! Issue, PullRequest and Commit objects, with their `labels` and `history`
//! connections. Authors of deleted accounts are `null` (GitHub's GraphQL has
//! no ghost). A pull request's `mergeCommit` is a commit off the default
//! branch: its `oid` and dates are known (the merge time), its message is
//! "Merge pull request #N from BRANCH", it has no author and no history.
//! `history(since:, until:)` filters on the committed date (inclusive).

use super::args::{Field, SelectionSet, str_arg};
use super::connection::{self, bad_cursor, decode_history, history_cursor, offset_cursor, window};
use super::exec::{Exec, Obj, Resolved};
use super::resolve_repo::conn;
use crate::deep::{Deep, State};
use crate::ids;
use crate::universe::Repo;
use serde_json::{Value, json};
use std::sync::Arc;

/// A field of an Issue, PullRequest, Commit or merge commit.
pub(crate) fn field<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    obj: &Obj<'u>,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    match obj {
        Obj::Issue(repo, deep, i) => issue(exec, repo, deep, *i, field, subs, path),
        Obj::PullRequest(repo, deep, i) => pull(exec, repo, deep, *i, field, subs, path),
        Obj::Commit(repo, deep, i) => commit(exec, repo, deep, *i, field, subs, path),
        Obj::MergeCommit(repo, deep, i) => Ok(merge_commit(repo, deep, *i, field)),
        _ => Ok(Value::Null),
    }
}

fn ts(t: Option<crate::time::Timestamp>) -> Value {
    t.map_or(Value::Null, |t| json!(t.to_string()))
}

fn labels<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    repo: &'u Repo,
    names: &[&'static str],
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    let wants = exec.asks(subs, "LabelConnection", &["nodes", "edges"]);
    let p = connection::paging(exec, field, wants, path)?;
    let (start, end, next, prev) = connection::offset_window(exec, field, path, &p, names.len())?;
    let items = (start..end).map(|i| (offset_cursor(i), Obj::Label(repo, names[i]))).collect();
    exec.object(&conn("LabelConnection", names.len(), items, next, prev), subs, path)
}

fn count<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    type_name: &'static str,
    n: u32,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    exec.object(&conn(type_name, n as usize, Vec::new(), false, false), subs, path)
}

#[allow(clippy::too_many_arguments)]
fn issue<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    repo: &'u Repo,
    deep: &Arc<Deep>,
    index: usize,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    let i = &deep.issues[index];
    Ok(match field.name.as_str() {
        "id" => json!(ids::issue_node_id(i.id)),
        "databaseId" => json!(i.id),
        "number" => json!(i.number),
        "title" => json!(i.title),
        "state" => json!(if i.state == State::Open { "OPEN" } else { "CLOSED" }),
        "stateReason" => i.state_reason.map_or(Value::Null, |r| json!(r.graphql())),
        "author" => exec.nullable(i.author.clone().map(Obj::User), subs, path),
        "createdAt" => json!(i.created_at.to_string()),
        "updatedAt" => json!(i.updated_at.to_string()),
        "closedAt" => ts(i.closed_at),
        "closed" => json!(i.state == State::Closed),
        "url" => json!(format!("https://github.com/{}/issues/{}", repo.full_name, i.number)),
        "repository" => exec.nullable(Some(Obj::Repository(repo)), subs, path),
        "labels" => labels(exec, repo, &i.labels, field, subs, path)?,
        "comments" => count(exec, "IssueCommentConnection", i.comments, subs, path)?,
        _ => Value::Null,
    })
}

#[allow(clippy::too_many_arguments)]
fn pull<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    repo: &'u Repo,
    deep: &Arc<Deep>,
    index: usize,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    let p = &deep.pulls[index];
    Ok(match field.name.as_str() {
        "id" => json!(ids::pull_node_id(p.id)),
        "databaseId" => json!(p.id),
        "number" => json!(p.number),
        "title" => json!(p.title),
        "state" => json!(p.graphql_state()),
        "isDraft" => json!(p.draft),
        "author" => exec.nullable(p.author.clone().map(Obj::User), subs, path),
        "createdAt" => json!(p.created_at.to_string()),
        "updatedAt" => json!(p.updated_at.to_string()),
        "closedAt" => ts(p.closed_at),
        "mergedAt" => ts(p.merged_at),
        "merged" => json!(p.merged()),
        "closed" => json!(p.state == State::Closed),
        "url" => json!(format!("https://github.com/{}/pull/{}", repo.full_name, p.number)),
        "mergeCommit" => {
            let merge = p.merge_commit_sha.is_some().then(|| Obj::MergeCommit(repo, deep.clone(), index));
            exec.nullable(merge, subs, path)
        }
        "baseRefName" => json!(p.base_ref),
        "headRefName" => json!(p.head_ref),
        "headRefOid" => json!(p.head_sha),
        "headRepository" => {
            let head = p.head_repo_id.and_then(|id| exec.universe.visible(id));
            exec.nullable(head.map(Obj::Repository), subs, path)
        }
        "repository" => exec.nullable(Some(Obj::Repository(repo)), subs, path),
        "labels" => labels(exec, repo, &p.labels, field, subs, path)?,
        "additions" => json!(p.additions),
        "deletions" => json!(p.deletions),
        "changedFiles" => json!(p.changed_files),
        "comments" => count(exec, "IssueCommentConnection", p.comments, subs, path)?,
        "reviews" => count(exec, "PullRequestReviewConnection", p.review_count, subs, path)?,
        "commits" => count(exec, "PullRequestCommitConnection", p.commits, subs, path)?,
        _ => Value::Null,
    })
}

/// A merge commit (pull request `index`'s), known only by oid and date.
fn merge_commit(repo: &Repo, deep: &Deep, index: usize, field: &Field) -> Value {
    let p = &deep.pulls[index];
    let sha = p.merge_commit_sha.clone().unwrap_or_default();
    match field.name.as_str() {
        "id" => json!(ids::commit_node_id(repo.id, &sha)),
        "oid" => json!(sha),
        "abbreviatedOid" => json!(sha.get(..7).unwrap_or(&sha)),
        "messageHeadline" => json!(format!("Merge pull request #{} from {}", p.number, p.head_ref)),
        "message" => json!(format!("Merge pull request #{} from {}", p.number, p.head_ref)),
        "messageBody" => json!(""),
        "committedDate" | "authoredDate" => ts(p.merged_at),
        "url" | "commitUrl" => json!(format!("https://github.com/{}/commit/{sha}", repo.full_name)),
        _ => Value::Null,
    }
}

#[allow(clippy::too_many_arguments)]
fn commit<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    repo: &'u Repo,
    deep: &Arc<Deep>,
    index: usize,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    let c = &deep.commits[index];
    Ok(match field.name.as_str() {
        "id" => json!(ids::commit_node_id(repo.id, &c.sha)),
        "oid" => json!(c.sha),
        "abbreviatedOid" => json!(&c.sha[..7]),
        "messageHeadline" => json!(c.headline()),
        "message" => json!(c.message),
        "messageBody" => json!(c.body()),
        "committedDate" => json!(c.committer.date.to_string()),
        "authoredDate" => json!(c.author.date.to_string()),
        "url" | "commitUrl" => json!(format!("https://github.com/{}/commit/{}", repo.full_name, c.sha)),
        "author" => exec.nullable(Some(Obj::GitActor(deep.clone(), index, true)), subs, path),
        "committer" => exec.nullable(Some(Obj::GitActor(deep.clone(), index, false)), subs, path),
        "history" => history(exec, repo, deep, index, field, subs, path)?,
        _ => Value::Null,
    })
}

/// Indices of the commits from `from` (newest first) within [since, until].
fn reachable(deep: &Deep, from: usize, since: Option<i64>, until: Option<i64>) -> Vec<usize> {
    (from..deep.commits.len())
        .filter(|&i| {
            let date = deep.commits[i].committer.date.0;
            since.is_none_or(|s| date >= s) && until.is_none_or(|u| date <= u)
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn history<'q, 'u>(
    exec: &mut Exec<'q, 'u>,
    repo: &'u Repo,
    deep: &Arc<Deep>,
    index: usize,
    field: &'q Field,
    subs: &[&'q SelectionSet],
    path: &mut Vec<Value>,
) -> Resolved {
    let wants = exec.asks(subs, "CommitHistoryConnection", &["nodes", "edges"]);
    let p = connection::paging(exec, field, wants, path)?;
    let time = |name: &str| str_arg(field, name, exec.vars).map(|s| crate::query::instant(&s).unwrap_or(i64::MAX));
    let (since, until) = (time("since"), time("until"));
    let list = reachable(deep, index, since, until);
    let start_sha = deep.commits[index].sha.clone();
    // A cursor names the commit its history started at and an offset in that
    // history; map it to the commit it points at, then find that in this list.
    let mut position = |cursor: &str| -> Result<Option<usize>, super::exec::Bubble> {
        let (sha, offset) = decode_history(cursor).ok_or_else(|| bad_cursor(exec, field, path, cursor))?;
        let Some(from) = deep.commits.iter().position(|c| c.sha == sha) else { return Ok(None) };
        let pointed = if from == index {
            list.get(offset).copied()
        } else {
            reachable(deep, from, since, until).get(offset).copied()
        };
        Ok(pointed.map(|abs| list.partition_point(|&i| i < abs)))
    };
    let lo = match p.after.as_deref() {
        None => 0,
        Some(c) => position(c)?.map_or(list.len(), |at| at + 1),
    };
    let hi = match p.before.as_deref() {
        None => list.len(),
        Some(c) => position(c)?.unwrap_or(0),
    };
    let (start, end, next, prev) = window(list.len(), lo, hi, &p);
    let items =
        (start..end).map(|k| (history_cursor(&start_sha, k), Obj::Commit(repo, deep.clone(), list[k]))).collect();
    exec.object(&conn("CommitHistoryConnection", list.len(), items, next, prev), subs, path)
}
