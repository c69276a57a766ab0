//! Detail, tombstones and ETags: rows whose GraphQL detail is still to fetch, repositories that
//! turned out to be gone, and the ETags that let a re-crawl skip unchanged listing pages.

use rusqlite::{OptionalExtension, params};

use super::repositories::{self, COLUMNS, RepositoryRow};
use super::{Store, StoreError, insert_requests};
use crate::github::RequestRecord;

/// A repository that was listed but is gone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tombstone {
    /// Repository id.
    pub id: u64,
    /// Its node id.
    pub node_id: Option<String>,
    /// Its last known name.
    pub full_name: Option<String>,
    /// `not_found`, `forbidden`, ...
    pub reason: String,
    /// When it was seen gone.
    pub observed_at: String,
}

/// A batch of named lookups to commit: the rows found (with detail), the streams they start, the
/// names not found with the reason, the number of names done after it, and the requests.
#[derive(Clone, Copy, Debug)]
pub struct Lookup<'a> {
    /// Repositories found.
    pub rows: &'a [RepositoryRow],
    /// `(name, reason)` of names GitHub could not resolve.
    pub missing: &'a [(String, String)],
    /// Repositories looked up by node id and found gone.
    pub gone: &'a [Tombstone],
    /// Streams the found repositories start.
    pub streams: &'a super::StreamStart,
    /// Names done after this batch.
    pub cursor: usize,
    /// The requests.
    pub records: &'a [RequestRecord],
}

/// Records a repository as gone and removes it with its streams and collected rows.
pub(super) fn bury(tx: &rusqlite::Transaction<'_>, t: &Tombstone) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO tombstones (id, node_id, full_name, reason, observed_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![t.id, t.node_id, t.full_name, t.reason, t.observed_at])?;
    tx.prepare_cached("DELETE FROM repositories WHERE id = ?1")?.execute([t.id])?;
    tx.prepare_cached("DELETE FROM stream_state WHERE repo_id = ?1")?.execute([t.id])?;
    for table in super::ENTITY_TABLES {
        tx.prepare_cached(&format!("DELETE FROM {table} WHERE repo_id = ?1"))?.execute([t.id])?;
    }
    Ok(())
}

/// The stored ETag of a listing page and what that page held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EtagRow {
    /// `/repositories?since=N`.
    pub path: String,
    /// The ETag.
    pub etag: String,
    /// The next page's cursor (None at the end).
    pub cursor_after: Option<String>,
    /// The ids the page listed.
    pub ids: Vec<u64>,
}

impl Store {
    /// Rows still waiting for detail, lowest ids first: `(id, node_id)`.
    pub fn pending_detail(&self, limit: usize) -> Result<Vec<(u64, Option<String>)>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT id, node_id FROM repositories WHERE detail_fetched_at IS NULL ORDER BY id LIMIT ?1")
            .map_err(|e| self.error(e))?;
        let rows =
            statement.query_map([limit as i64], |row| Ok((row.get(0)?, row.get(1)?))).map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// How many rows wait for detail.
    pub fn pending_detail_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM repositories WHERE detail_fetched_at IS NULL", [], |row| row.get(0))
            .map_err(|e| self.error(e))
    }

    /// Stores one detail batch: the rows, the streams they start, the tombstones (removing those
    /// repositories), and the requests that fetched them, in one transaction.
    pub fn commit_detail(
        &mut self,
        shard: &str,
        rows: &[RepositoryRow],
        tombstones: &[Tombstone],
        streams: &super::StreamStart,
        records: &[RequestRecord],
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            repositories::upsert(tx, rows)?;
            streams.write(tx)?;
            for t in tombstones {
                bury(tx, t)?;
            }
            insert_requests(tx, shard, records)
        })
    }

    /// Stores a batch of named lookups: rows found (with detail), names not found, the cursor
    /// after them and the requests, in one transaction.
    pub fn commit_lookup(&mut self, shard: &str, idx: u32, lookup: &Lookup<'_>) -> Result<(), StoreError> {
        let Lookup { rows, missing, gone, streams, cursor, records } = *lookup;
        let now = crate::time::now_rfc3339();
        self.write(|tx| {
            repositories::upsert(tx, rows)?;
            streams.write(tx)?;
            for t in gone {
                bury(tx, t)?;
            }
            for (name, reason) in missing {
                tx.execute(
                    "INSERT OR REPLACE INTO missing_repositories (full_name, reason, observed_at) VALUES (?1, ?2, ?3)",
                    params![name, reason, now],
                )?;
            }
            insert_requests(tx, shard, records)?;
            advance_cursor(tx, shard, idx, cursor, rows.len(), &now)
        })
    }

    /// The stored ETag of a listing page.
    pub fn etag(&self, path: &str) -> Result<Option<EtagRow>, StoreError> {
        let row: Option<(String, Option<String>, String)> = self
            .conn
            .query_row("SELECT etag, cursor_after, ids FROM etags WHERE path = ?1", [path], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()
            .map_err(|e| self.error(e))?;
        Ok(row.and_then(|(etag, cursor_after, ids)| {
            let ids = serde_json::from_str(&ids).ok()?;
            Some(EtagRow { path: path.to_string(), etag, cursor_after, ids })
        }))
    }

    /// Reads repositories by id (rows another database holds, for a 304 page).
    pub fn repositories_by_id(&self, ids: &[u64]) -> Result<Vec<RepositoryRow>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(&format!("SELECT {} FROM repositories WHERE id = ?1", COLUMNS.join(", ")))
            .map_err(|e| self.error(e))?;
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(row) =
                statement.query_row([id], RepositoryRow::from_sql).optional().map_err(|e| self.error(e))?
            {
                rows.push(row);
            }
        }
        Ok(rows)
    }
}

/// Moves the cursor of a list item (the number of its entries done) and counts what it stored,
/// inside the caller's transaction.
pub(super) fn advance_cursor(
    tx: &rusqlite::Transaction<'_>,
    shard: &str,
    idx: u32,
    cursor: usize,
    stored: usize,
    now: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "UPDATE work_items SET cursor = ?3, stored = stored + ?4, updated_at = ?5 WHERE shard = ?1 AND idx = ?2",
        params![shard, idx, cursor.to_string(), stored as i64, now],
    )
    .map(drop)
}

/// Saves a page's ETag inside the caller's transaction.
pub(crate) fn save_etag(tx: &rusqlite::Transaction<'_>, etag: &EtagRow) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO etags (path, etag, cursor_after, ids, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            etag.path,
            etag.etag,
            etag.cursor_after,
            serde_json::to_string(&etag.ids).expect("ids serialize"),
            crate::time::now_rfc3339()
        ],
    )
    .map(drop)
}
