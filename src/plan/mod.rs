//! Planning: turns a source spec into shard manifests, a plan file and the matrices for the crawl
//! jobs, sized so that every job finishes inside its time limit.
//!
//! Two steps: [`gather`] asks GitHub (and the file system) what planning needs to know: the
//! density of the id space, search result counts, the names in a `repos:` file, leftovers.
//! [`make_plan`] is then a pure function of the request and those facts, so the same inputs always
//! give byte-identical manifests; [`write_plan`] writes them.

pub mod calibrate;
pub mod created;
pub mod estimate;
pub mod ids;
pub mod manifest;
pub mod probe;
pub mod search;
pub mod source;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use estimate::{Capacity, Outlook, Work};
pub use manifest::{Budget, Collect, Manifest, ManifestError, OwnerKind, ShardId, WorkItem};
pub use source::{Source, SourceError};

use crate::artifact::write_atomically;
use crate::github::{GitHub, GithubError};
use crate::merge::Leftovers;
use ids::{Anchor, Model, Sample};
use search::Slice;

/// GitHub Actions runs at most this many jobs from one matrix.
pub const MATRIX_JOB_LIMIT: u32 = 256;

/// Named repositories per `repo_names` work item (five GraphQL lookups).
const NAMES_PER_ITEM: usize = 500;

/// Public repositories per id on github.com as a whole (about 400 million under 1.2 billion ids),
/// assumed when a plan is made without density probes.
const AVERAGE_DENSITY: f64 = 0.33;

/// Everything `plan` needs, already validated by the CLI layer.
#[derive(Clone, Debug)]
pub struct PlanRequest {
    /// What to crawl.
    pub source: Source,
    /// How many shards to cut; `None` sizes the plan from its estimate.
    pub shards: Option<u32>,
    /// The most jobs one matrix may hold (at most 256).
    pub max_jobs: u32,
    /// The most matrices (waves) the crawl workflow runs one after another.
    pub max_waves: u32,
    /// What each crawl collects.
    pub collect: Vec<Collect>,
    /// Budget and time the crawls will have.
    pub capacity: Capacity,
    /// Per-shard deadline written into every manifest.
    pub deadline: Option<String>,
    /// Overrides the derived plan id (the workflow passes its run id).
    pub plan_id: Option<String>,
    /// Planning requests for id ranges: density probes, then search counts that check every
    /// cut (0: equal id spans, no requests).
    pub probes: u64,
    /// Whether planning spends at most [`PLANNING_SHARE`] of the crawl's estimated budget (the
    /// default; an explicit `--probes` sets the planning budget instead).
    pub scale_planning: bool,
    /// Today's date (`YYYY-MM-DD`, UTC), for `trending`; read by the CLI so planning stays pure.
    pub today: String,
    /// A read-only SQL filter over the `repositories` table of a `db:` or `refresh:` source
    /// (`--where`).
    pub filter: Option<String>,
    /// With `refresh:`, list the ids above the database's highest for new repositories (`None`:
    /// when the database holds a crawl of the id space, an `ids:` plan; a crawl of an org or a
    /// search would otherwise take in every new repository of GitHub).
    pub discover: Option<bool>,
    /// With `refresh:`, the share of repositories assumed changed, for the estimate (`None`:
    /// [`DEFAULT_CHURN`]).
    pub churn: Option<f64>,
    /// Where archives go, with `Collect::Archive`.
    pub archive: Option<manifest::ArchiveSpec>,
}

/// The plan file (`plan.yaml`): what was planned, from what, by which version, at what cost.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// Format version (same as manifests).
    pub version: u32,
    /// The plan id every manifest carries.
    pub plan_id: String,
    /// The source spec.
    pub source: String,
    /// The octoshard version that planned.
    pub tool_version: String,
    /// The options the plan was made with.
    pub options: PlanOptions,
    /// The forecast: work, credential-hours, waves, expected wall time.
    pub estimate: Outlook,
    /// Requests spent on planning (probes, search counts).
    pub planning_requests: u64,
    /// Search slices that could not be cut to 1,000 results: only their first 1,000 are crawled,
    /// and the crawl records the rest as failed work.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsplittable: Vec<Slice>,
    /// One entry per shard, in order.
    pub shards: Vec<PlanShard>,
}

/// The planning options, recorded so a plan can be reproduced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanOptions {
    /// Requested shard count (absent: sized from the estimate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,
    /// Matrix job limit.
    pub max_jobs: u32,
    /// Wave limit.
    pub max_waves: u32,
    /// What crawls collect.
    pub collect: Vec<Collect>,
    /// Density probes.
    pub probes: u64,
    /// Per-shard deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
}

/// A shard as listed in the plan file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanShard {
    /// The shard name (`shard-0003`).
    pub name: String,
    /// Its manifest file, relative to the plan folder.
    pub manifest: String,
    /// The wave (matrix) it runs in, from 1.
    pub wave: u32,
    /// Expected repositories.
    pub repositories: u64,
    /// Expected requests and points (all budgets).
    pub requests: u64,
    /// Its work items, for a reader of the plan.
    pub work: Vec<String>,
}

/// A repository known by its id and node id.
pub type RepoNode = (u64, String);

