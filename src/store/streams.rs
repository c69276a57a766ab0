//! Deep collection in the store: the entity tables (pull requests, issues, runs, contributors,
//! commits) written generically by table and column list, and `stream_state`, the cursor of each
//! (repository, stream). A page's rows, its stream's new cursor and the requests that paid for
//! it commit in one transaction.

use rusqlite::types::Value as SqlValue;
use rusqlite::{Transaction, params};

use super::{Store, StoreError, insert_requests};
use crate::github::RequestRecord;

/// A stream of one repository to start (from the detail query's counts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSeed {
    /// Repository id.
    pub repo_id: u64,
    /// Stream name (`issues`, ...).
    pub stream: &'static str,
    /// Items GitHub counts, when known.
    pub expected: Option<u64>,
    /// Only what changed at or after this time (incremental), when set.
    pub since: Option<String>,
    /// Known to be empty: why (`disabled`, `empty repository`, `none`); the stream starts done.
    pub empty: Option<&'static str>,
    /// Where it starts (code streams: the commit to take).
    pub cursor: Option<String>,
}

/// The streams detailed repositories start, and the rows an incremental crawl copies from an
/// earlier database for them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamStart {
    /// Streams to start.
    pub seeds: Vec<StreamSeed>,
    /// Earlier rows, copied as they were.
    pub copied: Vec<TableRows>,
}

impl StreamStart {
    /// Writes both inside the caller's transaction.
    pub(crate) fn write(&self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        Store::seed_streams(tx, &self.seeds)?;
        for rows in &self.copied {
            upsert_rows(tx, rows)?;
        }
        Ok(())
    }
}

/// A stream waiting for its next page, with what its requests need to know of the repository.
/// Code streams (`snapshot`, `archive`) wait apart: [`Store::pending_code`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingStream {
    /// Repository id.
    pub repo_id: u64,
    /// Its node id.
    pub node_id: Option<String>,
    /// `owner/name`.
    pub full_name: String,
    /// Stream name.
    pub stream: String,
    /// Where the next page starts (`None`: the first page).
    pub cursor: Option<String>,
    /// Items GitHub counted, when known.
    pub expected: Option<u64>,
    /// Items stored so far.
    pub stored: u64,
    /// Incremental lower bound.
    pub since: Option<String>,
}

/// Rows for one entity table: its name, its columns in bind order (the key columns first:
/// `repo_id`, then the entity's id), and the rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TableRows {
    /// The table.
    pub table: &'static str,
    /// Its columns, `repo_id` and the entity key first; `fetched_at` among them.
    pub columns: &'static [&'static str],
    /// The rows, each with one value per column.
    pub rows: Vec<Vec<SqlValue>>,
}

/// One page of one stream, ready to commit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamPage {
    /// Repository id.
    pub repo_id: u64,
    /// Stream name.
    pub stream: &'static str,
    /// The page's rows.
    pub rows: TableRows,
    /// The cursor after the page; `None` when the stream is done.
    pub cursor: Option<String>,
    /// Why it ended with nothing, when it did.
    pub note: Option<String>,
}

impl Store {
    /// Starts streams for repositories (once: a stream already known keeps its state).
    pub(crate) fn seed_streams(tx: &Transaction<'_>, seeds: &[StreamSeed]) -> rusqlite::Result<()> {
        let mut insert = tx.prepare_cached(
            "INSERT INTO stream_state (repo_id, stream, status, expected, since, note, updated_at, cursor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (repo_id, stream) DO NOTHING",
        )?;
        let now = crate::time::now_rfc3339();
        for seed in seeds {
            let status = if seed.empty.is_some() { "completed" } else { "pending" };
            insert.execute(params![
                seed.repo_id as i64,
                seed.stream,
                status,
                seed.expected.map(|n| n as i64),
                seed.since,
                seed.empty,
                now,
                seed.cursor
            ])?;
        }
        Ok(())
    }

