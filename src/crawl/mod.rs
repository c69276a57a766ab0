//! Crawling one shard: reads the manifest's work items, fetches their pages through the GitHub
//! layer and commits each page with its cursor. Re-running with the same output resumes where the
//! last run stopped. A `.gz` output is compressed atomically at the end, from a working database
//! kept beside it (`<out>.partial`) until then.

pub(crate) mod code;
mod detail;
mod id_range;
mod names;
mod owned;
pub(crate) mod packing;
mod paged;
mod progress;
mod refresh;
pub mod streams;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::artifact;
use crate::github::{GitHub, GithubError};
use crate::plan::{Manifest, WorkItem};
use crate::store::{Store, StoreError, WorkStatus};

pub use progress::{CrawlStats, Progress};

/// What `crawl` needs, already validated by the CLI layer.
#[derive(Clone, Debug)]
pub struct CrawlRequest {
    /// The shard's manifest.
    pub manifest: Manifest,
    /// The output file (`.sqlite`, or `.sqlite.gz` for an artifact).
    pub out: PathBuf,
    /// Stop after this long and leave the rest as leftovers (overrides the manifest's deadline).
    pub deadline: Option<Duration>,
    /// A database from an earlier crawl (`.sqlite` or `.sqlite.gz`): its ETags make unchanged
    /// listing pages cost nothing, its rows stand in for them.
    pub previous: Option<PathBuf>,
}

/// What every work item of a shard shares.
pub(crate) struct ShardContext<'a> {
    pub github: &'a GitHub,
    /// The earlier crawl's database, if given (behind a mutex: a SQLite connection is not `Sync`,
    /// and crawl tasks move between threads; it is only locked in synchronous code).
    pub previous: Option<&'a std::sync::Mutex<Store>>,
    /// Fetch GraphQL detail for listed repositories.
    pub detail: bool,
    /// The streams to collect for every detailed repository.
    pub streams: Vec<&'static streams::spec::Spec>,
    /// A refresh compares the heads of pushed repositories (`--collect files`).
    pub files: bool,
    /// Snapshots and archives of each detailed repository's head, when collected.
    pub code: Option<code::Code>,
    /// How many repositories a GraphQL query asks for.
    pub packing: packing::Packing,
}

/// Fetches what listed repositories still wait for (their detail, then their streams) until at
/// most `keep` of each wait; `Some(Deadline)` when the deadline came first.
pub(crate) async fn drain(
    context: &ShardContext<'_>,
    store: &mut Store,
    progress: &mut Progress,
    keep: u64,
) -> Result<Option<ItemOutcome>, CrawlError> {
    if context.detail
        && let Some(outcome) = detail::drain(context, store, progress, keep).await?
    {
        return Ok(Some(outcome));
    }
    if !context.streams.is_empty()
        && let Some(outcome) = streams::drain(context, store, progress, keep).await?
    {
        return Ok(Some(outcome));
    }
    code::drain(context, store, progress, keep).await
}

/// Fetches everything an item's repositories still wait for, then marks the item complete
/// (a deadline met on the way comes back as it is).
pub(crate) async fn finish(
    context: &ShardContext<'_>,
    store: &mut Store,
    progress: &mut Progress,
    idx: u32,
) -> Result<ItemOutcome, CrawlError> {
    if let Some(outcome) = drain(context, store, progress, 0).await? {
        return Ok(outcome);
    }
    store.set_item_status(progress.shard(), idx, WorkStatus::Completed, None)?;
    Ok(ItemOutcome::Completed)
}

/// How a shard crawl ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardStatus {
    /// Every work item is complete.
    Completed,
    /// The deadline stopped it; unfinished items keep their cursors.
    Deadline,
    /// Some work items failed; the others are stored.
    Failed,
}

impl ShardStatus {
    /// The value stored in `shard_runs.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            ShardStatus::Completed => "completed",
            ShardStatus::Deadline => "deadline",
            ShardStatus::Failed => "failed",
        }
    }
}

/// The result of one crawl invocation.
#[derive(Clone, Debug)]
pub struct CrawlSummary {
    /// Shard name.
    pub shard: String,
    /// How it ended.
    pub status: ShardStatus,
    /// Repositories in the shard file now.
    pub repositories: u64,
    /// Counters of this invocation.
    pub stats: CrawlStats,
    /// Errors of failed work items.
    pub errors: Vec<String>,
    /// The file written.
    pub out: PathBuf,
}

