//! Code in the store: snapshots and archives keyed by (repository, commit sha), and the code
//! streams that wait for them in `stream_state` (`snapshot`, or `archive` which also counts the
//! snapshot), apart from the entity streams. An earlier database's rows for the same commit are
//! reused, so an unchanged head is never fetched or downloaded again.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params};

use super::{PendingStream, Store, StoreError, TableRows};

/// The code streams' names in `stream_state`, as an SQL list: they wait apart from the entity
/// streams.
pub(super) const CODE_STREAMS: &str = "('snapshot', 'archive')";

/// `repository_snapshots` columns in bind order (key first, `fetched_at` last).
pub const SNAPSHOT_COLUMNS: &[&str] = &[
    "repo_id",
    "commit_sha",
    "snapshot_date",
    "committed_at",
    "file_count",
    "size_bytes",
    "tree_truncated",
    "counted_from",
    "fetched_at",
];

/// `archives` columns in bind order (key first, `fetched_at` last).
pub const ARCHIVE_COLUMNS: &[&str] =
    &["repo_id", "commit_sha", "uri", "sha256", "bytes", "stored_at", "skipped", "max_bytes", "fetched_at"];

/// What a crawl wants of each repository's code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeWanted {
    /// A snapshot row.
    pub snapshot: bool,
    /// An archive, and the size limit in force.
    pub archive: Option<Option<u64>>,
}

impl Store {
    /// Code streams waiting, lowest repository ids first, at most `limit`.
    pub fn pending_code(&self, limit: usize) -> Result<Vec<PendingStream>, StoreError> {
        self.pending_where(&format!("s.stream IN {CODE_STREAMS}"), limit)
    }

    /// How many code streams wait.
    pub fn pending_code_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT count(*) FROM stream_state WHERE status = 'pending' AND stream IN {CODE_STREAMS}"),
                [],
                |row| row.get(0),
            )
            .map_err(|e| self.error(e))
    }

    /// The rows this database holds for a repository's code at `sha` when they are all that is
    /// wanted (a snapshot when one is, an archive stored or skipped under a limit no larger than
    /// today's), to copy instead of fetching; `None` when something is missing.
    pub fn earlier_code(
        &self,
        repo_id: u64,
        sha: &str,
        wanted: CodeWanted,
    ) -> Result<Option<Vec<TableRows>>, StoreError> {
        earlier_code(&self.conn, repo_id, sha, wanted).map_err(|e| self.error(e))
    }
}

fn earlier_code(
    conn: &Connection,
    repo_id: u64,
    sha: &str,
    wanted: CodeWanted,
) -> rusqlite::Result<Option<Vec<TableRows>>> {
    let mut found = Vec::new();
    if wanted.snapshot {
        match row(conn, "repository_snapshots", SNAPSHOT_COLUMNS, repo_id, sha, "true")? {
            Some(row) => {
                found.push(TableRows { table: "repository_snapshots", columns: SNAPSHOT_COLUMNS, rows: vec![row] })
            }
            None => return Ok(None),
        }
    }
    if let Some(limit) = wanted.archive {
        // A skip stands while the limit is no larger than the one it was skipped under.
        let usable = match limit {
            Some(limit) => format!("(uri IS NOT NULL OR (skipped IS NOT NULL AND max_bytes >= {limit}))"),
            None => "uri IS NOT NULL".to_string(),
        };
        match row(conn, "archives", ARCHIVE_COLUMNS, repo_id, sha, &usable)? {
            Some(row) => found.push(TableRows { table: "archives", columns: ARCHIVE_COLUMNS, rows: vec![row] }),
            None => return Ok(None),
        }
    }
    Ok(Some(found))
}

/// One row of a code table by key, if it meets `condition`.
fn row(
    conn: &Connection,
    table: &str,
    columns: &[&str],
    repo_id: u64,
    sha: &str,
    condition: &str,
) -> rusqlite::Result<Option<Vec<SqlValue>>> {
    let sql =
        format!("SELECT {} FROM {table} WHERE repo_id = ?1 AND commit_sha = ?2 AND {condition}", columns.join(", "));
    conn.prepare_cached(&sql)?
        .query_row(params![repo_id as i64, sha], |row| {
            (0..columns.len()).map(|i| row.get::<_, SqlValue>(i)).collect::<rusqlite::Result<Vec<_>>>()
        })
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earlier_code_is_reused_only_when_complete_and_a_skip_only_under_a_smaller_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.sqlite")).unwrap();
        store
            .conn
            .execute_batch(
                "INSERT INTO repository_snapshots VALUES (1, 'aa', '2026-01-01', NULL, 3, 30, 0, 'tree', 't');
                 INSERT INTO archives VALUES (1, 'aa', 'file:///x/1/aa.tar.gz', 'ff', 10, 't', NULL, NULL, 't');
                 INSERT INTO repository_snapshots VALUES (2, 'bb', '2026-01-01', NULL, 3, 30, 0, 'tree', 't');
                 INSERT INTO archives VALUES (2, 'bb', NULL, NULL, NULL, NULL, 'larger than 100 bytes', 100, 't');",
            )
            .unwrap();
        let both = |limit| CodeWanted { snapshot: true, archive: Some(limit) };
        let rows = store.earlier_code(1, "aa", both(None)).unwrap().unwrap();
        assert_eq!(rows.iter().map(|r| r.table).collect::<Vec<_>>(), ["repository_snapshots", "archives"]);
        assert!(store.earlier_code(1, "other", both(None)).unwrap().is_none());
        assert!(store.earlier_code(2, "bb", both(Some(100))).unwrap().is_some());
        assert!(store.earlier_code(2, "bb", both(Some(50))).unwrap().is_some());
        assert!(store.earlier_code(2, "bb", both(Some(1000))).unwrap().is_none(), "a larger limit tries again");
        assert!(store.earlier_code(2, "bb", both(None)).unwrap().is_none());
        let snapshot_only = CodeWanted { snapshot: true, archive: None };
        assert_eq!(store.earlier_code(2, "bb", snapshot_only).unwrap().unwrap().len(), 1);
    }
}
