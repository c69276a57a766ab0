//! The SQLite store: one file per shard, the same schema for the merged file (DESIGN.md §5).
//!
//! Opening applies the numbered migrations in `migrations/` (tracked by `PRAGMA user_version`)
//! and turns on WAL. Writes that belong together (a page of rows, the cursor that covers them,
//! the requests that paid for them) happen in one transaction, so a kill at any moment loses at
//! most the page in flight and a resume never duplicates.

mod code;
mod daily;
mod detail;
mod repositories;
mod streams;
mod work;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

pub use code::{ARCHIVE_COLUMNS, CodeWanted, SNAPSHOT_COLUMNS};
pub use daily::{Check, DailyChange};
pub use detail::{EtagRow, Lookup, Tombstone};
pub use repositories::{COLUMNS as REPOSITORY_COLUMNS, RepositoryRow};
pub use streams::{PendingStream, StreamPage, StreamSeed, StreamStart, TableRows};
pub use work::{Page, WorkState, WorkStatus};

/// The tables of collected entities, each keyed by (`repo_id`, the entity's id) with a
/// `fetched_at`: what deep collection writes and what goes when a repository is gone.
/// `analyzed_repositories` is one too: an analysis of a repository that is gone goes with it.
pub const ENTITY_TABLES: &[&str] =
    &["pull_requests", "issues", "ci_runs", "contributors", "commits", "analyzed_repositories"];

/// Tables of history, keyed by repository and day or commit: merged like entity tables, but kept
/// when a repository is gone (the day it went is part of the history, its code stays archived).
pub const HISTORY_TABLES: &[&str] = &["daily_repository_changes", "repository_snapshots", "archives"];

use crate::github::RequestRecord;

/// The schema version this build writes; files with another version are refused by merge.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The migrations, in order; migration `n` brings a file from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_detail_tombstones_etags.sql"),
    include_str!("migrations/0003_missing_repositories.sql"),
    include_str!("migrations/0004_plans.sql"),
    include_str!("migrations/0005_deep.sql"),
    include_str!("migrations/0006_daily.sql"),
    include_str!("migrations/0007_code.sql"),
    include_str!("migrations/0008_analyze.sql"),
];

/// Opens any octoshard database read-only for a consumer (export, report, analyze): a `.gz` from
/// its unpacked copy, an older schema from a copy migrated to this one (the file itself is never
/// written); the temporary file, if any, must live as long as the store. The error says why it
/// cannot be read.
pub fn open_for_reading(path: &Path) -> Result<(Store, Option<tempfile::TempPath>), String> {
    let (database, mut temporary) = crate::artifact::readable_sqlite(path)?;
    let mut store = Store::open_readonly(&database).map_err(|e| e.to_string())?;
    let version = store
        .meta("schema_version")
        .map_err(|_| "not an octoshard database (no meta table)".to_string())?
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| "not an octoshard database (no schema version)".to_string())?;
    if version > SCHEMA_VERSION {
        return Err(format!("schema version {version} is newer than this octoshard ({SCHEMA_VERSION})"));
    }
    if version < SCHEMA_VERSION {
        drop(store);
        let (migrated, copy) = Store::open_migrated(&database, version)?;
        (store, temporary) = (migrated, Some(copy));
    }
    Ok((store, temporary))
}

/// A store that could not be opened, read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed on this file.
    #[error("database {path}: {source}")]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file is a database, but not one this build can use.
    #[error("database {path} cannot be used: {reason}")]
    Incompatible {
        /// The database file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// A plan whose work a database holds (the `plans` table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanRow {
    /// The plan id.
    pub plan_id: String,
    /// Its source spec.
    pub source: String,
    /// What its crawls collect.
    pub collect: Vec<crate::plan::Collect>,
    /// Its number of shards.
    pub shard_count: Option<u32>,
}