    /// Streams waiting for a page, lowest repository ids first, at most `limit`.
    pub fn pending_streams(&self, limit: usize) -> Result<Vec<PendingStream>, StoreError> {
        self.pending_where(&format!("s.stream NOT IN {}", super::code::CODE_STREAMS), limit)
    }

    /// Pending streams of `stream_state` meeting `condition`, with their repositories' names.
    pub(super) fn pending_where(&self, condition: &str, limit: usize) -> Result<Vec<PendingStream>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(&format!(
                "SELECT s.repo_id, r.node_id, r.full_name, s.stream, s.cursor, s.expected, s.stored, s.since
                 FROM stream_state s JOIN repositories r ON r.id = s.repo_id
                 WHERE s.status = 'pending' AND {condition}
                 ORDER BY s.repo_id, s.stream LIMIT ?1"
            ))
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([limit as i64], |row| {
                Ok(PendingStream {
                    repo_id: row.get(0)?,
                    node_id: row.get(1)?,
                    full_name: row.get(2)?,
                    stream: row.get(3)?,
                    cursor: row.get(4)?,
                    expected: row.get::<_, Option<i64>>(5)?.map(|n| n.max(0) as u64),
                    stored: row.get::<_, i64>(6)?.max(0) as u64,
                    since: row.get(7)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.error(e))
    }

    /// How many streams wait for a page.
    pub fn pending_stream_count(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                &format!(
                    "SELECT count(*) FROM stream_state WHERE status = 'pending' AND stream NOT IN {}",
                    super::code::CODE_STREAMS
                ),
                [],
                |row| row.get(0),
            )
            .map_err(|e| self.error(e))
    }

    /// Commits pages of several streams, the repositories found gone (tombstones, with their
    /// streams and rows removed), and the requests that fetched them, in one transaction.
    pub fn commit_streams(
        &mut self,
        shard: &str,
        pages: &[StreamPage],
        gone: &[super::Tombstone],
        records: &[RequestRecord],
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            let now = crate::time::now_rfc3339();
            for page in pages {
                upsert_rows(tx, &page.rows)?;
                let status = if page.cursor.is_some() { "pending" } else { "completed" };
                tx.prepare_cached(
                    "UPDATE stream_state SET status = ?3, cursor = ?4, stored = stored + ?5,
                        note = coalesce(?6, note), updated_at = ?7
                     WHERE repo_id = ?1 AND stream = ?2",
                )?
                .execute(params![
                    page.repo_id as i64,
                    page.stream,
                    status,
                    page.cursor,
                    page.rows.rows.len() as i64,
                    page.note,
                    now
                ])?;
            }
            for tombstone in gone {
                super::detail::bury(tx, tombstone)?;
            }
            insert_requests(tx, shard, records)
        })
    }

    /// Fills contributors' first and last contribution from the commits stored for them.
    pub fn date_contributions(&mut self) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "UPDATE contributors SET
                    first_contribution_at = (SELECT min(c.author_date) FROM commits c
                        WHERE c.repo_id = contributors.repo_id AND c.author_id = contributors.user_id),
                    last_contribution_at = (SELECT max(c.author_date) FROM commits c
                        WHERE c.repo_id = contributors.repo_id AND c.author_id = contributors.user_id)
                 WHERE EXISTS (SELECT 1 FROM commits c WHERE c.repo_id = contributors.repo_id)",
                [],
            )
            .map(drop)
        })
    }
}