/// A crawl that could not run or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// The GitHub layer failed for good.
    #[error(transparent)]
    Github(#[from] GithubError),
    /// The shard database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The working database holds something unexpected.
    #[error("shard database {path} is corrupt: {reason}")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The output belongs to another plan or shard.
    #[error("{path} holds {found}, not {expected}; use another --out or delete it")]
    OtherShard {
        /// The output or working file.
        path: PathBuf,
        /// What the file holds.
        found: String,
        /// What the manifest asks for.
        expected: String,
    },
    /// The previous database cannot be used.
    #[error("cannot use previous database {path}: {reason}")]
    Previous {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A refresh manifest without the database it refreshes.
    #[error(
        "this shard refreshes an earlier database: give it as --previous FILE (the one `plan --source refresh:FILE` read)"
    )]
    RefreshWithoutPrevious,
    /// Deep collection asked for without a token (GraphQL needs one).
    #[error("collecting {collect} needs a token: GitHub's GraphQL API does not answer anonymous requests")]
    NeedsToken {
        /// The streams asked for.
        collect: String,
    },
    /// An archive could not be downloaded from GitHub's download host.
    #[error(transparent)]
    Download(#[from] crate::github::DownloadError),
    /// The archive target cannot be used or refused an archive.
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    /// A file operation on the output failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl CrawlError {
    /// Errors that stop the whole shard (the others fail one work item and the crawl goes on).
    fn is_fatal(&self) -> bool {
        match self {
            CrawlError::Github(error) => error.is_input_error() || matches!(error, GithubError::Unreachable { .. }),
            CrawlError::Download(error) => {
                !error.is_transient() && !matches!(error, crate::github::DownloadError::Status { .. })
            }
            _ => true,
        }
    }
}

/// How one work item ended.
pub(crate) enum ItemOutcome {
    Completed,
    Deadline,
    /// Stored, but not all of it could be fetched (a search slice above the 1,000 cap).
    Truncated(String),
}

/// The working database for an output: the output itself, or `<out>.partial` for `.gz`.
pub fn working_path(out: &Path) -> PathBuf {
    if is_gzip_name(out) {
        let mut name = out.as_os_str().to_os_string();
        name.push(".partial");
        PathBuf::from(name)
    } else {
        out.to_path_buf()
    }
}

fn is_gzip_name(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("gz"))
}

/// Crawls one shard into `request.out`, resuming what an earlier run of the same output left.
pub async fn crawl(github: &GitHub, request: &CrawlRequest) -> Result<CrawlSummary, CrawlError> {
    let manifest = &request.manifest;
    let shard = manifest.shard.name.as_str();
    if manifest.work.iter().any(|item| matches!(item, WorkItem::Refresh { .. })) {
        if request.previous.is_none() {
            return Err(CrawlError::RefreshWithoutPrevious);
        }
        if github.is_anonymous() {
            return Err(CrawlError::NeedsToken { collect: "a refresh's check".into() });
        }
    }
    let work_path = working_path(&request.out);
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CrawlError::Io { path, source }
    };
    if let Some(parent) = request.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let mut fresh = !work_path.exists();
    if fresh && work_path != request.out && request.out.exists() {
        // Resume from a finished (or deadline-stopped) artifact.
        artifact::gunzip(&request.out, &work_path).map_err(io(&request.out))?;
        fresh = false;
    }
    let opened = open_shard(&work_path, manifest);
    let mut store = match opened {
        Ok(store) => store,
        Err(error) => {
            if fresh {
                remove_database(&work_path);
            }
            return Err(error);
        }
    };
    let previous = match request.previous.as_deref().map(open_previous).transpose() {
        Ok(previous) => previous,
        Err(error) => {
            drop(store);
            if fresh {
                remove_database(&work_path);
            }
            return Err(error);
        }
    };
    let streams = streams::spec::requested(&manifest.collect);
    let code = match code_of(manifest).await {
        Ok(code) => code,
        Err(error) => {
            drop(store);
            if fresh {
                remove_database(&work_path);
            }
            return Err(error);
        }
    };
    // Streams are sized and skipped by the detail query's counts, and code starts from the head
    // it names, so both imply it.
    let detail = manifest.collect.contains(&crate::plan::Collect::Metadata) || !streams.is_empty() || code.is_some();
    if detail && github.is_anonymous() {
        tracing::warn!("{shard}: GraphQL needs a token, so repository detail (stars, language, ...) is skipped");
    }
    if (!streams.is_empty() || code.is_some()) && github.is_anonymous() {
        drop(store);
        if fresh {
            remove_database(&work_path);
        }
        let mut names: Vec<&str> = streams.iter().map(|s| s.name).collect();
        names.extend(manifest.collect.iter().map(|c| c.as_str()).filter(|c| matches!(*c, "snapshot" | "archive")));
        return Err(CrawlError::NeedsToken { collect: names.join(", ") });
    }
    let context = ShardContext {
        github,
        previous: previous.as_ref().map(|(store, _)| store),
        detail: detail && !github.is_anonymous(),
        streams,
        files: manifest.collect.contains(&crate::plan::Collect::Files),
        code,
        packing: packing::Packing::default(),
    };
    let deadline = request
        .deadline
        .or_else(|| manifest.budget.deadline.as_deref().and_then(|d| crate::time::parse_duration(d).ok()));
    let mut progress = Progress::new(shard, deadline);
    let run = store.start_run(&manifest.plan_id, shard)?;
    // Requests that fail for good are accounted to this shard like the others.
    let result = crate::github::ledger::scope(crawl_items(&context, &mut store, &mut progress, manifest)).await;
    let (status, errors) = match result {
        Ok(outcome) => outcome,
        Err(error) => {
            let message = error.to_string();
            store.finish_run(run, ShardStatus::Failed.as_str(), Some(&message))?;
            let nothing_stored = progress.stats().pages == 0;
            if fresh && nothing_stored {
                drop(store);
                remove_database(&work_path);
            } else {
                finish_output(store, &work_path, &request.out)?;
            }
            return Err(error);
        }
    };
    store.finish_run(run, status.as_str(), errors.first().map(String::as_str))?;
    let repositories = store.repository_count()?;
    finish_output(store, &work_path, &request.out)?;
    let stats = progress.finish(status, repositories);
    Ok(CrawlSummary { shard: shard.to_string(), status, repositories, stats, errors, out: request.out.clone() })
}

