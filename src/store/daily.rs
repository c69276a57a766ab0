//! The daily refresh's records: what each repository's check found (`daily_repository_changes`),
//! written with the stubs of the changed repositories (whose detail and streams follow) and the
//! tombstones of the gone ones, in one transaction with the item's cursor.

use std::collections::HashMap;

use rusqlite::params;

use super::detail::{advance_cursor, bury};
use super::{RepositoryRow, Store, StoreError, Tombstone, insert_requests, repositories};
use crate::github::RequestRecord;

/// One repository's check on one day.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DailyChange {
    /// Repository id.
    pub repo_id: u64,
    /// The refresh's day, `YYYY-MM-DD`.
    pub check_date: String,
    /// Pushed: `pushed_at` or the head moved.
    pub pushed: bool,
    /// `updated_at`, the name, the description or the archived flag changed.
    pub metadata: bool,
    /// Stars or forks changed.
    pub counts: bool,
    /// A collected stream moved without a push (an issue or pull request updated).
    pub activity: bool,
    /// The name changed.
    pub renamed: bool,
    /// Deleted or private since.
    pub gone: bool,
    /// The name before, when it changed.
    pub previous_full_name: Option<String>,
    /// The head before.
    pub previous_head_sha: Option<String>,
    /// The head now.
    pub head_sha: Option<String>,
    /// Commits reachable from the head now.
    pub commit_count: Option<i64>,
    /// Commits since the previous check, where known.
    pub new_commits: Option<i64>,
    /// Files changed between the previous and the new head (`--collect files`; at most 300).
    pub files_changed: Option<i64>,
    /// When the check ran.
    pub fetched_at: String,
}

impl DailyChange {
    /// Any change at all.
    pub fn has_changes(&self) -> bool {
        self.pushed || self.metadata || self.counts || self.activity || self.renamed || self.gone
    }
}

/// One batch of checks.
pub struct Check<'a> {
    /// Stubs of the changed repositories (their earlier rows, detail to fetch again).
    pub stubs: &'a [RepositoryRow],
    /// Every checked repository's record.
    pub changes: &'a [DailyChange],
    /// The repositories found gone.
    pub gone: &'a [Tombstone],
    /// Repositories done after this batch.
    pub cursor: usize,
    /// The requests.
    pub records: &'a [RequestRecord],
}

impl Store {
    /// Stores one batch of checks.
    pub fn commit_check(&mut self, shard: &str, idx: u32, check: &Check<'_>) -> Result<(), StoreError> {
        let now = crate::time::now_rfc3339();
        self.write(|tx| {
            repositories::upsert(tx, check.stubs)?;
            for t in check.gone {
                bury(tx, t)?;
            }
            let mut insert = tx.prepare_cached(
                "INSERT OR REPLACE INTO daily_repository_changes (repo_id, check_date, has_changes, pushed, metadata,
                    counts, activity, renamed, gone, previous_full_name, previous_head_sha, head_sha, commit_count,
                    new_commits, files_changed, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?;
            for c in check.changes {
                insert.execute(params![
                    c.repo_id as i64,
                    c.check_date,
                    c.has_changes(),
                    c.pushed,
                    c.metadata,
                    c.counts,
                    c.activity,
                    c.renamed,
                    c.gone,
                    c.previous_full_name,
                    c.previous_head_sha,
                    c.head_sha,
                    c.commit_count,
                    c.new_commits,
                    c.files_changed,
                    c.fetched_at,
                ])?;
            }
            insert_requests(tx, shard, check.records)?;
            advance_cursor(tx, shard, idx, check.cursor, check.stubs.len(), &now)
        })
    }

    /// The commit count of each of `ids` at its latest check before `date`, where one was made.
    pub fn commit_counts_before(&self, ids: &[u64], date: &str) -> Result<HashMap<u64, i64>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT commit_count FROM daily_repository_changes
                 WHERE repo_id = ?1 AND check_date < ?2 AND commit_count IS NOT NULL
                 ORDER BY check_date DESC LIMIT 1",
            )
            .map_err(|e| self.error(e))?;
        let mut counts = HashMap::new();
        for id in ids {
            let mut rows = statement.query(params![*id as i64, date]).map_err(|e| self.error(e))?;
            if let Some(row) = rows.next().map_err(|e| self.error(e))? {
                counts.insert(*id, row.get(0).map_err(|e| self.error(e))?);
            }
        }
        Ok(counts)
    }
}
