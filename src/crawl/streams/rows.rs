//! One item of a stream as a row: GraphQL nodes (pull requests, issues, commits) and REST objects
//! (workflow runs, contributors), in the column order of their [`super::spec::Spec`] (without the
//! leading `repo_id` and the trailing `fetched_at`). GitHub's quirks land here: a deleted author
//! is `ghost` with no id, a deleted fork's head repository is NULL.

use rusqlite::types::Value as SqlValue;
use serde_json::Value;

/// The login GitHub shows for a deleted account.
pub const GHOST: &str = "ghost";

fn text(item: &Value, pointer: &str) -> SqlValue {
    item.pointer(pointer).and_then(Value::as_str).map_or(SqlValue::Null, |s| SqlValue::Text(s.to_string()))
}

fn lower(item: &Value, pointer: &str) -> SqlValue {
    item.pointer(pointer).and_then(Value::as_str).map_or(SqlValue::Null, |s| SqlValue::Text(s.to_ascii_lowercase()))
}

fn integer(item: &Value, pointer: &str) -> SqlValue {
    item.pointer(pointer).and_then(Value::as_i64).map_or(SqlValue::Null, SqlValue::Integer)
}

fn flag(item: &Value, pointer: &str) -> SqlValue {
    item.pointer(pointer).and_then(Value::as_bool).map_or(SqlValue::Null, |b| SqlValue::Integer(i64::from(b)))
}

/// (id, login) of an account object (GraphQL `author`/`user`); a deleted account is `ghost`.
fn account(value: Option<&Value>, login: &str, id: &str) -> (SqlValue, SqlValue) {
    match value.filter(|v| !v.is_null()) {
        None => (SqlValue::Null, SqlValue::Text(GHOST.into())),
        Some(account) => {
            let name = account.get(login).and_then(Value::as_str).unwrap_or(GHOST);
            let id = if name == GHOST { SqlValue::Null } else { integer(account, &format!("/{id}")) };
            (id, SqlValue::Text(name.to_string()))
        }
    }
}

/// Label names as a JSON array.
fn labels(item: &Value) -> SqlValue {
    let names: Vec<&str> = item
        .pointer("/labels/nodes")
        .and_then(Value::as_array)
        .map(|nodes| nodes.iter().filter_map(|n| n.get("name").and_then(Value::as_str)).collect())
        .unwrap_or_default();
    SqlValue::Text(serde_json::to_string(&names).expect("names serialize"))
}

/// A GraphQL `PullRequest`.
pub fn pull_request(item: &Value) -> Option<Vec<SqlValue>> {
    let id = item.get("databaseId").and_then(Value::as_i64)?;
    let (author_id, author_login) = account(item.get("author"), "login", "databaseId");
    Some(vec![
        SqlValue::Integer(id),
        integer(item, "/number"),
        text(item, "/title"),
        lower(item, "/state"),
        flag(item, "/isDraft"),
        author_id,
        author_login,
        text(item, "/createdAt"),
        text(item, "/updatedAt"),
        text(item, "/closedAt"),
        text(item, "/mergedAt"),
        text(item, "/mergeCommit/oid"),
        text(item, "/baseRefName"),
        text(item, "/headRefName"),
        integer(item, "/headRepository/databaseId"),
        labels(item),
        integer(item, "/additions"),
        integer(item, "/deletions"),
        integer(item, "/changedFiles"),
        integer(item, "/comments/totalCount"),
        integer(item, "/reviews/totalCount"),
    ])
}

/// A GraphQL `Issue`.
pub fn issue(item: &Value) -> Option<Vec<SqlValue>> {
    let id = item.get("databaseId").and_then(Value::as_i64)?;
    let (author_id, author_login) = account(item.get("author"), "login", "databaseId");
    Some(vec![
        SqlValue::Integer(id),
        integer(item, "/number"),
        text(item, "/title"),
        lower(item, "/state"),
        lower(item, "/stateReason"),
        author_id,
        author_login,
        text(item, "/createdAt"),
        text(item, "/updatedAt"),
        text(item, "/closedAt"),
        labels(item),
        integer(item, "/comments/totalCount"),
    ])
}

/// A GraphQL `Commit` of the default branch's history.
pub fn commit(item: &Value) -> Option<Vec<SqlValue>> {
    let sha = item.get("oid").and_then(Value::as_str)?;
    let person = |who: &str| {
        let user = item.pointer(&format!("/{who}/user")).filter(|u| !u.is_null());
        let (id, login) = match user {
            Some(user) => account(Some(user), "login", "databaseId"),
            None => (SqlValue::Null, SqlValue::Null),
        };
        (id, login, text(item, &format!("/{who}/name")), text(item, &format!("/{who}/date")))
    };
    let (author_id, author_login, author_name, author_date) = person("author");
    let (committer_id, committer_login, committer_name, committer_date) = person("committer");
    Some(vec![
        SqlValue::Text(sha.to_string()),
        author_id,
        author_login,
        author_name,
        author_date,
        committer_id,
        committer_login,
        committer_name,
        committer_date,
        text(item, "/messageHeadline"),
    ])
}