/// What planning learned before splitting: the input that makes [`make_plan`] pure.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// One past the newest id, for open-ended id ranges.
    pub id_end: Option<u64>,
    /// Density samples of the id range.
    pub samples: Vec<Sample>,
    /// Search counts of the repositories below ids of the range.
    pub anchors: Vec<Anchor>,
    /// Public repositories per full listing page, when a first look was all of the planning
    /// (listing pages then follow the count, see [`ids::Model::with_public_per_page`]).
    pub public_per_page: Option<f64>,
    /// Search slices of at most 1,000 results.
    pub slices: Vec<Slice>,
    /// Search slices that could not be cut small enough.
    pub unsplittable: Vec<Slice>,
    /// Names from a `repos:` file.
    pub names: Vec<String>,
    /// Repositories of a `db:` source.
    pub nodes: Vec<RepoNode>,
    /// What the repositories of a `db:` source hold, measured there (for deep collection).
    pub profile: Option<estimate::DeepProfile>,
    /// Unfinished work from a `leftovers:` folder.
    pub leftovers: Option<Leftovers>,
    /// The ids a refresh lists for new repositories: above the database's highest, to the newest.
    pub discovery: Option<(u64, u64)>,
    /// Requests spent gathering these facts.
    pub requests: u64,
}

/// A finished plan, not yet written anywhere.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The plan file.
    pub file: PlanFile,
    /// One manifest per shard, in order.
    pub manifests: Vec<Manifest>,
}