/// Inserts or updates rows of one entity table by its key (the first two columns).
fn upsert_rows(tx: &Transaction<'_>, rows: &TableRows) -> rusqlite::Result<()> {
    if rows.rows.is_empty() {
        return Ok(());
    }
    let columns = rows.columns;
    let placeholders: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
    let updates: Vec<String> = columns[2..].iter().map(|c| format!("{c} = excluded.{c}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ({}, {}) DO UPDATE SET {}",
        rows.table,
        columns.join(", "),
        placeholders.join(", "),
        columns[0],
        columns[1],
        updates.join(", ")
    );
    let mut statement = tx.prepare_cached(&sql)?;
    for row in &rows.rows {
        statement.execute(rusqlite::params_from_iter(row.iter()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{RepositoryRow, Tombstone};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let row = |id: u64| RepositoryRow {
            id,
            node_id: Some(format!("R_{id}")),
            full_name: format!("o/r{id}"),
            owner: "o".into(),
            name: format!("r{id}"),
            fetched_at: "2026-01-01T00:00:00.000Z".into(),
            detail_fetched_at: Some("2026-01-01T00:00:00.000Z".into()),
            ..RepositoryRow::default()
        };
        let seeds = vec![
            StreamSeed { repo_id: 1, stream: "issues", expected: Some(2), since: None, empty: None, cursor: None },
            StreamSeed {
                repo_id: 2,
                stream: "issues",
                expected: Some(0),
                since: None,
                empty: Some("none"),
                cursor: None,
            },
            StreamSeed { repo_id: 3, stream: "issues", expected: Some(5), since: None, empty: None, cursor: None },
        ];
        let start = StreamStart { seeds, copied: Vec::new() };
        store.commit_detail("shard-0000", &[row(1), row(2), row(3)], &[], &start, &[]).unwrap();
        (dir, store)
    }

    fn issue(repo: i64, id: i64) -> Vec<SqlValue> {
        let mut row = vec![SqlValue::Integer(repo), SqlValue::Integer(id), SqlValue::Integer(id)];
        row.extend(std::iter::repeat_n(SqlValue::Null, 10));
        row.push(SqlValue::Text("2026-01-01T00:00:00.000Z".into()));
        row
    }

    const ISSUE_COLUMNS: &[&str] = crate::crawl::streams::spec::STREAMS[1].columns;

    #[test]
    fn pages_move_rows_and_cursors_together_and_known_empty_streams_start_done() {
        let (_dir, mut store) = store();
        let pending = store.pending_streams(10).unwrap();
        assert_eq!(pending.iter().map(|p| p.repo_id).collect::<Vec<_>>(), [1, 3]);
        assert_eq!((pending[0].full_name.as_str(), pending[0].expected), ("o/r1", Some(2)));
        let page = |repo: u64, ids: &[i64], cursor: Option<&str>| StreamPage {
            repo_id: repo,
            stream: "issues",
            rows: TableRows {
                table: "issues",
                columns: ISSUE_COLUMNS,
                rows: ids.iter().map(|id| issue(repo as i64, *id)).collect(),
            },
            cursor: cursor.map(str::to_string),
            note: None,
        };
        store.commit_streams("shard-0000", &[page(1, &[10, 11], None), page(3, &[30], Some("c1"))], &[], &[]).unwrap();
        // The same page again (a resume after a kill) changes nothing.
        store.commit_streams("shard-0000", &[page(3, &[30], Some("c1"))], &[], &[]).unwrap();
        let pending = store.pending_streams(10).unwrap();
        assert_eq!((pending.len(), pending[0].cursor.as_deref()), (1, Some("c1")));
        let count = |store: &Store, sql: &str| store.conn().query_row(sql, [], |row| row.get::<_, i64>(0)).unwrap();
        assert_eq!(count(&store, "SELECT count(*) FROM issues"), 3);
        // A repository found gone takes its rows and streams with it.
        let gone = Tombstone {
            id: 3,
            node_id: None,
            full_name: None,
            reason: "not_found".into(),
            observed_at: "2026-01-02T00:00:00.000Z".into(),
        };
        store.commit_streams("shard-0000", &[], &[gone], &[]).unwrap();
        assert_eq!(count(&store, "SELECT count(*) FROM issues WHERE repo_id = 3"), 0);
        assert_eq!(store.pending_stream_count().unwrap(), 0);
        assert_eq!(count(&store, "SELECT count(*) FROM repositories"), 2);
    }
}
