//! Progress of one shard crawl: counters, the deadline, and periodic plain progress lines (one
//! line per interval, readable in a terminal and in an Actions log alike).

use std::future::Future;
use std::time::{Duration, Instant};

use crate::github::RequestRecord;

use super::ShardStatus;

/// How often a progress line is logged.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(10);

/// Counters of one crawl invocation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CrawlStats {
    /// Pages committed.
    pub pages: u64,
    /// Rows written (a resumed page may rewrite a row).
    pub rows: u64,
    /// Request attempts made.
    pub requests: u64,
    /// Attempts that were retries.
    pub retries: u64,
    /// Budget points spent (REST requests plus GraphQL points).
    pub cost: u64,
    /// Requests sent with `If-None-Match`.
    pub conditional: u64,
    /// Of those, answered 304 (free).
    pub not_modified: u64,
    /// Time spent waiting for budget, secondary limits and backoff.
    pub waited: Duration,
    /// Repositories whose GraphQL detail was stored.
    pub detailed: u64,
    /// Repositories found gone (tombstones).
    pub gone: u64,
    /// Rows of deep collection written (pull requests, issues, runs, contributors, commits).
    pub stream_rows: u64,
    /// Code archives stored, and their bytes.
    pub archives: u64,
    /// Bytes of the archives stored.
    pub archive_bytes: u64,
    /// Repositories a refresh checked.
    pub checked: u64,
    /// Of those, changed (collected again).
    pub changed: u64,
    /// Wall time of the crawl.
    pub elapsed: Duration,
}

/// Tracks one shard's crawl.
pub struct Progress {
    shard: String,
    started: Instant,
    deadline: Option<Instant>,
    last_line: Instant,
    stats: CrawlStats,
    bar: crate::bars::Bar,
}

impl Progress {
    /// Starts tracking; `deadline` counts from now.
    pub fn new(shard: &str, deadline: Option<Duration>) -> Progress {
        let now = Instant::now();
        Progress {
            shard: shard.to_string(),
            started: now,
            deadline: deadline.map(|d| now + d),
            last_line: now,
            stats: CrawlStats::default(),
            bar: crate::bars::Bar::new(None, shard),
        }
    }

    /// The shard name.
    pub fn shard(&self) -> &str {
        &self.shard
    }

    /// The counters so far.
    pub fn stats(&self) -> &CrawlStats {
        &self.stats
    }

    /// True once the deadline has passed.
    pub fn deadline_passed(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Runs `work` unless the deadline comes first (then `None`; nothing of it was committed,
    /// because commits happen only after the request returns).
    pub async fn before_deadline<T>(&self, work: impl Future<Output = T>) -> Option<T> {
        within(self.deadline, work).await
    }

    /// The deadline, for work that runs beside other work holding this progress
    /// ([`within`]).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    fn count(&mut self, records: &[RequestRecord]) {
        self.show();
        self.stats.requests += records.len() as u64;
        self.stats.retries += records.iter().filter(|r| r.attempt > 1).count() as u64;
        self.stats.cost += records.iter().map(|r| u64::from(r.cost)).sum::<u64>();
        self.stats.conditional += records.iter().filter(|r| r.conditional).count() as u64;
        self.stats.not_modified += records.iter().filter(|r| r.status == 304).count() as u64;
        self.stats.waited += Duration::from_millis(records.iter().map(|r| r.waited_ms).sum());
    }

    /// Updates the terminal's bar, if there is one.
    fn show(&self) {
        if self.bar.shown() {
            let s = &self.stats;
            self.bar.message(format!(
                "{} rows, {} detailed, {} stream rows, {} archives, {} requests",
                s.rows, s.detailed, s.stream_rows, s.archives, s.requests
            ));
        }
    }

    /// Counts the attempts of requests that failed for good (recorded without data).
    pub fn failed(&mut self, records: &[RequestRecord]) {
        self.count(records);
    }

    /// Counts a committed detail batch.
    pub fn detail(&mut self, detailed: u64, gone: u64, records: &[RequestRecord]) {
        self.stats.detailed += detailed;
        self.stats.gone += gone;
        self.count(records);
    }

    /// Counts a batch of a refresh's checks: checked, changed and gone repositories.
    pub fn checked(&mut self, checked: u64, changed: u64, gone: u64, records: &[RequestRecord]) {
        self.stats.checked += checked;
        self.stats.changed += changed;
        self.stats.gone += gone;
        self.count(records);
    }

    /// Counts committed stream pages and logs a progress line now and then.
    pub fn streams(&mut self, rows: u64, gone: u64, records: &[RequestRecord]) {
        self.stats.stream_rows += rows;
        self.stats.gone += gone;
        self.count(records);
        if self.last_line.elapsed() >= PROGRESS_INTERVAL {
            self.last_line = Instant::now();
            tracing::info!(
                "{}: {} repositories detailed, {} rows of their streams, {} requests",
                self.shard,
                self.stats.detailed,
                self.stats.stream_rows,
                self.stats.requests
            );
        }
    }

    /// Counts committed code (snapshot and archive rows; `archived` is archives stored and their
    /// bytes) and logs a progress line now and then.
    pub fn code(&mut self, rows: u64, archived: (u64, u64), gone: u64, records: &[RequestRecord]) {
        self.stats.stream_rows += rows;
        self.stats.archives += archived.0;
        self.stats.archive_bytes += archived.1;
        self.stats.gone += gone;
        self.count(records);
        if self.last_line.elapsed() >= PROGRESS_INTERVAL {
            self.last_line = Instant::now();
            tracing::info!(
                "{}: {} repositories detailed, {} archives stored ({} MB), {} requests",
                self.shard,
                self.stats.detailed,
                self.stats.archives,
                self.stats.archive_bytes / 1_000_000,
                self.stats.requests
            );
        }
    }

    /// Counts a committed page and logs a progress line now and then (`position` says where the
    /// crawl is, computed only when a line is due).
    pub fn page(&mut self, rows: u64, records: &[RequestRecord], position: impl FnOnce() -> String) {
        self.stats.pages += 1;
        self.stats.rows += rows;
        self.count(records);
        if self.last_line.elapsed() >= PROGRESS_INTERVAL {
            self.last_line = Instant::now();
            tracing::info!(
                "{}: {} rows in {} pages, {}, {} requests",
                self.shard,
                self.stats.rows,
                self.stats.pages,
                position(),
                self.stats.requests
            );
        }
    }

    /// Stops the clock and logs the closing line of a crawl; returns the final counters.
    pub fn finish(&mut self, status: ShardStatus, repositories: u64) -> CrawlStats {
        self.stats.elapsed = self.started.elapsed();
        let s = &self.stats;
        tracing::info!(
            "{}: {} with {repositories} repositories ({} detailed, {} gone, {} stream rows{}); {} requests, {} points, {} of {} conditional answered 304, {} retries, waited {:.1} s, took {:.1} s",
            self.shard,
            status.as_str(),
            s.detailed,
            s.gone,
            s.stream_rows,
            if s.archives > 0 {
                format!(", {} archives of {:.1} MB", s.archives, s.archive_bytes as f64 / 1e6)
            } else {
                String::new()
            },
            s.requests,
            s.cost,
            s.not_modified,
            s.conditional,
            s.retries,
            s.waited.as_secs_f64(),
            s.elapsed.as_secs_f64()
        );
        self.stats.clone()
    }
}

/// Runs `work` unless `deadline` comes first (then `None`).
pub async fn within<T>(deadline: Option<Instant>, work: impl Future<Output = T>) -> Option<T> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline.into(), work).await.ok(),
        None => Some(work.await),
    }
}