/// A plan that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The request itself is contradictory or out of range.
    #[error("cannot plan {source_spec}: {reason}")]
    Invalid {
        /// The source spec.
        source_spec: String,
        /// Why.
        reason: String,
    },
    /// An input file of the source (`repos:FILE`, `leftovers:DIR`) is unusable.
    #[error("cannot plan from {path}: {reason}")]
    Input {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Asking GitHub failed.
    #[error(transparent)]
    Github(#[from] GithubError),
    /// The plan folder could not be written.
    #[error("cannot write the plan to {path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Plan {
    /// Number of waves (matrices run one after another).
    pub fn waves(&self) -> u32 {
        self.file.shards.iter().map(|s| s.wave).max().unwrap_or(1)
    }

    /// The matrix of one wave (from 1): only shard names, because job outputs are capped at 1 MB.
    pub fn matrix_json(&self, wave: u32) -> String {
        let names: Vec<&str> = self.file.shards.iter().filter(|s| s.wave == wave).map(|s| s.name.as_str()).collect();
        serde_json::json!({ "shard": names }).to_string()
    }
}

fn invalid(request: &PlanRequest, reason: impl Into<String>) -> PlanError {
    PlanError::Invalid { source_spec: request.source.to_string(), reason: reason.into() }
}

/// Checks what can be checked before any request or file access.
pub fn validate(request: &PlanRequest) -> Result<(), PlanError> {
    if request.shards == Some(0) {
        return Err(invalid(request, "--shards must be at least 1"));
    }
    if request.max_jobs == 0 || request.max_jobs > MATRIX_JOB_LIMIT {
        return Err(invalid(
            request,
            format!("--max-jobs must be between 1 and {MATRIX_JOB_LIMIT} (GitHub's matrix limit)"),
        ));
    }
    if request.max_waves == 0 {
        return Err(invalid(request, "--max-waves must be at least 1"));
    }
    if let Some(shards) = request.shards
        && shards > request.max_jobs * request.max_waves
    {
        return Err(invalid(
            request,
            format!(
                "{shards} shards need {} waves of {} jobs, but --max-waves is {}; raise --max-waves or plan fewer shards and crawl the leftovers in a later run",
                shards.div_ceil(request.max_jobs),
                request.max_jobs,
                request.max_waves
            ),
        ));
    }
    Collect::check_available(&request.collect).map_err(|reason| invalid(request, format!("--{reason}")))?;
    manifest::ArchiveSpec::check(request.archive.as_ref(), &request.collect)
        .map_err(|reason| invalid(request, reason))?;
    if let Some(id) = &request.plan_id {
        manifest::check_name("--plan-id", id).map_err(|reason| invalid(request, reason))?;
    }
    if request.discover.is_some() && !matches!(request.source, Source::Refresh(_)) {
        return Err(invalid(request, "--discover and --no-discover go with --source refresh:FILE only"));
    }
    if let Some(churn) = request.churn {
        if !matches!(request.source, Source::Refresh(_)) {
            return Err(invalid(request, "--churn sizes a refresh: it needs --source refresh:FILE"));
        }
        if !(0.0..=1.0).contains(&churn) {
            return Err(invalid(request, format!("--churn {churn} is not a share between 0 and 1")));
        }
    }
    if request.collect.contains(&Collect::Files) && !matches!(request.source, Source::Refresh(_)) {
        return Err(invalid(
            request,
            "--collect files compares a repository's heads of two days: it needs --source refresh:FILE",
        ));
    }
    if request.filter.is_some() && !matches!(request.source, Source::Db(_) | Source::Refresh(_)) {
        return Err(invalid(request, "--where filters a db: or refresh: source only"));
    }
    Ok(())
}

/// Asks GitHub and reads files for what the plan needs. `github` may be `None` when the source
/// needs no requests (`ids:A..B` with no probes, `repos:`, `leftovers:`, ...).
pub async fn gather(github: Option<&Arc<GitHub>>, request: &PlanRequest) -> Result<Facts, PlanError> {
    validate(request)?;
    let need_github = || github.ok_or_else(|| invalid(request, "this source needs the GitHub API"));
    let sent_before = github.map_or(0, |g| g.requests_sent());
    let mut facts = Facts::default();
    match &request.source {
        Source::Ids { from, to } => {
            let mut known = Vec::new();
            let end = match to {
                Some(to) => *to,
                None => {
                    let (end, probes) = probe::find_end(need_github()?, *from).await?;
                    facts.id_end = Some(end);
                    known = probes;
                    end
                }
            };
            if end <= *from {
                return Err(invalid(request, format!("no repository exists at or after id {from}")));
            }
            // One shard needs no cut, so nothing to balance.
            if request.probes > 0 && end - from > 1 && request.shards != Some(1) {
                let github = need_github()?;
                let spent = github.requests_sent() - sent_before;
                calibrated_samples(github, request, (*from, end), (known, spent), &mut facts).await?;
            }
        }
        Source::Search(query) => {
            let (slices, unsplittable) = search::slice(need_github()?, query).await?;
            facts.slices = slices;
            facts.unsplittable = unsplittable;
        }
        Source::Repos(path) => facts.names = read_names(path)?,
        Source::Db(path) => {
            let (conn, _unpacked) = open_earlier(path)?;
            (facts.nodes, facts.profile) = read_nodes(&conn, path, request.filter.as_deref())?;
        }
        Source::Refresh(path) => {
            let discover_from = {
                let (conn, _unpacked) = open_earlier(path)?;
                (facts.nodes, facts.profile) = read_nodes(&conn, path, request.filter.as_deref())?;
                let discover = match request.discover {
                    Some(discover) => discover,
                    None => crawled_id_space(&conn, path)?,
                };
                if discover { Some(highest_id(&conn, path)? + 1) } else { None }
            };
            if let Some(from) = discover_from {
                let (end, _) = probe::find_end(need_github()?, from).await?;
                facts.discovery = (end > from).then_some((from, end));
            }
        }
        Source::Leftovers(dir) => facts.leftovers = Some(read_leftovers(dir)?),
        Source::Starred(_) | Source::User(_) | Source::Org(_) | Source::Trending { .. } => {}
    }
    // The GitHub layer counts every attempt it sends; the plan records what planning cost.
    facts.requests = github.map_or(0, |g| g.requests_sent()) - sent_before;
    Ok(facts)
}

/// Probes the density of `[from, end)` with a sixteenth of the planning requests (density shape,
/// listing pages, and repositories whose creation time ties ids to search), then spends the rest
/// on search counts that move each cut until its shard holds its share. Counts do the balancing:
/// a probe sees one page, a count sees every repository in a stretch.
async fn calibrated_samples(
    github: &Arc<GitHub>,
    request: &PlanRequest,
    (from, end): (u64, u64),
    (mut known, spent): (Vec<probe::Probe>, u64),
    facts: &mut Facts,
) -> Result<(), PlanError> {
    let sent_before = github.requests_sent();
    // The clock at the end of the range: the newest repository (open range) or the first one
    // past it, so counts up to `end` neither miss the newest nor take in what lies beyond.
    let last = if facts.id_end == Some(end) { end.saturating_sub(2) } else { end - 1 };
    let deep = deep_per_repository(&request.collect, None);
    // Planning scales with the crawl: it spends at most PLANNING_SHARE of what the crawl is
    // estimated to spend (from a first look at the range), so a small crawl is planned with a
    // few probes and uneven shards, and a large one gets the probes and counts its balance needs.
    let look = if request.scale_planning { first_look(github, (from, end, last), &mut known).await? } else { None };
    let probed: Vec<Sample> = known.iter().map(|p| p.sample).filter(|s| s.since < end).collect();
    let crawl = match &look {
        Some(look) => look.work,
        // No count (an explicit --probes, or no token): the probes' estimate.
        None => id_work(&Model::new(&probed, &[], from, end), from, end),
    }
    .with_deep(&deep);
    // One shard has no cut to place: the first look is all the planning it needs.
    let one_shard = request.scale_planning && shard_count(request, crawl) <= 1;
    let allowance = ((crawl.core + crawl.graphql) * PLANNING_SHARE) as u64;
    let looked = github.requests_sent();
    let spent = spent + (looked - sent_before);
    // An explicit --probes is the budget of the probes and counts below, as it always was.
    let allowed =
        if request.scale_planning { request.probes.min(allowance).saturating_sub(spent) } else { request.probes };
    let left = || allowed.saturating_sub(github.requests_sent() - looked);
    // A few shards need a few probes.
    let mut probes = (request.probes / 16).max(request.probes.min(2)).min(left());
    if let Some(shards) = request.shards {
        probes = probes.min(2 + 2 * u64::from(shards));
    }
    if one_shard {
        probes = 0;
    }
    tracing::debug!(estimated_units = crawl.core + crawl.graphql, allowance, spent, probes, "planning budget");
    if probes == 0 {
        let mut samples = probed;
        samples.sort_by_key(|s| s.since);
        samples.dedup_by_key(|s| s.since);
        facts.samples = samples;
        if let Some(look) = look {
            facts.anchors = look.anchors;
            facts.public_per_page = Some(look.public_per_page);
        }
        return Ok(());
    }
    let (samples, mut edges) = probe::sample_density(github, from, end, probes, known).await?;
    facts.samples = samples;
    if left() < 4 || edges.is_empty() {
        facts.anchors = look.map(|look| look.anchors).unwrap_or_default();
        return Ok(());
    }
    let (mut counter, anchors) = match look {
        // The first look counted the range already; the timeline takes the new edges too.
        Some(FirstLook { edges: earlier, anchors, .. }) => {
            edges.extend(earlier);
            let timeline = calibrate::timeline(github, &edges).await?;
            (calibrate::Counter::new(Arc::clone(github), timeline, from, end), anchors)
        }
        None => {
            edges.extend(probe::probe(github, last).await?.edges);
            count_range(github, calibrate::timeline(github, &edges).await?, (from, end)).await?
        }
    };
    facts.anchors = anchors;
    let model = Model::new(&facts.samples, &facts.anchors, from, end);
    let shards = id_shard_count(request, &model, &deep);
    // About three counts settle a cut; more only where the budget allows and cuts remain.
    let per_cut = 6 * u64::from(shards.saturating_sub(1));
    counter.refine(&facts.samples, &mut facts.anchors, shards, left().min(per_cut)).await?;
    Ok(())
}

/// What a first look at a range counted: the crawl's estimated work, the repositories whose
/// creation times it read, the count's anchors, and the public repositories per full page.
struct FirstLook {
    work: Work,
    edges: Vec<(u64, String)>,
    anchors: Vec<Anchor>,
    public_per_page: f64,
}

/// A first look at `[from, end)`: a probe at its start and one past its end (unless earlier probes
/// saw inside it; added to `known` either way) and, with a token, one search count of everything
/// in it (the probed repositories' creation times from one GraphQL query). The density between
/// probes varies 30x over GitHub's id space, so probes alone misjudge a range's size several
/// times over; the count is exact, and the listing pages follow from it and the share of public
/// repositories on the full probed pages. Three units and a search; two for a range from the
/// first id to past the newest. `None` when it cannot count (no token, or no full page probed).
async fn first_look(
    github: &Arc<GitHub>,
    (from, end, last): (u64, u64, u64),
    known: &mut Vec<probe::Probe>,
) -> Result<Option<FirstLook>, PlanError> {
    if !known.iter().any(|p| p.sample.since < end) {
        let (a, b) = tokio::join!(probe::probe(github, from.saturating_sub(1)), probe::probe(github, last));
        known.extend([a?, b?]);
    }
    // Full pages (a next link) show the share of public repositories among assigned ids; the
    // newest page of GitHub is partial.
    let full: Vec<u64> = known.iter().filter(|p| p.more).map(|p| p.sample.public).collect();
    // Timing the ends needs GraphQL, which needs a token.
    if github.is_anonymous() || full.is_empty() {
        return Ok(None);
    }
    let public_per_page = (full.iter().sum::<u64>() as f64 / full.len() as f64).max(1.0);
    let edges: Vec<(u64, String)> = known.iter().flat_map(|p| p.edges.iter().cloned()).collect();
    // The count runs between the creation times of the range's ends; a range from the first id to
    // past the newest public repository (the probe at its end saw none after it) needs neither:
    // everything there is, counted without a GraphQL point.
    let everything =
        from <= 1 && known.iter().any(|p| p.sample.since >= last && !p.more && p.newest.is_none_or(|n| n < end));
    let timeline =
        if everything { calibrate::Timeline::default() } else { calibrate::timeline(github, &edges).await? };
    let (_, anchors) = count_range(github, timeline, (from, end)).await?;
    let repositories = anchors.iter().map(|a| a.below).max().unwrap_or(0) as f64;
    let work = Work {
        repositories,
        core: (repositories / public_per_page).ceil(),
        graphql: detail_points(repositories),
        search: 0.0,
    };
    Ok(Some(FirstLook { work, edges, anchors, public_per_page }))
}

/// One search count of everything in `[from, end)` by `timeline`: the counter (for the cuts'
/// counts after it) and its anchors.
async fn count_range(
    github: &Arc<GitHub>,
    timeline: calibrate::Timeline,
    (from, end): (u64, u64),
) -> Result<(calibrate::Counter, Vec<Anchor>), PlanError> {
    let mut counter = calibrate::Counter::new(Arc::clone(github), timeline, from, end);
    let anchors = counter.measure(&[(Anchor { id: from, below: 0 }, end)]).await?;
    Ok((counter, anchors))
}

/// The most planning may spend, as a share of the crawl's estimated budget units.
pub const PLANNING_SHARE: f64 = 0.02;

/// How many shards an id range is cut into: as asked, or as many as the estimate needs.
fn id_shard_count(request: &PlanRequest, model: &Model, deep: &Work) -> u32 {
    let (from, to) = model.range();
    shard_count(request, id_work(model, from, to).with_deep(deep))
}

/// How many shards `work` is cut into: as asked, or as many as it needs.
fn shard_count(request: &PlanRequest, work: Work) -> u32 {
    let limit = request.max_jobs * request.max_waves;
    let count = request.shards.unwrap_or_else(|| estimate::shards_needed(work, request.capacity, limit));
    count.min(limit)
}

/// Reads a `repos:` file: one `owner/name` per line; blank lines and `#` comments are skipped,
/// `https://github.com/owner/name` is accepted, duplicates are dropped (case-insensitively).
fn read_names(path: &Path) -> Result<Vec<String>, PlanError> {
    let fail = |reason: String| PlanError::Input { path: path.to_path_buf(), reason };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let mut names = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let name = line.trim_start_matches("https://github.com/").trim_end_matches('/').trim_end_matches(".git");
        if !manifest::is_full_name(name) {
            return Err(fail(format!("line {}: `{line}` is not an owner/name repository name", number + 1)));
        }
        if seen.insert(name.to_ascii_lowercase()) {
            names.push(name.to_string());
        }
    }
    if names.is_empty() {
        return Err(fail("it lists no repositories".into()));
    }
    Ok(names)
}

