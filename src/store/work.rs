//! Work items: the manifest's work as rows, with status, cursor and attempts. The cursor only
//! moves in [`Store::commit_page`], together with the rows it covers.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError, insert_requests, repositories};
use crate::github::RequestRecord;
use crate::plan::WorkItem;
use crate::store::RepositoryRow;

/// One page of work to commit atomically.
#[derive(Clone, Copy, Debug)]
pub struct Page<'a> {
    /// Rows the page yielded.
    pub rows: &'a [RepositoryRow],
    /// The cursor after the page.
    pub cursor: &'a str,
    /// Whether the work item is complete with this page.
    pub completed: bool,
    /// The requests that fetched it.
    pub records: &'a [RequestRecord],
    /// The page's ETag, to store for conditional re-crawls.
    pub etag: Option<&'a crate::store::EtagRow>,
    /// Streams the page's repositories start, when they came with their detail.
    pub streams: Option<&'a super::StreamStart>,
}

/// Where a work item stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkStatus {
    /// Not started, or stopped at a deadline (the cursor says where to go on).
    Pending,
    /// Started by a crawl that has not finished it (or was killed).
    Processing,
    /// Done: every page is stored.
    Completed,
    /// Gave up with an error; the cursor still says where to go on.
    Failed,
}

impl WorkStatus {
    /// The value stored in `work_items.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkStatus::Pending => "pending",
            WorkStatus::Processing => "processing",
            WorkStatus::Completed => "completed",
            WorkStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> WorkStatus {
        match text {
            "completed" => WorkStatus::Completed,
            "processing" => WorkStatus::Processing,
            "failed" => WorkStatus::Failed,
            _ => WorkStatus::Pending,
        }
    }
}

/// A work item and its progress.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkState {
    /// The plan it belongs to.
    pub plan_id: String,
    /// The shard it belongs to.
    pub shard: String,
    /// Its position in the manifest.
    pub idx: u32,
    /// The work itself.
    pub item: WorkItem,
    /// Where it stands.
    pub status: WorkStatus,
    /// Where to go on (meaning depends on the kind; for `id_range`, the next `since`).
    pub cursor: Option<String>,
    /// How many crawls started it.
    pub attempts: u32,
    /// Rows stored for it so far.
    pub stored: u64,
    /// The last error.
    pub error: Option<String>,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

impl Store {
    /// Records the manifest's work items (once); refuses a manifest whose work differs from what
    /// this file already holds, since resuming it would mix two plans.
    pub fn init_work(&mut self, plan_id: &str, shard: &str, items: &[WorkItem]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let sql = |source| StoreError::Sqlite { path: path.clone(), source };
        let tx = self.conn.transaction().map_err(sql)?;
        for (idx, item) in items.iter().enumerate() {
            let spec = serde_json::to_string(item).expect("work items serialize");
            let existing: Option<String> = tx
                .query_row(
                    "SELECT spec FROM work_items WHERE plan_id = ?1 AND shard = ?2 AND idx = ?3",
                    params![plan_id, shard, idx],
                    |r| r.get(0),
                )
                .optional()
                .map_err(sql)?;
            match existing {
                Some(stored) if stored != spec => {
                    return Err(StoreError::Incompatible {
                        path: path.clone(),
                        reason: format!("work item {idx} of {shard} is {stored} here but {spec} in the manifest"),
                    });
                }
                Some(_) => {}
                None => {
                    tx.execute(
                        "INSERT INTO work_items (plan_id, shard, idx, kind, spec, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![plan_id, shard, idx, kind_name(item), spec, crate::time::now_rfc3339()],
                    )
                    .map_err(sql)?;
                }
            }
        }
        tx.commit().map_err(sql)
    }

