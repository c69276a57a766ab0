//! Merging shard databases into one: checks every input, keeps the newest copy of each shard and
//! the newest version of each row, and writes the output atomically (a failed merge never leaves
//! a half-written file over a good one). Unfinished work goes to a leftovers file.

mod inputs;
pub mod leftovers;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, params};

pub use inputs::Refused;
pub use leftovers::{Leftover, Leftovers};

use crate::plan::{Collect, Manifest};
use crate::store::{PlanRow, Store, StoreError};

/// What `merge` needs, already validated by the CLI layer.
#[derive(Clone, Debug)]
pub struct MergeRequest {
    /// Files and folders to merge.
    pub inputs: Vec<PathBuf>,
    /// The merged database to write.
    pub out: PathBuf,
    /// The plan folder, to notice shards that never arrived.
    pub plan_dir: Option<PathBuf>,
    /// Where to write `leftovers.yaml` when work is unfinished.
    pub leftovers_dir: PathBuf,
    /// Keep every request's row in `api_requests` (the totals in `api_request_totals` are
    /// always kept).
    pub keep_requests: bool,
    /// Build `repositories_fts` (a full-text index: about 5 s a million repositories, the
    /// largest part of a big merge; off for merges nobody searches with SQL).
    pub search_index: bool,
}

/// An input that was merged.
#[derive(Clone, Debug)]
pub struct Taken {
    /// The input path.
    pub path: PathBuf,
    /// Its shard.
    pub shard: String,
    /// Repositories it holds.
    pub repositories: u64,
    /// Completed work items / all work items.
    pub work_done: (u64, u64),
    /// Request attempts it recorded.
    pub requests: u64,
    /// Of which retries (attempt 2 or later).
    pub retries: u64,
    /// Seconds its requests waited for budget or backoff.
    pub waited_seconds: f64,
    /// Seconds its crawl runs took, resumed runs added up.
    pub duration_seconds: f64,
    /// The status of its last crawl run (`completed`, `deadline`, `failed`, `running`).
    pub status: String,
}

/// What a merge did.
#[derive(Clone, Debug)]
pub struct MergeReport {
    /// The output file.
    pub out: PathBuf,
    /// The plan of the merged shards.
    pub plan_id: String,
    /// Inputs merged.
    pub taken: Vec<Taken>,
    /// Inputs skipped because a newer copy of the same shard was merged.
    pub superseded: Vec<Refused>,
    /// Inputs refused, with reasons.
    pub refused: Vec<Refused>,
    /// Shards of the plan that no input held.
    pub missing_shards: Vec<String>,
    /// Repositories in the output.
    pub repositories: u64,
    /// Unfinished work.
    pub leftovers: Vec<Leftover>,
    /// The leftovers file, when one was written.
    pub leftovers_file: Option<PathBuf>,
}

impl MergeReport {
    /// True when every input was usable, no shard is missing and no work is left.
    pub fn is_complete(&self) -> bool {
        self.refused.is_empty() && self.missing_shards.is_empty() && self.leftovers.is_empty()
    }
}