/// Reads the repositories of an earlier octoshard database (`.sqlite` or `.sqlite.gz`) that pass
/// `filter`, a read-only SQL condition over its `repositories` table.
/// An earlier octoshard database (`db:`, `refresh:`), opened read-only once (a `.gz` unpacked
/// into a temporary file that lives as long as the returned path).
fn open_earlier(path: &Path) -> Result<(rusqlite::Connection, Option<tempfile::TempPath>), PlanError> {
    let fail = |reason: String| PlanError::Input { path: path.to_path_buf(), reason };
    let (database, unpacked) = crate::artifact::readable_sqlite(path).map_err(fail)?;
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(&database, flags)
        .map_err(|e| fail(format!("cannot open it as SQLite ({e})")))?;
    let octoshard: bool = conn
        .query_row("SELECT count(*) FROM sqlite_master WHERE name = 'meta'", [], |row| row.get::<_, i64>(0))
        .map(|n| n > 0)
        .map_err(|e| fail(format!("cannot read it ({e})")))?;
    if !octoshard {
        return Err(fail("not an octoshard database (no meta table)".into()));
    }
    Ok((conn, unpacked))
}

fn read_nodes(
    conn: &rusqlite::Connection,
    path: &Path,
    filter: Option<&str>,
) -> Result<(Vec<RepoNode>, Option<estimate::DeepProfile>), PlanError> {
    let fail = |reason: String| PlanError::Input { path: path.to_path_buf(), reason };
    let condition = filter.unwrap_or("true");
    let sql = format!("SELECT id, node_id FROM repositories WHERE node_id IS NOT NULL AND ({condition}) ORDER BY id");
    let mut statement = conn.prepare(&sql).map_err(|e| fail(format!("--where `{condition}` is not usable ({e})")))?;
    let rows = statement
        .query_map([], |row| Ok((row.get::<_, i64>(0)? as u64, row.get::<_, String>(1)?)))
        .map_err(|e| fail(format!("--where `{condition}` failed ({e})")))?;
    let nodes: Vec<RepoNode> =
        rows.collect::<Result<_, _>>().map_err(|e| fail(format!("--where `{condition}` failed ({e})")))?;
    if nodes.is_empty() {
        return Err(fail(format!("no repository matches `{condition}`")));
    }
    let profile = measure_profile(conn, condition, path).map_err(|e| fail(format!("cannot measure it ({e})")))?;
    Ok((nodes, Some(profile)))
}