/// A REST workflow run; the duration of a completed run is `updated_at - run_started_at`.
pub fn run(item: &Value) -> Option<Vec<SqlValue>> {
    let id = item.get("id").and_then(Value::as_i64)?;
    let seconds = |pointer: &str| {
        item.pointer(pointer).and_then(Value::as_str).and_then(crate::time::epoch_seconds).map(|s| s as i64)
    };
    let completed = item.get("status").and_then(Value::as_str) == Some("completed");
    let duration = match (completed, seconds("/run_started_at"), seconds("/updated_at")) {
        (true, Some(start), Some(end)) if end >= start => SqlValue::Integer(end - start),
        _ => SqlValue::Null,
    };
    Some(vec![
        SqlValue::Integer(id),
        integer(item, "/workflow_id"),
        text(item, "/name"),
        text(item, "/event"),
        text(item, "/status"),
        text(item, "/conclusion"),
        text(item, "/head_sha"),
        text(item, "/head_branch"),
        integer(item, "/run_attempt"),
        text(item, "/created_at"),
        text(item, "/run_started_at"),
        text(item, "/updated_at"),
        duration,
    ])
}

/// A REST contributor with an account (anonymous contributors have none and are skipped).
pub fn contributor(item: &Value) -> Option<Vec<SqlValue>> {
    let id = item.get("id").and_then(Value::as_i64)?;
    Some(vec![
        SqlValue::Integer(id),
        text(item, "/login"),
        integer(item, "/contributions"),
        SqlValue::Null,
        SqlValue::Null,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_pull_request_of_a_deleted_author_from_a_deleted_fork() {
        let row = pull_request(&json!({
            "databaseId": 7, "number": 3, "title": "Fix", "state": "MERGED", "isDraft": false, "author": null,
            "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-02T00:00:00Z", "closedAt": "2024-01-02T00:00:00Z",
            "mergedAt": "2024-01-02T00:00:00Z", "mergeCommit": { "oid": "abc" }, "baseRefName": "main",
            "headRefName": "fix", "headRepository": null, "labels": { "nodes": [{ "name": "bug" }] },
            "additions": 3, "deletions": 1, "changedFiles": 2, "comments": { "totalCount": 4 }, "reviews": { "totalCount": 1 }
        }))
        .unwrap();
        assert_eq!(row[3], SqlValue::Text("merged".into()));
        assert_eq!((&row[5], &row[6]), (&SqlValue::Null, &SqlValue::Text("ghost".into())));
        assert_eq!(row[14], SqlValue::Null, "head repository of a deleted fork");
        assert_eq!(row[15], SqlValue::Text(r#"["bug"]"#.into()));
        assert_eq!(row.len(), 21);
    }

    #[test]
    fn issues_commits_runs_and_contributors_map_their_fields() {
        let row = issue(&json!({
            "databaseId": 9, "number": 1, "title": "Bug", "state": "CLOSED", "stateReason": "NOT_PLANNED",
            "author": { "login": "octo", "databaseId": 5 }, "labels": { "nodes": [] }, "comments": { "totalCount": 0 }
        }))
        .unwrap();
        assert_eq!(
            (&row[4], &row[5], &row[6]),
            (&SqlValue::Text("not_planned".into()), &SqlValue::Integer(5), &SqlValue::Text("octo".into()))
        );
        let row = commit(&json!({
            "oid": "f00", "messageHeadline": "Init",
            "author": { "name": "A", "date": "2024-01-01T00:00:00Z", "user": null },
            "committer": { "name": "C", "date": "2024-01-01T00:00:01Z", "user": { "login": "c", "databaseId": 2 } }
        }))
        .unwrap();
        assert_eq!(
            (&row[1], &row[2], &row[5], &row[6]),
            (&SqlValue::Null, &SqlValue::Null, &SqlValue::Integer(2), &SqlValue::Text("c".into()))
        );
        let row = run(&json!({
            "id": 1, "status": "completed", "run_started_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:01:30Z"
        }))
        .unwrap();
        assert_eq!(row[12], SqlValue::Integer(90));
        assert!(contributor(&json!({ "type": "Anonymous", "contributions": 3 })).is_none());
    }
}