/// A merge that could not produce an output.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// Nothing to merge.
    #[error("nothing to merge: {}", describe(.refused))]
    NothingUsable {
        /// Inputs refused, if any.
        refused: Vec<Refused>,
    },
    /// The output could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// SQLite failed while merging.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The plan folder could not be read.
    #[error("cannot use plan folder {path}: {reason}")]
    Plan {
        /// The folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

fn describe(refused: &[Refused]) -> String {
    if refused.is_empty() {
        return "no .sqlite or .sqlite.gz files among the inputs".into();
    }
    refused.iter().map(|r| format!("{}: {}", r.path.display(), r.reason)).collect::<Vec<_>>().join("; ")
}

/// Merges the inputs into `request.out`.
pub fn merge(request: &MergeRequest) -> Result<MergeReport, MergeError> {
    let started = std::time::Instant::now();
    let plan = request.plan_dir.as_deref().map(load_plan).transpose()?;
    let (mut files, mut refused) = inputs::expand(&request.inputs);
    // The same file reached twice (overlapping folders, `..`, absolute and relative) is one input.
    let mut seen = BTreeSet::new();
    files.retain(|file| seen.insert(std::fs::canonicalize(file).unwrap_or_else(|_| file.clone())));
    let scratch = tempfile::tempdir().map_err(|source| MergeError::Io { path: std::env::temp_dir(), source })?;
    let expected = inputs::expected_schema(scratch.path())?;
    let mut candidates = Vec::new();
    for (path, inspection) in files.iter().zip(inspect_all(&files, scratch.path(), &expected)) {
        match inspection {
            Ok(candidate) => candidates.push(candidate),
            Err(inputs::Inspection::Refused(reason)) => refused.push(Refused { path: path.clone(), reason }),
            Err(inputs::Inspection::Scratch { path, source }) => return Err(MergeError::Io { path, source }),
        }
    }
    // Merged databases (an earlier run, its leftovers' run, yesterday's database) join whatever
    // their plans; shard files belong to one plan: the plan folder's, or else the first one's.
    let (mut shard_inputs, mut merged_inputs): (Vec<_>, Vec<_>) =
        candidates.into_iter().partition(|c| c.shard.is_some());
    merged_inputs.sort_by(|a, b| a.newest_run.cmp(&b.newest_run).then(a.path.cmp(&b.path)));
    let plan_id = plan
        .as_ref()
        .map(|(id, _)| id.clone())
        .or_else(|| shard_inputs.first().map(|c| c.plan_id.clone()))
        .or_else(|| merged_inputs.last().map(|c| c.plan_id.clone()));
    let Some(plan_id) = plan_id else {
        return Err(MergeError::NothingUsable { refused });
    };
    shard_inputs.retain(|candidate| {
        let reason = if candidate.plan_id != plan_id {
            format!("it belongs to plan {}, not to plan {plan_id}", candidate.plan_id)
        } else if let Some((_, manifests)) = &plan
            && !manifests.iter().any(|m| Some(&m.shard.name) == candidate.shard.as_ref())
        {
            format!("its shard {} is not in plan {plan_id}", candidate.shard.as_deref().unwrap_or_default())
        } else {
            return true;
        };
        refused.push(Refused { path: candidate.path.clone(), reason });
        false
    });
    // The newest copy of each shard wins (a re-run job uploads a second attempt).
    let mut newest: BTreeMap<String, inputs::Candidate> = BTreeMap::new();
    let mut superseded = Vec::new();
    for candidate in shard_inputs {
        let shard = candidate.shard.clone().unwrap_or_default();
        match newest.remove(&shard) {
            Some(kept) => {
                let (winner, loser) =
                    if candidate.newest_run > kept.newest_run { (candidate, kept) } else { (kept, candidate) };
                superseded.push(Refused {
                    path: loser.path.clone(),
                    reason: format!("an older copy of {shard} than {}", winner.path.display()),
                });
                newest.insert(shard, winner);
            }
            None => {
                newest.insert(shard, candidate);
            }
        }
    }
    if newest.is_empty() && merged_inputs.is_empty() {
        return Err(MergeError::NothingUsable { refused });
    }
    let inspected = started.elapsed();

    let temporary = temporary_beside(&request.out)?;
    let mut output = Store::open(temporary.path())?;
    let deferred = bulk_load(&output)?;
    let mut taken = Vec::new();
    // Merged databases first, oldest first, then the shards: rows and work items keep the newest
    // version whatever the order, and the plan's own files come last for its metadata.
    let bar = crate::bars::Bar::new(Some((merged_inputs.len() + newest.len()) as u64), "merge");
    for candidate in merged_inputs.iter().chain(newest.values()) {
        if bar.shown() {
            bar.message(candidate.path.display().to_string());
        }
        taken.push(fold(&mut output, candidate, request.keep_requests)?);
        bar.inc(1);
    }
    drop(bar);
    let loaded = started.elapsed();
    output.conn().execute_batch(&deferred).map_err(|e| output.error(e))?;
    let indexed = started.elapsed();
    let expected: Vec<String> = match &plan {
        Some((_, manifests)) => manifests.iter().map(|m| m.shard.name.clone()).collect(),
        None => Vec::new(),
    };
    let present: BTreeSet<String> = newest
        .keys()
        .cloned()
        .chain(merged_inputs.iter().filter(|c| c.plan_id == plan_id).flat_map(|c| c.merged_shards.iter().cloned()))
        .collect();
    let missing_shards: Vec<String> = expected.iter().filter(|name| !present.contains(*name)).cloned().collect();
    let plans: BTreeMap<String, PlanRow> = output.plans()?.into_iter().map(|p| (p.plan_id.clone(), p)).collect();
    let mut left = leftovers::unfinished(&output, &plans)?;
    if let Some((_, manifests)) = &plan {
        for manifest in manifests.iter().filter(|m| missing_shards.contains(&m.shard.name)) {
            left.extend(manifest.work.iter().map(|work| Leftover {
                plan_id: Some(manifest.plan_id.clone()),
                shard: manifest.shard.name.clone(),
                reason: "missing".into(),
                error: None,
                work: work.clone(),
            }));
        }
    }
    let (source, mut collect) = match (&plan, plans.get(&plan_id)) {
        (Some((_, manifests)), _) => (manifests[0].source.clone(), manifests[0].collect.clone()),
        (None, Some(row)) => (row.source.clone(), row.collect.clone()),
        (None, None) => (String::new(), vec![Collect::Metadata]),
    };
    // Leftovers of several plans are planned together: they collect what any of them did.
    for item in &left {
        if let Some(row) = item.plan_id.as_ref().and_then(|id| plans.get(id)) {
            collect.extend(row.collect.iter().copied());
        }
    }
    collect.sort();
    collect.dedup();
    for (key, value) in [
        ("plan_id", plan_id.clone()),
        ("source", source.clone()),
        ("merged_shards", serde_json::to_string(&present).expect("names serialize")),
        ("merged_at", crate::time::now_rfc3339()),
        ("tool_version", crate::TOOL_VERSION.to_string()),
        ("tool_commit", crate::TOOL_COMMIT.to_string()),
    ] {
        output.set_meta(key, &value)?;
    }
    if let Some(count) = plans.get(&plan_id).and_then(|p| p.shard_count) {
        output.set_meta("shard_count", &count.to_string())?;
    }
    let repositories = output.repository_count()?;
    discovery_log(&output)?;
    forget_gone_forks(&output)?;
    let derived = started.elapsed();
    if request.search_index {
        full_text_index(&output)?;
    }
    let searchable = started.elapsed();
    output.close_for_transfer()?;
    // The output was written without a journal and without syncs (see `bulk_load`): it reaches
    // the disk once, here, before the rename makes it the output.
    let io = |source| MergeError::Io { path: temporary.path().to_path_buf(), source };
    temporary.as_file().sync_all().map_err(io)?;
    temporary.persist(&request.out).map_err(|e| MergeError::Io { path: request.out.clone(), source: e.error })?;
    tracing::debug!(
        inspect_ms = inspected.as_millis() as u64,
        load_ms = (loaded - inspected).as_millis() as u64,
        index_ms = (indexed - loaded).as_millis() as u64,
        derive_ms = (derived - indexed).as_millis() as u64,
        fts_ms = (searchable - derived).as_millis() as u64,
        sync_ms = (started.elapsed() - searchable).as_millis() as u64,
        "merge phases"
    );

    let leftovers_file = if left.is_empty() {
        // A complete merge must not leave an earlier merge's leftovers behind to be re-crawled.
        let stale = request.leftovers_dir.join(leftovers::FILE_NAME);
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(|source| MergeError::Io { path: stale, source })?;
        }
        None
    } else {
        let file = Leftovers { version: 1, plan_id: plan_id.clone(), source, collect, items: left.clone() };
        Some(
            leftovers::write(&request.leftovers_dir, &file)
                .map_err(|source| MergeError::Io { path: request.leftovers_dir.clone(), source })?,
        )
    };
    Ok(MergeReport {
        out: request.out.clone(),
        plan_id,
        taken,
        superseded,
        refused,
        missing_shards,
        repositories,
        leftovers: left,
        leftovers_file,
    })
}