/// What the chosen repositories hold, from the database: the share with a default branch, and
/// the counts of an earlier deep crawl (`stream_state.expected`) where it made one; assumed
/// figures for the rest.
fn measure_profile(
    conn: &rusqlite::Connection,
    condition: &str,
    path: &Path,
) -> rusqlite::Result<estimate::DeepProfile> {
    let mut profile =
        estimate::DeepProfile { basis: format!("measured in {}", path.display()), ..estimate::DeepProfile::default() };
    let chosen = format!("SELECT id FROM repositories WHERE node_id IS NOT NULL AND ({condition})");
    let (repos, with_branch): (f64, f64) = conn.query_row(
        &format!("SELECT count(*), count(default_branch) FROM repositories WHERE id IN ({chosen})"),
        [],
        |row| Ok((row.get::<_, i64>(0)? as f64, row.get::<_, i64>(1)? as f64)),
    )?;
    profile.with_branch = with_branch / repos.max(1.0);
    // Archives stored before tell their size; otherwise GitHub's `diskUsage` (which counts the
    // history too, so it errs on the large side).
    let (archived, sized): (Option<f64>, Option<f64>) = conn.query_row(
        &format!(
            "SELECT (SELECT avg(bytes) FROM archives WHERE uri IS NOT NULL AND repo_id IN ({chosen})),
                    (SELECT avg(size) * 1024.0 FROM repositories WHERE default_branch IS NOT NULL AND id IN ({chosen}))"
        ),
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    if let Some(bytes) = archived.or(sized) {
        profile.archive_bytes = bytes;
    }
    let mut statement = conn.prepare(&format!(
        "SELECT stream, count(*), sum(expected), sum(expected > 0) FROM stream_state
         WHERE expected IS NOT NULL AND repo_id IN ({chosen}) GROUP BY stream"
    ))?;
    let counts = statement.query_map([], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, i64>(1)? as f64,
            row.get::<_, i64>(2)? as f64,
            row.get::<_, i64>(3)? as f64,
        ))
    })?;
    for count in counts {
        let (stream, known, items, nonempty) = count?;
        let (per, share) = (items / known.max(1.0), nonempty / known.max(1.0));
        match stream.as_str() {
            "issues" => (profile.issues, profile.with_issues) = (per, share),
            "pulls" => (profile.pulls, profile.with_pulls) = (per, share),
            "commits" => profile.commits = per / profile.with_branch.max(0.01),
            _ => {}
        }
    }
    Ok(profile)
}

/// Reads `leftovers.yaml` from a folder (or the file itself).
fn read_leftovers(path: &Path) -> Result<Leftovers, PlanError> {
    let file = if path.is_dir() { path.join(crate::merge::leftovers::FILE_NAME) } else { path.to_path_buf() };
    let fail = |reason: String| PlanError::Input { path: file.clone(), reason };
    let text = std::fs::read_to_string(&file).map_err(|e| fail(e.to_string()))?;
    let leftovers: Leftovers = serde_yaml::from_str(&text).map_err(|e| fail(format!("not a leftovers file ({e})")))?;
    for item in &leftovers.items {
        item.work.validate().map_err(fail)?;
    }
    Collect::check_available(&leftovers.collect).map_err(fail)?;
    if leftovers.items.is_empty() {
        return Err(fail("it holds no unfinished work".into()));
    }
    Ok(leftovers)
}