/// What the manifest collects of code, with its archive target opened and checked (one listing
/// request) before anything is spent on GitHub.
async fn code_of(manifest: &Manifest) -> Result<Option<code::Code>, CrawlError> {
    use crate::plan::Collect;
    let snapshot = manifest.collect.contains(&Collect::Snapshot);
    let archive = match (&manifest.archive, manifest.collect.contains(&Collect::Archive)) {
        (Some(spec), true) => {
            let target = crate::archive::ArchiveTarget::parse(&spec.to)
                .map_err(|reason| crate::archive::ArchiveError::Target { target: spec.to.clone(), reason })?;
            let storage = crate::archive::Storage::open(&target)?;
            storage.check().await?;
            Some(code::Archiving { storage, max_bytes: spec.max_bytes })
        }
        _ => None,
    };
    Ok((snapshot || archive.is_some()).then_some(code::Code { snapshot, archive }))
}

/// Opens the working database and checks it belongs to this manifest's plan and shard.
fn open_shard(path: &Path, manifest: &Manifest) -> Result<Store, CrawlError> {
    let mut store = Store::open(path)?;
    let expected = format!("{} of plan {}", manifest.shard.name, manifest.plan_id);
    if store.meta("merged_shards")?.is_some() {
        return Err(CrawlError::OtherShard { path: path.to_path_buf(), found: "a merged database".into(), expected });
    }
    if let (Some(plan), Some(shard)) = (store.meta("plan_id")?, store.meta("shard")?) {
        let found = format!("{shard} of plan {plan}");
        if found != expected {
            return Err(CrawlError::OtherShard { path: path.to_path_buf(), found, expected });
        }
    }
    for (key, value) in [
        ("plan_id", manifest.plan_id.clone()),
        ("shard", manifest.shard.name.clone()),
        ("shard_index", manifest.shard.index.to_string()),
        ("shard_count", manifest.shard.count.to_string()),
        ("source", manifest.source.clone()),
        ("collect", serde_json::to_string(&manifest.collect).expect("collect serializes")),
        ("tool_version", crate::TOOL_VERSION.to_string()),
        ("tool_commit", crate::TOOL_COMMIT.to_string()),
    ] {
        store.set_meta(key, &value)?;
    }
    store.record_plan(&crate::store::PlanRow {
        plan_id: manifest.plan_id.clone(),
        source: manifest.source.clone(),
        collect: manifest.collect.clone(),
        shard_count: Some(manifest.shard.count),
    })?;
    store.init_work(&manifest.plan_id, &manifest.shard.name, &manifest.work)?;
    Ok(store)
}