/// [`inputs::inspect`] of every file, in order, on as many threads as there are CPUs: unpacking
/// and the integrity check read every page of every input, independently of the others.
fn inspect_all(
    files: &[PathBuf],
    scratch: &Path,
    expected: &inputs::Schema,
) -> Vec<Result<inputs::Candidate, inputs::Inspection>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let slots: Vec<std::sync::Mutex<Option<_>>> = files.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(path) = files.get(index) else { break };
                    let inspection = inputs::inspect(path, index, scratch, expected);
                    *slots[index].lock().unwrap_or_else(|e| e.into_inner()) = Some(inspection);
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| slot.into_inner().unwrap_or_else(|e| e.into_inner()).expect("every input was inspected"))
        .collect()
}

/// Copies one checked input into the output in one transaction.
fn fold(output: &mut Store, candidate: &inputs::Candidate, keep_requests: bool) -> Result<Taken, StoreError> {
    let path = candidate.path.clone();
    let sql = |source| StoreError::Sqlite { path: path.clone(), source };
    output.conn().execute("ATTACH DATABASE ?1 AS src", [candidate.database.to_string_lossy()]).map_err(sql)?;
    let result = (|| {
        let tx = output.conn().unchecked_transaction()?;
        let columns = crate::store::REPOSITORY_COLUMNS.join(", ");
        let updates: Vec<String> =
            crate::store::REPOSITORY_COLUMNS[1..].iter().map(|c| format!("{c} = excluded.{c}")).collect();
        tx.execute(
            &format!(
                "INSERT INTO main.repositories ({columns}) SELECT {columns} FROM src.repositories WHERE true
                 ON CONFLICT (id) DO UPDATE SET {} WHERE excluded.fetched_at > main.repositories.fetched_at",
                updates.join(", ")
            ),
            [],
        )?;
        tx.execute(
            "INSERT INTO main.tombstones SELECT * FROM src.tombstones WHERE true
             ON CONFLICT (id) DO UPDATE SET node_id = excluded.node_id, full_name = excluded.full_name,
                reason = excluded.reason, observed_at = excluded.observed_at
             WHERE excluded.observed_at > main.tombstones.observed_at",
            [],
        )?;
        // A repository seen gone after it was last fetched is gone, with what was collected of it.
        tx.execute(
            "DELETE FROM main.repositories WHERE id IN (SELECT t.id FROM main.tombstones t
               JOIN main.repositories r ON r.id = t.id WHERE t.observed_at >= r.fetched_at)",
            [],
        )?;
        // Every other table with a key and a fetched_at (the collected entities, and tables added
        // later) merges the same way: the newest version of each key wins.
        for table in entity_tables(&tx)? {
            tx.execute(&table.upsert_sql(), [])?;
            let history = crate::store::HISTORY_TABLES.contains(&table.name.as_str());
            if table.columns.iter().any(|c| c == "repo_id") && !history {
                tx.execute(
                    &format!(
                        "DELETE FROM main.{0} WHERE EXISTS (SELECT 1 FROM main.tombstones t
                           WHERE t.id = main.{0}.repo_id AND t.observed_at >= main.{0}.fetched_at)",
                        table.name
                    ),
                    [],
                )?;
            }
        }
        tx.execute(
            "INSERT INTO main.stream_state SELECT * FROM src.stream_state WHERE true
             ON CONFLICT (repo_id, stream) DO UPDATE SET status = excluded.status, cursor = excluded.cursor,
                expected = excluded.expected, stored = excluded.stored, since = excluded.since,
                note = excluded.note, updated_at = excluded.updated_at
             WHERE excluded.updated_at > main.stream_state.updated_at",
            [],
        )?;
        tx.execute(
            "DELETE FROM main.stream_state WHERE EXISTS (SELECT 1 FROM main.tombstones t
               WHERE t.id = main.stream_state.repo_id AND t.observed_at >= main.stream_state.updated_at)",
            [],
        )?;
        tx.execute(
            "INSERT INTO main.etags SELECT * FROM src.etags WHERE true
             ON CONFLICT (path) DO UPDATE SET etag = excluded.etag, cursor_after = excluded.cursor_after,
                ids = excluded.ids, fetched_at = excluded.fetched_at
             WHERE excluded.fetched_at > main.etags.fetched_at",
            [],
        )?;
        // The newest state of each work item wins: a re-run's copy, or the later merge.
        tx.execute(
            &format!(
                "INSERT INTO main.work_items ({WORK_COLUMNS}) SELECT {WORK_COLUMNS} FROM src.work_items WHERE true
                 ON CONFLICT (plan_id, shard, idx) DO UPDATE SET status = excluded.status, cursor = excluded.cursor,
                    attempts = excluded.attempts, stored = excluded.stored, error = excluded.error,
                    updated_at = excluded.updated_at
                 WHERE excluded.updated_at > main.work_items.updated_at"
            ),
            [],
        )?;
        tx.execute("INSERT OR IGNORE INTO main.plans SELECT plan_id, source, collect, shard_count FROM src.plans", [])?;
        // A file written before its plan was recorded: its meta says which plan it is.
        tx.execute(
            "INSERT OR IGNORE INTO main.plans (plan_id, source, collect, shard_count) VALUES (?1, ?2, ?3, ?4)",
            params![candidate.plan_id, candidate.source, candidate.collect, candidate.shard_count],
        )?;
        tx.execute("INSERT OR REPLACE INTO main.missing_repositories SELECT * FROM src.missing_repositories", [])?;
        tx.execute(
            "INSERT INTO main.repository_discovery_log SELECT * FROM src.repository_discovery_log WHERE true
             ON CONFLICT (plan_id, id_from) DO UPDATE SET id_to = excluded.id_to,
                new_repositories = excluded.new_repositories, status = excluded.status, updated_at = excluded.updated_at
             WHERE excluded.updated_at > main.repository_discovery_log.updated_at",
            [],
        )?;
        tx.execute(
            "INSERT INTO main.shard_runs (plan_id, shard, started_at, finished_at, status, repositories, requests, error, tool_version)
             SELECT plan_id, shard, started_at, finished_at, status, repositories, requests, error, tool_version FROM src.shard_runs",
            [],
        )?;
        if keep_requests {
            tx.execute(
                "INSERT INTO main.api_requests
                    (shard, at, kind, path, status, cost, latency_ms, attempt, credential, error, waited_ms, conditional)
                 SELECT shard, at, kind, path, status, cost, latency_ms, attempt, credential, error, waited_ms, conditional
                 FROM src.api_requests",
                [],
            )?;
        }
        // Totals: a merged input's as they are; a shard's summed from its raw rows (all of its
        // requests, resumed runs included, so they replace what an earlier merge counted).
        let replace = "ON CONFLICT (plan_id, shard, hour, kind, status, credential) DO UPDATE SET
             requests = excluded.requests, retries = excluded.retries, cost = excluded.cost,
             conditional = excluded.conditional, latency_ms = excluded.latency_ms, waited_ms = excluded.waited_ms";
        tx.execute(
            &format!("INSERT INTO main.api_request_totals SELECT * FROM src.api_request_totals WHERE true {replace}"),
            [],
        )?;
        if candidate.shard.is_some() {
            tx.execute(
                &format!(
                    "INSERT INTO main.api_request_totals
                     SELECT ?1, shard, substr(at, 1, 13), kind, status, credential, count(*), sum(attempt > 1), sum(cost),
                            sum(conditional), sum(latency_ms), sum(waited_ms)
                     FROM src.api_requests GROUP BY 2, 3, 4, 5, 6 {replace}"
                ),
                [&candidate.plan_id],
            )?;
        }
        let count = |sql: &str| tx.query_row(sql, [], |row| row.get::<_, u64>(0));
        // The summary's figures: a shard's from its request log, a merged input's from its totals.
        let figures = if candidate.shard.is_some() {
            "SELECT count(*), coalesce(sum(attempt > 1), 0), coalesce(sum(waited_ms), 0) FROM src.api_requests"
        } else {
            "SELECT coalesce(sum(requests), 0), coalesce(sum(retries), 0), coalesce(sum(waited_ms), 0)
             FROM src.api_request_totals"
        };
        let (requests, retries, waited_ms): (u64, u64, i64) =
            tx.query_row(figures, [], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        let taken = Taken {
            path: candidate.path.clone(),
            shard: candidate.shard.clone().unwrap_or_else(|| format!("merged:{}", candidate.plan_id)),
            repositories: count("SELECT count(*) FROM src.repositories")?,
            work_done: (
                count("SELECT count(*) FROM src.work_items WHERE status = 'completed'")?,
                count("SELECT count(*) FROM src.work_items")?,
            ),
            requests,
            retries,
            waited_seconds: waited_ms as f64 / 1000.0,
            duration_seconds: tx.query_row(
                "SELECT coalesce(sum((julianday(finished_at) - julianday(started_at)) * 86400.0), 0.0)
                 FROM src.shard_runs WHERE finished_at IS NOT NULL",
                [],
                |row| row.get::<_, f64>(0),
            )?,
            status: tx
                .query_row("SELECT status FROM src.shard_runs ORDER BY id DESC LIMIT 1", [], |row| row.get(0))
                .optional()?
                .unwrap_or_else(|| "unknown".to_string()),
        };
        tx.commit()?;
        Ok(taken)
    })();
    output.conn().execute("DETACH DATABASE src", params![]).map_err(sql)?;
    result.map_err(sql)
}