/// Splits the source into shards. Pure: the same request and facts give the same plan.
pub fn make_plan(request: &PlanRequest, facts: &Facts) -> Result<Plan, PlanError> {
    validate(request)?;
    let limit = request.max_jobs * request.max_waves;
    let mut collect = request.collect.clone();
    let mut source = request.source.to_string();
    let shards: Vec<(Vec<WorkItem>, Work)> = match &request.source {
        Source::Ids { from, to } => {
            let end = to.or(facts.id_end).ok_or_else(|| invalid(request, "the end of the id range is unknown"))?;
            if end <= *from {
                return Err(invalid(request, format!("no repository exists at or after id {from}")));
            }
            let model =
                Model::new(&facts.samples, &facts.anchors, *from, end).with_public_per_page(facts.public_per_page);
            let deep = deep_per_repository(&collect, facts.profile.as_ref());
            let bounds = model.cut(id_shard_count(request, &model, &deep));
            bounds
                .windows(2)
                .map(|w| {
                    (
                        vec![WorkItem::IdRange { from: w[0], to: w[1], discover: None }],
                        id_work(&model, w[0], w[1]).with_deep(&deep),
                    )
                })
                .collect()
        }
        other => {
            let mut units = units(request, facts, other, &mut collect, &mut source)?;
            let deep = deep_per_repository(&collect, facts.profile.as_ref());
            let changed = facts
                .profile
                .clone()
                .unwrap_or_default()
                .per_changed_repository(&collect, request.churn.unwrap_or(DEFAULT_CHURN));
            for (item, work) in &mut units {
                // A refresh collects only the changed repositories, and those incrementally.
                let per_repository = if matches!(item, WorkItem::Refresh { .. }) { &changed } else { &deep };
                *work = work.with_deep(per_repository);
            }
            let total = units.iter().fold(Work::default(), |mut sum, (_, w)| {
                sum.add(w);
                sum
            });
            let count = request
                .shards
                .unwrap_or_else(|| estimate::shards_needed(total, request.capacity, units.len() as u32))
                .min(units.len() as u32)
                .min(limit);
            distribute(units, count)
        }
    };
    if shards.is_empty() {
        return Err(invalid(request, "nothing to crawl"));
    }
    let plan_id = match &request.plan_id {
        Some(id) => id.clone(),
        None => derived_plan_id(request, &shards),
    };
    let count = shards.len() as u32;
    let width = count.saturating_sub(1).to_string().len().max(4);
    // Leftovers bring their own collect list: archives still need somewhere to go.
    manifest::ArchiveSpec::check(request.archive.as_ref(), &collect).map_err(|reason| invalid(request, reason))?;
    let mut total = Work::default();
    let mut largest = Work::default();
    let rph = f64::from(request.capacity.requests_per_hour.max(1));
    let mut manifests = Vec::with_capacity(shards.len());
    let mut listed = Vec::with_capacity(shards.len());
    for (index, (work, weight)) in shards.into_iter().enumerate() {
        total.add(&weight);
        if weight.credential_hours(rph) > largest.credential_hours(rph) {
            largest = weight;
        }
        let name = format!("shard-{index:0width$}");
        listed.push(PlanShard {
            name: name.clone(),
            manifest: format!("{name}.yaml"),
            wave: index as u32 / request.max_jobs + 1,
            repositories: weight.repositories.round() as u64,
            requests: (weight.core + weight.graphql + weight.search).round() as u64,
            work: work.iter().map(ToString::to_string).collect(),
        });
        manifests.push(Manifest {
            version: manifest::MANIFEST_VERSION,
            plan_id: plan_id.clone(),
            shard: ShardId { index: index as u32, count, name },
            source: source.clone(),
            collect: collect.clone(),
            work,
            budget: Budget {
                requests_per_hour: request.capacity.requests_per_hour,
                deadline: request.deadline.clone(),
            },
            archive: request.archive.clone(),
        });
    }
    let deep = collect.iter().any(|c| *c != Collect::Metadata);
    let archive_bytes = archive_volume(&collect, &total, facts.profile.as_ref(), request);
    let file = PlanFile {
        version: manifest::MANIFEST_VERSION,
        plan_id,
        source,
        tool_version: crate::TOOL_VERSION.to_string(),
        options: PlanOptions {
            shards: request.shards,
            max_jobs: request.max_jobs,
            max_waves: request.max_waves,
            collect,
            probes: request.probes,
            deadline: request.deadline.clone(),
        },
        estimate: estimate::Outlook {
            archive_bytes,
            deep_profile: deep.then(|| facts.profile.clone().unwrap_or_default()),
            ..estimate::outlook(total, largest, count, request.max_jobs, request.capacity)
        },
        planning_requests: facts.requests,
        unsplittable: facts.unsplittable.clone(),
        shards: listed,
    };
    Ok(Plan { file, manifests })
}

/// The bytes the plan's archives will take in storage: one per repository with a default branch
/// (per changed one in a refresh), of the profile's average size.
fn archive_volume(
    collect: &[Collect],
    total: &Work,
    profile: Option<&estimate::DeepProfile>,
    request: &PlanRequest,
) -> Option<f64> {
    if !collect.contains(&Collect::Archive) {
        return None;
    }
    let profile = profile.cloned().unwrap_or_default();
    let share = if matches!(request.source, Source::Refresh(_)) { request.churn.unwrap_or(DEFAULT_CHURN) } else { 1.0 };
    Some((total.repositories * share * profile.with_branch * profile.archive_bytes).round())
}

/// Deep collection's work per repository, from the profile measured in a database or assumed.
fn deep_per_repository(collect: &[Collect], profile: Option<&estimate::DeepProfile>) -> Work {
    profile.cloned().unwrap_or_default().per_repository(collect)
}

/// The work of an id range: listing pages, repositories and their GraphQL detail.
fn id_work(model: &Model, from: u64, to: u64) -> Work {
    let (repositories, pages) = if model.is_blind() {
        let span = (to - from) as f64;
        (span * AVERAGE_DENSITY, span / 100.0)
    } else {
        (model.repositories(from, to), model.pages(from, to))
    };
    Work { repositories, core: pages.ceil(), graphql: detail_points(repositories), search: 0.0 }
}

