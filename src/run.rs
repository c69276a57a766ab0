//! The whole graph on one machine: plan, crawl every shard in parallel (bounded by `jobs`), merge.
//! The shard files live in `<out>.work/` until the merge is complete, so an interrupted `run`
//! resumes when started again with the same arguments.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::crawl::{self, CrawlRequest, CrawlSummary};
use crate::github::GitHub;
use crate::merge::{self, MergeReport, MergeRequest};
use crate::plan::{self, PlanRequest};
use crate::{Error, Result};

/// What `run` needs, already validated by the CLI layer.
#[derive(Clone, Debug)]
pub struct RunRequest {
    /// The plan to make.
    pub plan: PlanRequest,
    /// Shards crawled at once.
    pub jobs: usize,
    /// The merged database.
    pub out: PathBuf,
    /// Per-shard deadline.
    pub deadline: Option<Duration>,
    /// A database from an earlier crawl, for conditional requests (see [`CrawlRequest::previous`]).
    pub previous: Option<PathBuf>,
    /// Keep every request's row in the merged file (see [`MergeRequest::keep_requests`]).
    pub keep_requests: bool,
}

/// What `run` did.
#[derive(Debug)]
pub struct RunReport {
    /// One summary per shard crawled.
    pub crawls: Vec<CrawlSummary>,
    /// Shards whose crawl failed, with the error.
    pub failed: Vec<(String, String)>,
    /// The merge.
    pub merge: MergeReport,
    /// The working folder (removed when everything completed).
    pub work_dir: PathBuf,
}

/// Plans, crawls and merges. A run that fails before any shard stored anything removes the
/// working folder it created, so bad input leaves nothing behind.
pub async fn run(github: Arc<GitHub>, request: &RunRequest) -> Result<RunReport> {
    // A refresh compares with, and merges onto, the database it refreshes.
    let mut request = std::borrow::Cow::Borrowed(request);
    if let plan::Source::Refresh(refreshed) = &request.plan.source {
        match &request.previous {
            Some(previous) if previous != refreshed => {
                return Err(Error::Usage(format!(
                    "--previous {} and --source refresh:{} name different databases; a refresh compares with the one it refreshes",
                    previous.display(),
                    refreshed.display()
                )));
            }
            _ => {
                let refreshed = refreshed.clone();
                request.to_mut().previous = Some(refreshed);
            }
        }
    }
    let request = request.as_ref();
    let facts = plan::gather(Some(&github), &request.plan).await?;
    let plan = plan::make_plan(&request.plan, &facts)?;
    let mut work_dir = request.out.as_os_str().to_os_string();
    work_dir.push(".work");
    let work_dir = PathBuf::from(work_dir);
    let created = !work_dir.exists();
    let result = plan_crawl_merge(github, request, plan, &work_dir).await;
    if result.is_err() && created && !any_progress(&work_dir.join("shards")) {
        let _ = std::fs::remove_dir_all(&work_dir);
    }
    result
}

/// True when some shard database in `dir` has moved a cursor (holds work worth resuming).
fn any_progress(dir: &std::path::Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.filter_map(|e| e.ok()).any(|entry| {
        let path = entry.path();
        if path.extension().is_none_or(|ext| ext != "sqlite") {
            return false;
        }
        let Ok(store) = crate::store::Store::open_readonly(&path) else { return true };
        store
            .conn()
            .query_row("SELECT count(*) FROM work_items WHERE cursor IS NOT NULL", [], |row| row.get::<_, i64>(0))
            .map_or(true, |moved| moved > 0)
    })
}

async fn plan_crawl_merge(
    github: Arc<GitHub>,
    request: &RunRequest,
    plan: plan::Plan,
    work_dir: &std::path::Path,
) -> Result<RunReport> {
    let plan_dir = work_dir.join("plan");
    let shard_dir = work_dir.join("shards");
    plan::write_plan(&plan, &plan_dir)?;
    std::fs::create_dir_all(&shard_dir).map_err(|source| Error::Io { path: shard_dir.clone(), source })?;
    tracing::info!("plan {}: {} shards, {} at a time", plan.file.plan_id, plan.manifests.len(), request.jobs);

    // The one bound on parallel shard crawls; the GitHub client caps requests in flight separately.
    let slots = Arc::new(Semaphore::new(request.jobs.max(1)));
    let mut tasks = JoinSet::new();
    for manifest in plan.manifests {
        let crawl_request = CrawlRequest {
            out: shard_dir.join(format!("{}.sqlite", manifest.shard.name)),
            manifest,
            deadline: request.deadline,
            previous: request.previous.clone(),
        };
        let github = Arc::clone(&github);
        let slots = Arc::clone(&slots);
        tasks.spawn(async move {
            let _slot = slots.acquire_owned().await.expect("semaphore never closed");
            let shard = crawl_request.manifest.shard.name.clone();
            (shard, crawl::crawl(&github, &crawl_request).await)
        });
    }
    let mut crawls = Vec::new();
    let mut failed = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (shard, result) = joined.map_err(|e| Error::Internal(format!("a crawl task panicked: {e}")))?;
        match result {
            Ok(summary) => crawls.push(summary),
            Err(error) if error_stops_everything(&error) => {
                // Stop the other shards and wait for them, so no file is still open afterwards.
                tasks.shutdown().await;
                return Err(error.into());
            }
            Err(error) => {
                tracing::error!("{shard}: {error}");
                failed.push((shard, error.to_string()));
            }
        }
    }
    crawls.sort_by(|a, b| a.shard.cmp(&b.shard));
    // A refresh's shards hold what changed; the rest comes from the database it refreshes.
    let mut inputs = vec![shard_dir];
    if let plan::Source::Refresh(refreshed) = &request.plan.source {
        inputs.push(refreshed.clone());
    }
    let report = merge::merge(&MergeRequest {
        inputs,
        out: request.out.clone(),
        plan_dir: Some(plan_dir),
        leftovers_dir: leftovers_dir(&request.out),
        keep_requests: request.keep_requests,
        search_index: true,
    })?;
    if report.is_complete() && failed.is_empty() {
        std::fs::remove_dir_all(work_dir).map_err(|source| Error::Io { path: work_dir.to_path_buf(), source })?;
    }
    Ok(RunReport { crawls, failed, merge: report, work_dir: work_dir.to_path_buf() })
}

/// `<out>.leftovers/`, beside the merged file.
pub fn leftovers_dir(out: &std::path::Path) -> PathBuf {
    let mut name = out.as_os_str().to_os_string();
    name.push(".leftovers");
    PathBuf::from(name)
}

/// A bad credential, a bad URL, an unreachable API or archive storage that fails fails every shard
/// the same way: stop at the first.
fn error_stops_everything(error: &crawl::CrawlError) -> bool {
    use crate::github::GithubError;
    match error {
        crawl::CrawlError::Github(github) => {
            github.is_input_error() || matches!(github, GithubError::Unreachable { .. })
        }
        crawl::CrawlError::Archive(_) => true,
        _ => false,
    }
}