/// Sets the fresh output up for loading: no journal and no syncs (it is a temporary file, renamed
/// over the output only once complete and synced, and deleted on any error, so a crash or a
/// failed statement can only ever lose the temporary file), a larger page cache, and no secondary
/// indexes while rows go in (one sort per index at the end is much cheaper than keeping them up
/// to date row by row). Returns the SQL that creates the indexes again, exactly as the schema has
/// them. The primary keys and unique constraints stay: the upserts need them.
fn bulk_load(output: &Store) -> Result<String, StoreError> {
    let conn = output.conn();
    let result = (|| {
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;
             PRAGMA temp_store = FILE;",
        )?;
        let indexes: Vec<(String, String)> = conn
            .prepare("SELECT name, sql FROM main.sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")?
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut create = String::new();
        for (name, sql) in indexes {
            conn.execute_batch(&format!("DROP INDEX main.\"{name}\""))?;
            create.push_str(&sql);
            create.push_str(";\n");
        }
        Ok(create)
    })();
    result.map_err(|e| output.error(e))
}

/// Records, for every discovery listing of a refresh (an id range above the previous highest id),
/// how many repositories it found and how far it got. Derived from the merged work items and
/// repositories; a completed entry is final, so later merges keep its count even when some of its
/// repositories are gone by then.
fn discovery_log(output: &Store) -> Result<(), StoreError> {
    output
        .conn()
        .execute(
            "INSERT INTO repository_discovery_log
                (plan_id, discovery_date, id_from, id_to, new_repositories, status, updated_at)
             SELECT w.plan_id, json_extract(w.spec, '$.discover'), json_extract(w.spec, '$.from'),
                    json_extract(w.spec, '$.to'),
                    (SELECT count(*) FROM repositories r
                     WHERE r.id >= json_extract(w.spec, '$.from') AND r.id < json_extract(w.spec, '$.to')),
                    w.status, w.updated_at
             FROM work_items w WHERE w.kind = 'id_range' AND json_extract(w.spec, '$.discover') IS NOT NULL
             ON CONFLICT (plan_id, id_from) DO UPDATE SET new_repositories = excluded.new_repositories,
                status = excluded.status, updated_at = excluded.updated_at
             WHERE repository_discovery_log.status <> 'completed'",
            [],
        )
        .map(drop)
        .map_err(|e| output.error(e))
}