/// GraphQL points for the detail of `n` repositories: one per query of what a point buys (149,
/// one paged connection each: the topics).
fn detail_points(n: f64) -> f64 {
    (n / crate::crawl::packing::per_point(1) as f64).ceil()
}

/// The indivisible pieces of work of a non-id source, with their estimated cost.
fn units(
    request: &PlanRequest,
    facts: &Facts,
    source: &Source,
    collect: &mut Vec<Collect>,
    spec: &mut String,
) -> Result<Vec<(WorkItem, Work)>, PlanError> {
    let search_work = |count: f64| Work {
        repositories: count,
        core: 0.0,
        graphql: detail_points(count),
        search: (count / 100.0).ceil().max(1.0),
    };
    // An owner's or a user's starred repositories: their number is unknown before the crawl;
    // GraphQL lists them with their detail, 147 a point.
    let listing = Work { repositories: 100.0, core: 0.0, graphql: 1.0, search: 0.0 };
    Ok(match source {
        Source::Ids { .. } => unreachable!("id ranges are cut, not distributed"),
        Source::Search(_) => facts
            .slices
            .iter()
            .chain(&facts.unsplittable)
            .map(|slice| {
                let count = slice.count.min(search::SEARCH_CAP) as f64;
                (WorkItem::Search { query: slice.query.clone(), sort: None, limit: None }, search_work(count))
            })
            .collect(),
        Source::Trending { days } => {
            let since = date_minus_days(&request.today, *days).map_err(|reason| invalid(request, reason))?;
            let item =
                WorkItem::Search { query: format!("created:>={since}"), sort: Some("stars".into()), limit: Some(1000) };
            vec![(item, search_work(1000.0))]
        }
        Source::Starred(login) => vec![(WorkItem::Starred { login: login.clone() }, listing)],
        Source::User(login) => vec![(WorkItem::OwnerRepos { login: login.clone(), owner: OwnerKind::User }, listing)],
        Source::Org(login) => vec![(WorkItem::OwnerRepos { login: login.clone(), owner: OwnerKind::Org }, listing)],
        Source::Db(_) => facts
            .nodes
            .chunks(NAMES_PER_ITEM)
            .map(|repos| (WorkItem::RepoNodes { repos: repos.to_vec() }, lookup_work(repos.len())))
            .collect(),
        Source::Refresh(_) => {
            let date = &request.today;
            let mut units: Vec<(WorkItem, Work)> = facts
                .nodes
                .chunks(NAMES_PER_ITEM)
                .map(|repos| {
                    let streams = collect.iter().any(|kind| !matches!(kind, Collect::Metadata | Collect::Files));
                    (WorkItem::Refresh { date: date.clone(), repos: repos.to_vec() }, check_work(repos.len(), streams))
                })
                .collect();
            if let Some((from, end)) = facts.discovery {
                let mut start = from;
                while start < end {
                    let to = end.min(start + DISCOVERY_IDS);
                    let work = id_work(&Model::new(&[], &[], start, to), start, to);
                    units.push((WorkItem::IdRange { from: start, to, discover: Some(date.clone()) }, work));
                    start = to;
                }
            }
            units
        }
        Source::Repos(_) => facts
            .names
            .chunks(NAMES_PER_ITEM)
            .map(|names| {
                let n = names.len() as f64;
                (
                    WorkItem::RepoNames { names: names.to_vec() },
                    Work { repositories: n, core: 0.0, graphql: detail_points(n), search: 0.0 },
                )
            })
            .collect(),
        Source::Leftovers(_) => {
            let leftovers = facts.leftovers.as_ref().ok_or_else(|| invalid(request, "no leftovers were read"))?;
            *collect = leftovers.collect.clone();
            *spec = format!("{} (leftovers of {}: {})", spec, leftovers.plan_id, leftovers.source);
            leftovers
                .items
                .iter()
                .map(|left| {
                    let work = match &left.work {
                        WorkItem::IdRange { from, to, .. } => id_work(&Model::new(&[], &[], *from, *to), *from, *to),
                        WorkItem::Search { .. } => search_work(1000.0),
                        WorkItem::RepoNames { names } => lookup_work(names.len()),
                        WorkItem::RepoNodes { repos } => lookup_work(repos.len()),
                        WorkItem::Refresh { repos, .. } => check_work(repos.len(), true),
                        WorkItem::OwnerRepos { .. } | WorkItem::Starred { .. } => listing,
                    };
                    (left.work.clone(), work)
                })
                .collect()
        }
    })
}

/// The ids of one discovery work item: about 1,000 listing pages where GitHub is dense.
const DISCOVERY_IDS: u64 = 100_000;

/// The share of repositories a refresh's estimate assumes changed, unless `--churn` says.
pub const DEFAULT_CHURN: f64 = 0.05;

/// The work of checking `n` repositories for changes: the check pages no connection, so a point
/// checks 300; with streams collected it also asks for the newest issue and pull request (a
/// request per repository and connection under GitHub's formula), 74 a point. The changed ones'
/// collection comes on top ([`estimate::DeepProfile::per_changed_repository`]).
fn check_work(n: usize, streams: bool) -> Work {
    let n = n as f64;
    let per_point = crate::crawl::packing::per_point(if streams { 2 } else { 0 }) as f64;
    Work { repositories: n, core: 0.0, graphql: (n / per_point).ceil(), search: 0.0 }
}

