//! Incremental deep collection against an earlier database (`--previous`): a stream whose signal
//! did not move since then (the newest issue or pull request, the last push) is copied from that
//! database without a request; one that moved is read from the newest time the database holds;
//! one the database never finished is read whole.

use rusqlite::OptionalExtension;
use rusqlite::types::Value as SqlValue;

use super::spec::{Facts, Signal, Spec};
use crate::store::{Store, StoreError, TableRows};

/// What to do with one stream of one repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Read it whole.
    Full,
    /// Nothing changed: take the earlier rows.
    Unchanged,
    /// Take the earlier rows and read what changed at or after this time.
    Since(String),
}

/// Decides for `spec` of repository `repo_id` from what the earlier database holds.
pub fn decide(previous: &Store, repo_id: u64, facts: &Facts, spec: &Spec) -> Result<Decision, StoreError> {
    let conn = previous.conn();
    let sql = |e| previous.error(e);
    let finished: Option<String> = conn
        .query_row(
            "SELECT status FROM stream_state WHERE repo_id = ?1 AND stream = ?2",
            rusqlite::params![repo_id as i64, spec.name],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql)?;
    if finished.as_deref() != Some("completed") {
        return Ok(Decision::Full);
    }
    let newest = |table: &str, column: &str| -> Result<Option<String>, StoreError> {
        conn.query_row(&format!("SELECT max({column}) FROM {table} WHERE repo_id = ?1"), [repo_id as i64], |row| {
            row.get(0)
        })
        .map_err(sql)
    };
    let pushed: Option<String> = conn
        .query_row("SELECT pushed_at FROM repositories WHERE id = ?1", [repo_id as i64], |row| row.get(0))
        .optional()
        .map_err(sql)?
        .flatten();
    let moved = |now: &Option<String>, then: Option<String>| match (now, then) {
        (None, None) => false,
        (Some(now), Some(then)) => now.as_str() > then.as_str(),
        _ => true,
    };
    let pulls_moved =
        || -> Result<bool, StoreError> { Ok(moved(&facts.newest_pull, newest("pull_requests", "updated_at")?)) };
    let changed = match spec.changes_with {
        Signal::NewestIssue => moved(&facts.newest_issue, newest("issues", "updated_at")?),
        Signal::NewestPull => pulls_moved()?,
        Signal::Push => moved(&facts.pushed, pushed),
        Signal::PushOrPulls => moved(&facts.pushed, pushed) || pulls_moved()?,
    };
    if !changed {
        return Ok(Decision::Unchanged);
    }
    Ok(match spec.since_sql {
        Some(aggregate) => since(previous, repo_id, spec.table, aggregate)?.map_or(Decision::Full, Decision::Since),
        None => Decision::Full,
    })
}

/// `aggregate` over the rows of `repo_id` in `table`.
fn since(previous: &Store, repo_id: u64, table: &str, aggregate: &str) -> Result<Option<String>, StoreError> {
    previous
        .conn()
        .query_row(&format!("SELECT {aggregate} FROM {table} WHERE repo_id = ?1"), [repo_id as i64], |row| row.get(0))
        .map_err(|e| previous.error(e))
}

/// The earlier rows of `spec` for `repo_id`, to copy into this crawl.
pub fn earlier_rows(previous: &Store, repo_id: u64, spec: &'static Spec) -> Result<TableRows, StoreError> {
    let sql = format!("SELECT {} FROM {} WHERE repo_id = ?1", spec.columns.join(", "), spec.table);
    let mut statement = previous.conn().prepare_cached(&sql).map_err(|e| previous.error(e))?;
    let width = spec.columns.len();
    let rows = statement
        .query_map([repo_id as i64], |row| {
            (0..width).map(|i| row.get::<_, SqlValue>(i)).collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(|e| previous.error(e))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| previous.error(e))?;
    Ok(TableRows { table: spec.table, columns: spec.columns, rows })
}