/// A pull request whose head repository (a fork) is gone has no head repository any more, as
/// GitHub answers; its own rows do not say so (deleting a fork does not update the pull request),
/// so an incremental crawl would keep the stale id.
fn forget_gone_forks(output: &Store) -> Result<(), StoreError> {
    output
        .conn()
        .execute(
            "UPDATE pull_requests SET head_repo_id = NULL
             WHERE head_repo_id IN (SELECT id FROM tombstones) AND head_repo_id NOT IN (SELECT id FROM repositories)",
            [],
        )
        .map(drop)
        .map_err(|e| output.error(e))
}

/// Builds `repositories_fts`, a full-text index (FTS5) over repository names, descriptions and
/// topics, so the merged file is searchable as it is (Datasette finds it by its name). It is
/// derived data: merge inputs and exports leave it out, and every merge builds it anew.
fn full_text_index(output: &Store) -> Result<(), StoreError> {
    output
        .conn()
        .execute_batch(
            "CREATE VIRTUAL TABLE repositories_fts USING fts5(
                full_name, description, topics, content = 'repositories', content_rowid = 'id');
             INSERT INTO repositories_fts (repositories_fts) VALUES ('rebuild');",
        )
        .map_err(|e| output.error(e))
}

/// Tables merge copies by their own rules; every other table with a primary key and a
/// `fetched_at` column is an entity table, merged generically.
const OWN_RULES: &[&str] = &[
    "meta",
    "repositories",
    "tombstones",
    "etags",
    "work_items",
    "plans",
    "missing_repositories",
    "shard_runs",
    "api_requests",
    "stream_state",
    "repository_discovery_log",
    "api_request_totals",
];