    /// Work items, in plan, shard and manifest order (all shards when `shard` is `None`; a shard
    /// file holds one plan).
    pub fn work_items(&self, shard: Option<&str>) -> Result<Vec<WorkState>, StoreError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT shard, idx, spec, status, cursor, attempts, stored, error, plan_id, updated_at
                 FROM work_items WHERE ?1 IS NULL OR shard = ?1 ORDER BY plan_id, shard, idx",
            )
            .map_err(|e| self.error(e))?;
        let rows = statement
            .query_map([shard], |row| {
                let spec: String = row.get(2)?;
                let item = serde_json::from_str(&spec).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e))
                })?;
                Ok(WorkState {
                    plan_id: row.get(8)?,
                    updated_at: row.get(9)?,
                    shard: row.get(0)?,
                    idx: row.get(1)?,
                    item,
                    status: WorkStatus::parse(&row.get::<_, String>(3)?),
                    cursor: row.get(4)?,
                    attempts: row.get(5)?,
                    stored: row.get(6)?,
                    error: row.get(7)?,
                })
            })
            .map_err(|e| self.error(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.error(e))
    }

    /// Marks a work item as started by this crawl.
    pub fn begin_item(&self, shard: &str, idx: u32) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE work_items SET status = 'processing', attempts = attempts + 1, error = NULL, updated_at = ?3
                 WHERE shard = ?1 AND idx = ?2",
                params![shard, idx, crate::time::now_rfc3339()],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// Sets a work item's status (and error) without moving its cursor.
    pub fn set_item_status(
        &self,
        shard: &str,
        idx: u32,
        status: WorkStatus,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE work_items SET status = ?3, error = ?4, updated_at = ?5 WHERE shard = ?1 AND idx = ?2",
                params![shard, idx, status.as_str(), error, crate::time::now_rfc3339()],
            )
            .map(drop)
            .map_err(|e| self.error(e))
    }

    /// Stores one page: its rows, the cursor after it, whether the item is now complete, and the
    /// requests that fetched it, all in one transaction.
    pub fn commit_page(&mut self, shard: &str, idx: u32, page: &Page<'_>) -> Result<(), StoreError> {
        let Page { rows, cursor, completed, records, etag, streams } = *page;
        self.write(|tx| {
            repositories::upsert(tx, rows)?;
            if let Some(streams) = streams {
                streams.write(tx)?;
            }
            if let Some(etag) = etag {
                super::detail::save_etag(tx, etag)?;
            }
            insert_requests(tx, shard, records)?;
            let status = if completed { WorkStatus::Completed } else { WorkStatus::Processing };
            tx.execute(
                "UPDATE work_items SET cursor = ?3, status = ?4, stored = stored + ?5, updated_at = ?6
                 WHERE shard = ?1 AND idx = ?2",
                params![shard, idx, cursor, status.as_str(), rows.len() as i64, crate::time::now_rfc3339()],
            )?;
            Ok(())
        })
    }
}

fn kind_name(item: &WorkItem) -> &'static str {
    item.kind()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_moves_rows_and_cursor_together() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let items = [WorkItem::IdRange { from: 0, to: 10, discover: None }];
        store.init_work("p", "shard-0000", &items).unwrap();
        store.init_work("p", "shard-0000", &items).unwrap();
        store.begin_item("shard-0000", 0).unwrap();
        let row = RepositoryRow {
            id: 3,
            full_name: "a/b".into(),
            owner: "a".into(),
            name: "b".into(),
            fetched_at: crate::time::now_rfc3339(),
            ..Default::default()
        };
        let page = |cursor, completed| Page {
            rows: std::slice::from_ref(&row),
            cursor,
            completed,
            records: &[],
            etag: None,
            streams: None,
        };
        store.commit_page("shard-0000", 0, &page("5", false)).unwrap();
        store.commit_page("shard-0000", 0, &page("9", true)).unwrap();
        let work = store.work_items(None).unwrap();
        assert_eq!(work.len(), 1);
        assert_eq!(
            (work[0].status, work[0].cursor.as_deref(), work[0].attempts),
            (WorkStatus::Completed, Some("9"), 1)
        );
        assert_eq!(store.repository_count().unwrap(), 1);

        let other = [WorkItem::IdRange { from: 0, to: 11, discover: None }];
        let error = store.init_work("p", "shard-0000", &other).unwrap_err().to_string();
        assert!(error.contains("in the manifest"), "{error}");
    }
}