/// An open octoshard database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) a database for writing, migrated to [`SCHEMA_VERSION`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path).map_err(|source| match why_unopenable(path) {
            Some(reason) => StoreError::Incompatible { path: path.to_path_buf(), reason },
            None => StoreError::Sqlite { path: path.to_path_buf(), source },
        })?;
        let store = Store { conn, path: path.to_path_buf() };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing database read-only (merge inputs), without migrating it.
    pub fn open_readonly(path: &Path) -> Result<Store, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|source| StoreError::Sqlite { path: path.to_path_buf(), source })?;
        Ok(Store { conn, path: path.to_path_buf() })
    }

    /// Migrates `copy`, a copy of a file an earlier octoshard wrote, to this schema and opens it
    /// read-only: older files are read this way, never written.
    pub fn migrate_copy(copy: &Path) -> Result<Store, StoreError> {
        Store::open(copy)?.close_for_transfer()?;
        Store::open_readonly(copy)
    }

    /// [`Store::migrate_copy`] of `database` in a temporary file, deleted when the returned path
    /// drops; the error names the version it could not migrate from.
    pub fn open_migrated(database: &Path, version: i64) -> Result<(Store, tempfile::TempPath), String> {
        let copy = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?.into_temp_path();
        std::fs::copy(database, &copy).map_err(|e| e.to_string())?;
        let store =
            Store::migrate_copy(&copy).map_err(|e| format!("cannot migrate it from schema version {version} ({e})"))?;
        Ok((store, copy))
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The raw connection, for queries owned by other modules (merge, report).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Wraps a SQLite error with this store's path.
    pub fn error(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite { path: self.path.clone(), source }
    }

    fn configure(&self) -> Result<(), StoreError> {
        self.conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(|e| self.error(e))?;
        // WAL + NORMAL: a killed process loses nothing that was committed; only a power cut could
        // lose the last transactions, which a resume then refetches.
        self.conn
            .execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(|e| self.error(e))
    }

    fn migrate(&self) -> Result<(), StoreError> {
        let version: i64 =
            self.conn.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(|e| self.error(e))?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::Incompatible {
                path: self.path.clone(),
                reason: format!("schema version {version} is newer than this octoshard ({SCHEMA_VERSION})"),
            });
        }
        if version == 0 && self.has_foreign_tables()? {
            return Err(StoreError::Incompatible {
                path: self.path.clone(),
                reason: "it holds tables that are not octoshard's; refusing to write into it".into(),
            });
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let next = index as i64 + 1;
            let tx = self.conn.unchecked_transaction().map_err(|e| self.error(e))?;
            tx.execute_batch(sql).map_err(|e| self.error(e))?;
            tx.execute_batch(&format!("PRAGMA user_version = {next}")).map_err(|e| self.error(e))?;
            tx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?1)", [next.to_string()])
                .map_err(|e| self.error(e))?;
            tx.commit().map_err(|e| self.error(e))?;
        }
        Ok(())
    }

    fn has_foreign_tables(&self) -> Result<bool, StoreError> {
        let count: i64 = self
            .conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'", [], |row| row.get(0))
            .map_err(|e| self.error(e))?;
        Ok(count > 0)
    }

    /// A `meta` value.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0))
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Sets a `meta` value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)", params![key, value])
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// Number of repositories stored.
    pub fn repository_count(&self) -> Result<u64, StoreError> {
        self.conn.query_row("SELECT count(*) FROM repositories", [], |row| row.get(0)).map_err(|e| self.error(e))
    }

    /// Records a plan whose work this database holds (once; the first record stands).
    pub fn record_plan(&self, plan: &PlanRow) -> Result<(), StoreError> {
        let collect = serde_json::to_string(&plan.collect).expect("collect serializes");
        self.conn
            .execute(
                "INSERT OR IGNORE INTO plans (plan_id, source, collect, shard_count) VALUES (?1, ?2, ?3, ?4)",
                params![plan.plan_id, plan.source, collect, plan.shard_count],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// The plans whose work this database holds, by plan id.
    pub fn plans(&self) -> Result<Vec<PlanRow>, StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT plan_id, source, collect, shard_count FROM plans ORDER BY plan_id")
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([], |row| {
                let collect: String = row.get(2)?;
                Ok(PlanRow {
                    plan_id: row.get(0)?,
                    source: row.get(1)?,
                    collect: serde_json::from_str(&collect).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
                    })?,
                    shard_count: row.get(3)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.error(e))
    }

    /// Starts a `shard_runs` row and returns its id.
    pub fn start_run(&self, plan_id: &str, shard: &str) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO shard_runs (plan_id, shard, started_at, status, tool_version) VALUES (?1, ?2, ?3, 'running', ?4)",
                params![plan_id, shard, crate::time::now_rfc3339(), crate::TOOL_VERSION],
            )
            .map_err(|e| self.error(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Closes a `shard_runs` row with its outcome.
    pub fn finish_run(&self, run: i64, status: &str, error: Option<&str>) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE shard_runs SET finished_at = ?2, status = ?3, error = ?4,
                    repositories = (SELECT count(*) FROM repositories),
                    requests = (SELECT count(*) FROM api_requests)
                 WHERE id = ?1",
                params![run, crate::time::now_rfc3339(), status, error],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// Runs `work` in one transaction: it commits if `work` succeeds, and any SQLite error names
    /// this file. Every multi-statement write of the store goes through here.
    pub(crate) fn write<T>(
        &mut self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let path = &self.path;
        let sql = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(sql)?;
        let value = work(&tx).map_err(sql)?;
        tx.commit().map_err(sql)?;
        Ok(value)
    }

    /// Records request attempts (for requests that stored nothing, such as a failed page).
    pub fn record_requests(&mut self, shard: &str, records: &[RequestRecord]) -> Result<(), StoreError> {
        self.write(|tx| insert_requests(tx, shard, records))
    }

    /// Folds the WAL into the main file and switches journaling off WAL, so the database is one
    /// self-contained file (ready to compress or hand over).
    pub fn close_for_transfer(self) -> Result<(), StoreError> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;")
            .map_err(|e| self.error(e))?;
        let path = self.path.clone();
        self.conn.close().map_err(|(_, source)| StoreError::Sqlite { path, source })
    }
}

/// A database as an earlier octoshard wrote it: the first `version` migrations only (tests of
/// reading older files).
#[cfg(test)]
pub(crate) fn create_at_version(path: &Path, version: usize) -> Connection {
    let conn = Connection::open(path).unwrap();
    for (index, sql) in MIGRATIONS.iter().enumerate().take(version) {
        conn.execute_batch(sql).unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {}", index + 1)).unwrap();
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?1)",
            [(index + 1).to_string()],
        )
        .unwrap();
    }
    conn
}