/// A table whose rows are keyed and carry `fetched_at`.
struct EntityTable {
    name: String,
    columns: Vec<String>,
    key: Vec<String>,
}

impl EntityTable {
    /// Copies `src`'s rows into `main`, the newest `fetched_at` of each key winning.
    fn upsert_sql(&self) -> String {
        let columns = self.columns.join(", ");
        let updates: Vec<String> =
            self.columns.iter().filter(|c| !self.key.contains(c)).map(|c| format!("{c} = excluded.{c}")).collect();
        format!(
            "INSERT INTO main.{0} ({columns}) SELECT {columns} FROM src.{0} WHERE true
             ON CONFLICT ({1}) DO UPDATE SET {2} WHERE excluded.fetched_at > main.{0}.fetched_at",
            self.name,
            self.key.join(", "),
            updates.join(", ")
        )
    }
}

/// The entity tables of the output's schema.
fn entity_tables(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<EntityTable>> {
    let names: Vec<String> = conn
        .prepare("SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut tables = Vec::new();
    for name in names.into_iter().filter(|n| !OWN_RULES.contains(&n.as_str())) {
        let mut columns = Vec::new();
        let mut key: Vec<(i64, String)> = Vec::new();
        let mut statement = conn.prepare(&format!("PRAGMA main.table_info({name})"))?;
        let rows = statement.query_map([], |row| Ok((row.get::<_, String>(1)?, row.get::<_, i64>(5)?)))?;
        for row in rows {
            let (column, pk) = row?;
            if pk > 0 {
                key.push((pk, column.clone()));
            }
            columns.push(column);
        }
        key.sort();
        if !key.is_empty() && columns.iter().any(|c| c == "fetched_at") {
            tables.push(EntityTable { name, columns, key: key.into_iter().map(|(_, c)| c).collect() });
        }
    }
    Ok(tables)
}

/// The columns of `work_items`, in the order merge copies them.
const WORK_COLUMNS: &str = "plan_id, shard, idx, kind, spec, status, cursor, attempts, stored, error, updated_at";

fn temporary_beside(out: &Path) -> Result<tempfile::NamedTempFile, MergeError> {
    let dir = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |source| MergeError::Io { path: out.to_path_buf(), source };
    std::fs::create_dir_all(&dir).map_err(io)?;
    tempfile::Builder::new().prefix(".octoshard-merge.").suffix(".sqlite.tmp").tempfile_in(&dir).map_err(io)
}

/// Reads a plan folder: its plan id and every shard manifest.
fn load_plan(dir: &Path) -> Result<(String, Vec<Manifest>), MergeError> {
    let fail = |reason: String| MergeError::Plan { path: dir.to_path_buf(), reason };
    let text =
        std::fs::read_to_string(dir.join("plan.yaml")).map_err(|e| fail(format!("cannot read plan.yaml ({e})")))?;
    let plan: crate::plan::PlanFile =
        serde_yaml::from_str(&text).map_err(|e| fail(format!("invalid plan.yaml ({e})")))?;
    let mut manifests = Vec::new();
    for shard in &plan.shards {
        crate::plan::manifest::check_name("manifest", &shard.manifest).map_err(fail)?;
        let manifest = Manifest::load(&dir.join(&shard.manifest)).map_err(|e| fail(e.to_string()))?;
        manifests.push(manifest);
    }
    if manifests.is_empty() {
        return Err(fail("the plan has no shards".into()));
    }
    Ok((plan.plan_id, manifests))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bulk_loaded_output_has_the_schema_the_newest_rows_and_nothing_beside_it() {
        // Merge drops the secondary indexes while loading and writes without a journal: the
        // output must still have exactly the schema (a later merge checks it), every index, the
        // newest version of each row, rollback journaling, and no temporary file left over.
        let dir = tempfile::tempdir().unwrap();
        let inputs_dir = dir.path().join("in");
        std::fs::create_dir(&inputs_dir).unwrap();
        for (name, fetched, stars) in
            [("shard-0000", "2026-01-02T00:00:00Z", 2), ("shard-0001", "2026-01-01T00:00:00Z", 1)]
        {
            let store = Store::open(&inputs_dir.join(format!("{name}.sqlite"))).unwrap();
            store.set_meta("plan_id", "p").unwrap();
            store.set_meta("shard", name).unwrap();
            store
                .conn()
                .execute(
                    "INSERT INTO repositories (id, full_name, owner, name, description, fetched_at, stargazers_count)
                     VALUES (5, 'o/r', 'o', 'r', 'a searchable thing', ?1, ?2), (?3, 'o/other', 'o', 'other', NULL, ?1, 0)",
                    params![fetched, stars, 10 + stars],
                )
                .unwrap();
            store.close_for_transfer().unwrap();
        }
        let out_dir = dir.path().join("out");
        let out = out_dir.join("merged.sqlite");
        let request = MergeRequest {
            inputs: vec![inputs_dir.clone()],
            out: out.clone(),
            plan_dir: None,
            leftovers_dir: out_dir.clone(),
            keep_requests: false,
            search_index: true,
        };
        let report = merge(&request).unwrap();
        assert_eq!(report.repositories, 3);
        let merged = Store::open_readonly(&out).unwrap();
        let expected = inputs::expected_schema(dir.path()).unwrap();
        assert_eq!(inputs::schema(merged.conn()).unwrap(), expected);
        let conn = merged.conn();
        let one = |sql: &str| conn.query_row(sql, [], |row| row.get::<_, String>(0)).unwrap();
        assert_eq!(
            one("SELECT stargazers_count || ' ' || fetched_at FROM repositories WHERE id = 5"),
            "2 2026-01-02T00:00:00Z"
        );
        assert_eq!(one("PRAGMA journal_mode"), "delete");
        assert_eq!(one("PRAGMA integrity_check"), "ok");
        assert_eq!(
            one("SELECT group_concat(rowid) FROM repositories_fts WHERE repositories_fts MATCH 'searchable'"),
            "5"
        );
        let plan =
            conn.query_row("EXPLAIN QUERY PLAN SELECT id FROM repositories WHERE full_name = 'o/r'", [], |row| {
                row.get::<_, String>(3)
            });
        assert!(plan.unwrap().contains("repositories_full_name"), "the index is back and used");
        drop(merged);
        let names: Vec<_> = std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("merged.sqlite")]);
        // The output merges again (as yesterday's database does).
        let again = MergeRequest { inputs: vec![out.clone()], out: dir.path().join("again.sqlite"), ..request };
        assert_eq!(merge(&again).unwrap().repositories, 3);
        // Without the search index: the same rows, no full-text table.
        let plain = MergeRequest { out: dir.path().join("plain.sqlite"), search_index: false, ..again };
        assert_eq!(merge(&plain).unwrap().repositories, 3);
        let plain = rusqlite::Connection::open(dir.path().join("plain.sqlite")).unwrap();
        let fts: i64 = plain
            .query_row("SELECT count(*) FROM sqlite_master WHERE name LIKE 'repositories_fts%'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fts, 0);
    }
}