/// Opens a previous database read-only (unpacking `.gz` into a temporary file kept alongside).
fn open_previous(path: &Path) -> Result<(std::sync::Mutex<Store>, Option<tempfile::TempPath>), CrawlError> {
    let fail = |reason: String| CrawlError::Previous { path: path.to_path_buf(), reason };
    let (database, mut temporary) = artifact::readable_sqlite(path).map_err(fail)?;
    let mut store = Store::open_readonly(&database).map_err(|e| fail(e.to_string()))?;
    let version = store.meta("schema_version").map_err(|_| fail("not an octoshard database".into()))?;
    let current = crate::store::SCHEMA_VERSION;
    let older = version.as_deref().and_then(|v| v.parse::<i64>().ok()).filter(|v| (1..current).contains(v));
    if let Some(older) = older {
        // An earlier octoshard wrote it: read a copy migrated to this schema, never the file.
        drop(store);
        let (migrated, copy) = Store::open_migrated(&database, older).map_err(fail)?;
        (store, temporary) = (migrated, Some(copy));
    } else if version.as_deref() != Some(current.to_string().as_str()) {
        return Err(fail(format!(
            "schema version {}, this octoshard reads {current} and older",
            version.unwrap_or_else(|| "none".into())
        )));
    }
    Ok((std::sync::Mutex::new(store), temporary))
}

/// Runs every unfinished work item in order.
async fn crawl_items(
    context: &ShardContext<'_>,
    store: &mut Store,
    progress: &mut Progress,
    manifest: &Manifest,
) -> Result<(ShardStatus, Vec<String>), CrawlError> {
    let shard = manifest.shard.name.as_str();
    let mut errors = Vec::new();
    for state in store.work_items(Some(shard))? {
        if state.status == WorkStatus::Completed {
            continue;
        }
        if progress.deadline_passed() {
            return Ok((ShardStatus::Deadline, errors));
        }
        store.begin_item(shard, state.idx)?;
        let cursor = state.cursor.as_deref();
        let outcome = match &state.item {
            WorkItem::IdRange { from, to, .. } => {
                id_range::crawl(context, store, progress, (state.idx, *from, *to), cursor).await
            }
            WorkItem::RepoNames { names } => {
                names::crawl(context, store, progress, state.idx, names::Wanted::Names(names), cursor).await
            }
            WorkItem::RepoNodes { repos } => {
                names::crawl(context, store, progress, state.idx, names::Wanted::Nodes(repos), cursor).await
            }
            WorkItem::Refresh { date, repos } => {
                refresh::crawl(context, store, progress, state.idx, date, repos, cursor).await
            }
            // An owner's repositories and a user's stars come with their detail through GraphQL;
            // without a token (no GraphQL) the REST listing gives their listing fields.
            item @ (WorkItem::OwnerRepos { .. } | WorkItem::Starred { .. }) if context.detail => {
                owned::crawl(context, store, progress, state.idx, item, cursor).await
            }
            item => paged::crawl(context, store, progress, state.idx, item, cursor).await,
        };
        match outcome {
            Ok(ItemOutcome::Completed) => {}
            Ok(ItemOutcome::Truncated(error)) => errors.push(format!("{}: {error}", state.item)),
            Ok(ItemOutcome::Deadline) => {
                store.set_item_status(shard, state.idx, WorkStatus::Pending, None)?;
                return Ok((ShardStatus::Deadline, errors));
            }
            Err(error) => {
                let failed = crate::github::ledger::take();
                store.record_requests(shard, &failed)?;
                progress.failed(&failed);
                store.set_item_status(shard, state.idx, WorkStatus::Failed, Some(&error.to_string()))?;
                if error.is_fatal() {
                    return Err(error);
                }
                tracing::error!("{shard}: work item {} failed: {error}", state.item);
                errors.push(format!("{}: {error}", state.item));
            }
        }
    }
    if !context.streams.is_empty() {
        store.date_contributions()?;
    }
    let status = if errors.is_empty() { ShardStatus::Completed } else { ShardStatus::Failed };
    Ok((status, errors))
}

/// Makes the output a self-contained file: checkpoints, and for `.gz` compresses atomically.
fn finish_output(store: Store, work_path: &Path, out: &Path) -> Result<(), CrawlError> {
    store.close_for_transfer()?;
    if work_path != out {
        artifact::gzip_atomically(work_path, out)
            .map_err(|source| CrawlError::Io { path: out.to_path_buf(), source })?;
        remove_database(work_path);
    }
    Ok(())
}

/// Removes a database file and its WAL companions, ignoring what is not there.
fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_os_string();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}