/// Why a database file cannot be opened for writing, in the file system's words (SQLite only
/// says "unable to open database file").
fn why_unopenable(path: &Path) -> Option<String> {
    if path.is_dir() {
        return Some("it is a folder".into());
    }
    let existed = path.exists();
    match std::fs::OpenOptions::new().create(true).append(true).open(path) {
        Ok(_) => {
            if !existed {
                let _ = std::fs::remove_file(path);
            }
            None
        }
        Err(error) => Some(format!("cannot open it for writing ({error})")),
    }
}

/// Inserts request records inside the caller's transaction.
pub(crate) fn insert_requests(
    tx: &rusqlite::Transaction<'_>,
    shard: &str,
    records: &[RequestRecord],
) -> rusqlite::Result<()> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO api_requests
            (shard, at, kind, path, status, cost, latency_ms, attempt, credential, error, waited_ms, conditional)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for r in records {
        insert.execute(params![
            shard,
            r.at,
            r.kind.as_str(),
            r.path,
            r.status,
            r.cost,
            r.latency_ms,
            r.attempt,
            r.credential,
            r.error,
            r.waited_ms,
            r.conditional
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_migrates_once_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.sqlite");
        let store = Store::open(&path).unwrap();
        assert_eq!(store.meta("schema_version").unwrap().as_deref(), Some(SCHEMA_VERSION.to_string().as_str()));
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.repository_count().unwrap(), 0);
    }

    #[test]
    fn foreign_and_newer_databases_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("foreign.sqlite");
        Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE x (y)").unwrap();
        let error = Store::open(&foreign).err().unwrap().to_string();
        assert!(error.contains("not octoshard's"), "{error}");

        let newer = dir.path().join("newer.sqlite");
        drop(Store::open(&newer).unwrap());
        Connection::open(&newer).unwrap().execute_batch("PRAGMA user_version = 99").unwrap();
        let error = Store::open(&newer).err().unwrap().to_string();
        assert!(error.contains("schema version 99 is newer"), "{error}");
    }
}