/// True when an earlier database holds a crawl of the id space (an `ids:` plan), whose refresh
/// discovers the repositories created since.
fn crawled_id_space(conn: &rusqlite::Connection, path: &Path) -> Result<bool, PlanError> {
    let fail = |reason: String| PlanError::Input { path: path.to_path_buf(), reason };
    conn.query_row("SELECT count(*) FROM plans WHERE source LIKE 'ids:%'", [], |row| row.get::<_, i64>(0))
        .map(|plans| plans > 0)
        .map_err(|e| fail(format!("cannot read its plans ({e})")))
}

/// The highest repository id an earlier database knows (listed or found gone).
fn highest_id(conn: &rusqlite::Connection, path: &Path) -> Result<u64, PlanError> {
    let fail = |reason: String| PlanError::Input { path: path.to_path_buf(), reason };
    conn.query_row(
        "SELECT max(coalesce((SELECT max(id) FROM repositories), 0), coalesce((SELECT max(id) FROM tombstones), 0))",
        [],
        |row| row.get::<_, i64>(0),
    )
    .map(|id| id as u64)
    .map_err(|e| fail(format!("cannot read its highest id ({e})")))
}

/// The work of looking up `n` repositories with their detail.
fn lookup_work(n: usize) -> Work {
    let n = n as f64;
    Work { repositories: n, core: 0.0, graphql: detail_points(n), search: 0.0 }
}

/// Deals units to `count` shards, largest first, each to the least loaded shard (ties: the lower
/// index); within a shard, items keep their original order. Deterministic.
fn distribute(units: Vec<(WorkItem, Work)>, count: u32) -> Vec<(Vec<WorkItem>, Work)> {
    let count = count.max(1) as usize;
    let weight = |w: &Work| w.core + w.graphql + w.search * 3.0 + w.repositories / 1000.0;
    let mut order: Vec<usize> = (0..units.len()).collect();
    order.sort_by(|&a, &b| weight(&units[b].1).total_cmp(&weight(&units[a].1)).then(a.cmp(&b)));
    let mut loads = vec![0.0f64; count];
    let mut assigned: Vec<Vec<usize>> = vec![Vec::new(); count];
    for index in order {
        let target =
            (0..count).min_by(|&a, &b| loads[a].total_cmp(&loads[b]).then(a.cmp(&b))).expect("at least one shard");
        loads[target] += weight(&units[index].1);
        assigned[target].push(index);
    }
    assigned
        .into_iter()
        .filter(|members| !members.is_empty())
        .map(|mut members| {
            members.sort_unstable();
            let mut work = Work::default();
            let items = members
                .into_iter()
                .map(|i| {
                    work.add(&units[i].1);
                    units[i].0.clone()
                })
                .collect();
            (items, work)
        })
        .collect()
}

/// `YYYY-MM-DD` minus `days`.
fn date_minus_days(today: &str, days: u32) -> Result<String, String> {
    let midnight = humantime::parse_rfc3339(&format!("{today}T00:00:00Z"))
        .map_err(|_| format!("`{today}` is not a YYYY-MM-DD date"))?;
    let then = midnight - std::time::Duration::from_secs(u64::from(days) * 86_400);
    Ok(humantime::format_rfc3339_seconds(then).to_string()[..10].to_string())
}

/// Writes `plan.yaml` and one `shard-NNNN.yaml` per shard into `dir`, each file atomically.
pub fn write_plan(plan: &Plan, dir: &Path) -> Result<(), PlanError> {
    let write = |path: PathBuf, text: String| {
        write_atomically(&path, text.as_bytes()).map_err(|source| PlanError::Write { path, source })
    };
    std::fs::create_dir_all(dir).map_err(|source| PlanError::Write { path: dir.to_path_buf(), source })?;
    for manifest in &plan.manifests {
        write(dir.join(format!("{}.yaml", manifest.shard.name)), manifest.to_yaml())?;
    }
    write(dir.join("plan.yaml"), plan_yaml(plan))?;
    remove_stale_manifests(plan, dir)
}

/// Removes the manifests of an earlier plan in the same folder that this plan does not have, so
/// a matrix never picks up a shard of another plan.
fn remove_stale_manifests(plan: &Plan, dir: &Path) -> Result<(), PlanError> {
    let fail = |source| PlanError::Write { path: dir.to_path_buf(), source };
    let current: std::collections::HashSet<String> =
        plan.manifests.iter().map(|m| format!("{}.yaml", m.shard.name)).collect();
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let name = entry.map_err(fail)?.file_name().to_string_lossy().into_owned();
        if name.starts_with("shard-") && name.ends_with(".yaml") && !current.contains(&name) {
            std::fs::remove_file(dir.join(&name)).map_err(fail)?;
            removed.push(name);
        }
    }
    if !removed.is_empty() {
        removed.sort();
        tracing::info!(
            "removed {} manifest(s) of an earlier plan from {}: {}",
            removed.len(),
            dir.display(),
            removed.join(", ")
        );
    }
    Ok(())
}

/// `plan.yaml` as text.
pub fn plan_yaml(plan: &Plan) -> String {
    serde_yaml::to_string(&plan.file).expect("a plan file always serializes")
}

/// A plan id that depends only on the source, options and the work itself, so re-planning the
/// same thing gives the same id (and different work a different one).
fn derived_plan_id(request: &PlanRequest, shards: &[(Vec<WorkItem>, Work)]) -> String {
    let mut canonical = format!(
        "{}|{:?}|{}|{:?}|",
        request.source, request.collect, request.capacity.requests_per_hour, request.deadline
    );
    for (items, _) in shards {
        canonical.push_str(&serde_json::to_string(items).expect("work items serialize"));
        canonical.push('|');
    }
    format!("{}-{:016x}", request.source.kind(), fnv1a(canonical.as_bytes()))
}

/// FNV-1a, 64 bit: pinned forever because plan ids derive from it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests;
