//! The command line: clap definitions, the environment (tokens, `GITHUB_API_URL`, Actions files),
//! logging setup, and the one place that turns errors into messages and exit codes. Everything
//! else takes plain values, so the library never reads the environment.

mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};

use crate::actions::{self, ActionsEnv};
use crate::crawl::{self, CrawlRequest, ShardStatus};
use crate::error::{EXIT_FAILURE, EXIT_OK, EXIT_USAGE};
use crate::github::{self, AppCredential, AppKey, BudgetPolicy, ClientConfig, Credential, GitHub, Policy, Secret};
use crate::merge::{self, MergeReport, MergeRequest};
use crate::plan::{self, Capacity, Collect, Manifest, PlanRequest, Source};
use crate::run::{self, RunRequest};
use crate::{Error, Result};

/// Crawl GitHub at any scale: plan shards, crawl them in a GitHub Actions matrix (or locally),
/// merge the results into one SQLite database.
#[derive(Debug, Parser)]
#[command(name = "octoshard", version = crate::LONG_VERSION, about, long_about = None, after_help = AFTER_HELP)]
pub struct Cli {
    /// More log detail (-v debug, -vv trace).
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only warnings and errors.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Examples, environment and exit codes, below `octoshard --help`.
const AFTER_HELP: &str = "\
Examples:
  octoshard run --source ids:1..100000 --shards 8 --jobs 4 --out repos.sqlite
  octoshard plan --source 'search:language:rust stars:>100' --out plan
  octoshard crawl --manifest plan/shard-0003.yaml --out out/shard-0003.sqlite.gz --deadline 5h30m
  octoshard merge --plan plan --out merged.sqlite out/
  octoshard run --source leftovers:merged.sqlite.leftovers --out rest.sqlite
  octoshard analyze --db merged.sqlite --rules rules.yaml

Environment:
  GITHUB_TOKEN, GH_TOKEN, OCTOSHARD_TOKENS  a token, or a pool (comma or newline separated);
                                            set but empty is an error (see --anonymous)
  OCTOSHARD_APP_ID, OCTOSHARD_APP_KEY, OCTOSHARD_APP_INSTALLATION_IDS  a GitHub App
  GITHUB_API_URL      REST API base (default https://api.github.com)
  GITHUB_GRAPHQL_URL  GraphQL endpoint (default <GITHUB_API_URL>/graphql)
  OCTOSHARD_SOURCE, OCTOSHARD_TODAY  --source and --today of plan and run
  OCTOSHARD_LLM_URL, OCTOSHARD_LLM_MODEL, OCTOSHARD_LLM_KEY  analyze --llm (the key only here)
  GITHUB_ACTIONS, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY  GitHub Actions integration
  RUST_LOG            log filter (overrides -v / -q)

Exit codes:
  0  everything asked for is stored, or a deadline stopped it and the rest is in the leftovers
  1  runtime failure: network, disk, failed work items (what was fetched is stored)
  2  usage or input error: bad flag, source, manifest, token, URL or merge input";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Split a source into shard manifests; print the matrix JSON.
    Plan(PlanArgs),
    /// Crawl one shard manifest into a SQLite file (resumable).
    Crawl(CrawlArgs),
    /// Merge shard files and folders into one database, plus leftovers.
    Merge(MergeArgs),
    /// Plan, crawl every shard in parallel and merge, on this machine.
    Run(RunArgs),
    /// Export every table of a database into PostgreSQL, or as JSON Lines or CSV files.
    Export(ExportArgs),
    /// Summarise a database: Markdown or JSON, an awesome-list README.
    Report(report::ReportArgs),
    /// Categorise and score every repository of a database (incremental; rules or an LLM).
    Analyze(AnalyzeArgs),
}

/// `analyze` arguments.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The database to analyse (.sqlite, shard or merged; written in place).
    #[arg(long, value_name = "FILE", required_unless_present = "print_default_rules")]
    pub db: Option<PathBuf>,
    /// A YAML rules file replacing the built-in rules (categories and score weights; see
    /// --print-default-rules).
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// Print the built-in rules as YAML (a starting point for --rules) and exit.
    #[arg(long, conflicts_with_all = ["db", "rules", "llm"])]
    pub print_default_rules: bool,
    /// Analyse with an OpenAI-compatible chat completions endpoint instead of the rules (stored
    /// as analyzer `llm`; the key comes from OCTOSHARD_LLM_KEY only).
    #[arg(long)]
    pub llm: bool,
    /// With --llm: the chat completions URL, or a base URL (.../v1) it is appended to.
    #[arg(long, env = "OCTOSHARD_LLM_URL", value_name = "URL")]
    pub llm_url: Option<String>,
    /// With --llm: the model name.
    #[arg(long, env = "OCTOSHARD_LLM_MODEL", value_name = "NAME")]
    pub llm_model: Option<String>,
    /// With --llm: the model's context size; batches of repositories are cut to fit it
    /// (tokens estimated as characters / 4, the answer reserved).
    #[arg(long, requires = "llm", default_value_t = 8192, value_name = "TOKENS")]
    pub llm_context_tokens: u64,
    /// With --llm: stop sending batches once this many tokens (prompt + completion, as the
    /// endpoint reports them, else estimated) are spent; the rest is left unanalysed (exit 1).
    #[arg(long, requires = "llm", value_name = "TOKENS")]
    pub llm_max_tokens: Option<u64>,
    /// With --llm: per-request timeout.
    #[arg(long, requires = "llm", default_value = "60s", value_name = "DURATION")]
    pub llm_timeout: String,
    /// With --llm: retries after a timeout, connection error, 429 or 5xx.
    #[arg(long, requires = "llm", default_value_t = 2, value_name = "N")]
    pub llm_retries: u32,
    /// With --llm: first retry delay, doubled per retry.
    #[arg(long, requires = "llm", default_value = "1s", value_name = "DURATION")]
    pub llm_retry_delay: String,
}

/// `export` arguments.
#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("target").required(true).args(["to", "format"]))]
pub struct ExportArgs {
    /// The database to export (.sqlite or .sqlite.gz, a shard or a merged file).
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,
    /// A PostgreSQL URL (postgres://user@host:port/database); parts it leaves out come from
    /// PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE. The password is never printed.
    #[arg(long, env = "OCTOSHARD_EXPORT_TO", hide_env_values = true, value_name = "URL", conflicts_with = "format")]
    pub to: Option<String>,
    /// Files instead: jsonl, csv or parquet (one file per table in --out), or datasette-metadata
    /// (metadata.json for Datasette in --out).
    #[arg(long, value_name = "FORMAT", requires = "out")]
    pub format: Option<FileFormat>,
    /// The folder for the files of --format.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only these tables, comma separated (default: every table).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub tables: Option<Vec<String>>,
}

/// The file formats of `export --format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FileFormat {
    /// JSON Lines: one object per row.
    Jsonl,
    /// CSV with a header row.
    Csv,
    /// Apache Parquet: logical types, Snappy compression, row groups of 100,000 rows.
    Parquet,
    /// `metadata.json` for Datasette: table and column descriptions, facets, full-text search.
    DatasetteMetadata,
}

/// Options shared by `plan` and `run`.
#[derive(Debug, Args)]
pub struct PlanOptionsArgs {
    /// What to crawl: ids:A..B (A <= id < B), ids:A.. (to the newest), search:QUERY,
    /// starred:USER, user:LOGIN, org:LOGIN, repos:FILE, trending[:DAYS], leftovers:DIR,
    /// db:FILE (with --where).
    /// (env OCTOSHARD_SOURCE: lets workflows pass a search query with spaces).
    #[arg(long, env = "OCTOSHARD_SOURCE", value_name = "SPEC")]
    pub source: String,
    /// Number of shards (matrix jobs); default: sized so that every job finishes in --job-hours.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub shards: Option<u32>,
    /// The most jobs one matrix may hold (GitHub's limit is 256).
    #[arg(long, default_value_t = plan::MATRIX_JOB_LIMIT, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=i64::from(plan::MATRIX_JOB_LIMIT)))]
    pub max_jobs: u32,
    /// The most matrices (waves) the crawl workflow runs one after another.
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_waves: u32,
    /// What to collect, comma separated: metadata, pulls, issues, runs, contributors, commits,
    /// snapshot (files and size of the default branch's head), archive (its tarball, to
    /// --archive-to), files (with a refresh). Any of them fetches the metadata too.
    #[arg(long, value_delimiter = ',', default_value = "metadata", value_name = "LIST")]
    pub collect: Vec<String>,
    /// The hourly request budget of each credential the crawls will use.
    #[arg(long, default_value_t = 5000, value_name = "N")]
    pub requests_per_hour: u32,
    /// Independent credentials the crawls will share (e.g. GitHub App installations).
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub credentials: u32,
    /// Crawl jobs running at once (the workflow's max-parallel).
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_parallel: u32,
    /// Hours a crawl job may run (hosted runners stop jobs at 6 hours).
    #[arg(long, default_value_t = 5.5, value_name = "HOURS")]
    pub job_hours: f64,
    /// Planning requests for id ranges: density probes, then search counts that move each shard
    /// cut until shards hold equal repository counts (0: equal id spans, no requests). Default:
    /// at most 128, and at most 2% of the crawl's estimated budget.
    #[arg(long, value_name = "N")]
    pub probes: Option<u64>,
    /// Plan id written into every manifest (default: derived from the source, options and work).
    #[arg(long, value_name = "ID")]
    pub plan_id: Option<String>,
    /// The day `trending` counts back from (YYYY-MM-DD, UTC; default: today): the same date gives
    /// the same plan on any day.
    #[arg(long, env = "OCTOSHARD_TODAY", value_name = "DATE")]
    pub today: Option<String>,
    /// With `--source db:FILE`: a read-only SQL condition over that database's `repositories`
    /// table choosing the repositories to crawl (e.g. "stargazers_count >= 50").
    #[arg(long = "where", env = "OCTOSHARD_WHERE", value_name = "SQL")]
    pub filter: Option<String>,
    /// With `--source refresh:FILE`: list the ids above that database's highest for the
    /// repositories created since (default: when it holds a crawl of the id space, `ids:`).
    #[arg(long, conflicts_with = "no_discover")]
    pub discover: bool,
    /// With `--source refresh:FILE`: do not list new ids (refresh only what it holds).
    #[arg(long)]
    pub no_discover: bool,
    /// With `--source refresh:FILE`: the share of its repositories assumed changed, for the
    /// estimate (default 0.05).
    #[arg(long, value_name = "FRACTION")]
    pub churn: Option<f64>,
    /// With `--collect archive`: where archives go: a folder, file:///path or s3://bucket/prefix
    /// (S3 credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or the instance's role;
    /// AWS_ENDPOINT_URL for MinIO, R2, Ceph).
    #[arg(long, value_name = "TARGET")]
    pub archive_to: Option<String>,
    /// With `--collect archive`: skip archives larger than this (e.g. 500MB, 2GiB; recorded in
    /// `archives.skipped`).
    #[arg(long, value_name = "SIZE")]
    pub archive_max_bytes: Option<String>,
}

/// `plan` arguments.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Planning options.
    #[command(flatten)]
    pub options: PlanOptionsArgs,
    /// Per-shard deadline written into the manifests (e.g. 5h30m).
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,
    /// Folder for plan.yaml and the shard manifests.
    #[arg(long, value_name = "DIR", required_unless_present = "dry_run")]
    pub out: Option<PathBuf>,
    /// Print the estimate (requests, credential-hours, shards, waves, wall time); write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Network options (for probes and search counts).
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// How to reach GitHub (shared by the commands that make requests).
#[derive(Debug, Args)]
pub struct NetworkArgs {
    /// GitHub token (default: OCTOSHARD_TOKENS, then GITHUB_TOKEN, then GH_TOKEN; none: anonymous,
    /// 60 requests/hour). Repeat for a pool. An empty token is an error, not anonymous access.
    #[arg(long, value_name = "TOKEN", hide_default_value = true)]
    pub token: Vec<String>,
    /// Crawl without any token, on the anonymous budget (60 requests an hour, no GraphQL), even
    /// if the environment holds an empty token variable.
    #[arg(long, conflicts_with_all = ["token", "app_id", "app_key", "installation_id"])]
    pub anonymous: bool,
    /// GitHub App id (with --app-key and --installation-id; env OCTOSHARD_APP_ID).
    #[arg(long, value_name = "ID")]
    pub app_id: Option<u64>,
    /// GitHub App private key PEM file (env OCTOSHARD_APP_KEY holds the PEM itself).
    #[arg(long, value_name = "FILE")]
    pub app_key: Option<PathBuf>,
    /// GitHub App installation id; repeat for several installations, each with its own budget
    /// (env OCTOSHARD_APP_INSTALLATION_IDS, comma separated).
    #[arg(long, value_name = "ID")]
    pub installation_id: Vec<u64>,
    /// Per-request timeout.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub timeout: String,
    /// Retries after a 5xx, timeout or connection error.
    #[arg(long, default_value_t = 6, value_name = "N")]
    pub max_retries: u32,
    /// First retry delay (doubles per retry, with jitter).
    #[arg(long, default_value = "1s", value_name = "DURATION")]
    pub retry_delay: String,
    /// Wait after a secondary rate limit that names no retry-after (GitHub documents a minute).
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub secondary_wait: String,
    /// Requests in flight at once (GitHub's secondary limit is 100).
    #[arg(long, default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=100).map(usize::from))]
    pub max_concurrency: usize,
    /// Share of each rate-limit window left unspent for other jobs on the same credential.
    #[arg(long, default_value_t = 0.01, value_name = "FRACTION")]
    pub reserve: f64,
    /// Spend each window as fast as allowed instead of spreading it until the reset.
    #[arg(long)]
    pub no_pacing: bool,
}

/// `crawl` arguments.
#[derive(Debug, Args)]
pub struct CrawlArgs {
    /// The shard manifest to crawl.
    #[arg(long, value_name = "FILE")]
    pub manifest: PathBuf,
    /// The shard database (.sqlite, or .sqlite.gz written atomically at the end). Re-running with
    /// the same --out resumes.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Stop after this long and record the rest as leftovers (overrides the manifest's deadline).
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,
    /// A database from an earlier crawl (.sqlite or .sqlite.gz, shard or merged): unchanged listing
    /// pages are answered 304 for free and their rows are taken from it.
    #[arg(long, value_name = "FILE")]
    pub previous: Option<PathBuf>,
    /// Network options.
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// `merge` arguments.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The merged database to write (atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The plan folder, to report shards that never arrived and put their work in leftovers.
    #[arg(long, value_name = "DIR")]
    pub plan: Option<PathBuf>,
    /// Where to write leftovers.yaml for unfinished work (default: <out>.leftovers).
    #[arg(long, value_name = "DIR")]
    pub leftovers: Option<PathBuf>,
    /// Keep every request's row in the merged `api_requests` (default: only the totals per
    /// plan, shard, hour, kind, status and credential in `api_request_totals`).
    #[arg(long, env = "OCTOSHARD_KEEP_REQUESTS")]
    pub keep_requests: bool,
    /// Leave out `repositories_fts`, the full-text index (about 5 s a million repositories, the
    /// largest part of a big merge).
    #[arg(long)]
    pub no_search_index: bool,
    /// .sqlite / .sqlite.gz files, or folders searched recursively.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
}

/// `run` arguments.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Planning options.
    #[command(flatten)]
    pub options: PlanOptionsArgs,
    /// Shards crawled at once.
    #[arg(long, default_value_t = 4, value_name = "J", value_parser = clap::value_parser!(u16).range(1..).map(usize::from))]
    pub jobs: usize,
    /// Per-shard deadline (e.g. 5h30m).
    #[arg(long, value_name = "DURATION")]
    pub deadline: Option<String>,
    /// A database from an earlier crawl, for conditional requests (see `crawl --previous`).
    #[arg(long, value_name = "FILE")]
    pub previous: Option<PathBuf>,
    /// Keep every request's row in the merged `api_requests` (see `merge --keep-requests`).
    #[arg(long, env = "OCTOSHARD_KEEP_REQUESTS")]
    pub keep_requests: bool,
    /// The merged database to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Network options.
    #[command(flatten)]
    pub network: NetworkArgs,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(&cli);
    actions::enable_workflow_commands(env_value("GITHUB_ACTIONS").as_deref() == Some("true"));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match runtime.block_on(execute(cli.command)) {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(error) => {
            report_error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}

fn report_error(error: &Error) {
    actions::error("octoshard failed", &error.to_string());
    eprintln!("error: {error}");
    if let Some(hint) = error.hint() {
        eprintln!("hint: {hint}");
    }
}

fn init_tracing(cli: &Cli) {
    use tracing_subscriber::EnvFilter;
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "warn",
        (false, 0) => "info",
        (false, 1) => "debug",
        (false, _) => "trace",
    };
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|spec| EnvFilter::try_new(spec).ok())
        .unwrap_or_else(|| EnvFilter::new(format!("octoshard={level},warn")));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("GITHUB_ACTIONS").is_none();
    if ansi && !cli.quiet {
        crate::bars::enable();
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| crate::bars::LogWriter)
        .with_target(false)
        .with_ansi(ansi)
        .init();
}

async fn execute(command: Command) -> Result<()> {
    let actions = ActionsEnv {
        output: std::env::var_os("GITHUB_OUTPUT").filter(|v| !v.is_empty()).map(PathBuf::from),
        step_summary: std::env::var_os("GITHUB_STEP_SUMMARY").filter(|v| !v.is_empty()).map(PathBuf::from),
    };
    match command {
        Command::Plan(args) => plan_command(args, &actions).await,
        Command::Crawl(args) => crawl_command(args, &actions).await,
        Command::Merge(args) => merge_command(args, &actions),
        Command::Run(args) => run_command(args, &actions).await,
        Command::Export(args) => export_command(args, &actions).await,
        Command::Report(args) => report::report_command(args, &actions),
        Command::Analyze(args) => analyze_command(args, &actions).await,
    }
}

fn plan_request(options: &PlanOptionsArgs, deadline: Option<String>) -> Result<PlanRequest> {
    let source: Source = options.source.parse()?;
    let mut collect = Vec::new();
    for name in &options.collect {
        let item: Collect = serde_yaml::from_str(name.trim()).map_err(|_| {
            Error::Usage(format!(
                "--collect: `{name}` is not one of metadata, pulls, issues, runs, contributors, commits, snapshot, archive"
            ))
        })?;
        if !collect.contains(&item) {
            collect.push(item);
        }
    }
    collect.sort();
    if let Some(deadline) = &deadline {
        crate::time::parse_duration(deadline).map_err(|e| Error::Usage(format!("--deadline: {e}")))?;
    }
    let today = match &options.today {
        Some(date) => crate::time::check_date(date.trim()).map_err(|e| Error::Usage(format!("--today: {e}")))?,
        None => crate::time::now_rfc3339()[..10].to_string(),
    };
    if !(options.job_hours > 0.0 && options.job_hours.is_finite()) {
        return Err(Error::Usage(format!("--job-hours {} must be a positive number", options.job_hours)));
    }
    Ok(PlanRequest {
        source,
        shards: options.shards,
        max_jobs: options.max_jobs,
        max_waves: options.max_waves,
        collect,
        capacity: Capacity {
            requests_per_hour: options.requests_per_hour.max(1),
            credentials: options.credentials.max(1),
            max_parallel: options.max_parallel.max(1),
            job_hours: options.job_hours,
        },
        deadline,
        plan_id: options.plan_id.clone(),
        probes: options.probes.unwrap_or(DEFAULT_PROBES),
        scale_planning: options.probes.is_none(),
        today,
        filter: options.filter.clone().filter(|condition| !condition.trim().is_empty()),
        discover: match (options.discover, options.no_discover) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        churn: options.churn,
        archive: archive_spec(options)?,
    })
}

/// The archive target and limit from the flags (checked against `--collect` by the planner).
fn archive_spec(options: &PlanOptionsArgs) -> Result<Option<plan::manifest::ArchiveSpec>> {
    let max_bytes = options
        .archive_max_bytes
        .as_deref()
        .map(|text| crate::archive::parse_size(text).map_err(|e| Error::Usage(format!("--archive-max-bytes: {e}"))))
        .transpose()?;
    match (&options.archive_to, max_bytes) {
        (Some(to), max_bytes) => Ok(Some(plan::manifest::ArchiveSpec { to: to.trim().to_string(), max_bytes })),
        (None, Some(_)) => Err(Error::Usage("--archive-max-bytes goes with --archive-to".into())),
        (None, None) => Ok(None),
    }
}

/// The planning budget when `--probes` is not given (then also at most 2% of the crawl's).
const DEFAULT_PROBES: u64 = 128;

/// True when planning this source asks GitHub something.
fn plan_needs_github(request: &PlanRequest) -> bool {
    match &request.source {
        Source::Ids { to: None, .. } | Source::Search(_) => true,
        Source::Ids { .. } => request.probes > 0,
        Source::Refresh(_) => request.discover != Some(false),
        _ => false,
    }
}

async fn plan_command(args: PlanArgs, actions: &ActionsEnv) -> Result<()> {
    let request = plan_request(&args.options, args.deadline)?;
    plan::validate(&request)?;
    let github = if plan_needs_github(&request) { Some(Arc::new(github_client(&args.network)?)) } else { None };
    let started = std::time::Instant::now();
    let group = actions::group(&format!("octoshard plan {}", request.source));
    let facts = plan::gather(github.as_ref(), &request).await?;
    let gathered = started.elapsed();
    let plan = plan::make_plan(&request, &facts)?;
    tracing::debug!(
        requests = facts.requests,
        gather_ms = gathered.as_millis() as u64,
        cut_ms = (started.elapsed() - gathered).as_millis() as u64,
        "planned"
    );
    drop(group);
    for slice in &plan.file.unsplittable {
        let reason = slice.reason.as_deref().unwrap_or("it cannot be cut");
        let message = format!(
            "`{}` counts {} results and {reason}: its crawl stores the first 1,000 and records the slice as failed work",
            slice.query, slice.count
        );
        tracing::warn!("search slice over 1,000 results: {message}");
        actions::warning("search slice over 1,000 results", &message);
    }
    if !plan.file.estimate.jobs_fit {
        actions::warning(
            "jobs will not finish",
            "the budget cannot finish every shard within --job-hours: crawls stop at their deadline; plan the leftovers in a later run",
        );
    }
    if args.dry_run {
        print!("{}", serde_yaml::to_string(&plan.file.estimate).expect("the estimate serializes"));
        println!("planning_requests: {}", plan.file.planning_requests);
        return Ok(());
    }
    let out = args.out.expect("clap requires --out without --dry-run");
    plan::write_plan(&plan, &out)?;
    let waves = plan.waves();
    for wave in 1..=waves {
        println!("{}", plan.matrix_json(wave));
    }
    if let Some(path) = &actions.output {
        let io = |source| Error::Io { path: path.clone(), source };
        actions::append_output(path, "matrix", &plan.matrix_json(1)).map_err(io)?;
        for wave in 1..=waves {
            actions::append_output(path, &format!("matrix_{wave}"), &plan.matrix_json(wave)).map_err(io)?;
        }
        actions::append_output(path, "waves", &waves.to_string()).map_err(io)?;
        actions::append_output(path, "shards", &plan.manifests.len().to_string()).map_err(io)?;
        actions::append_output(path, "plan_id", &plan.file.plan_id).map_err(io)?;
    }
    append_step_summary(actions, || actions::plan_summary_markdown(&plan))?;
    let estimate = &plan.file.estimate;
    tracing::info!(
        "plan {}: {} shards in {waves} wave(s) written to {}; about {:.0} repositories, {:.1} credential-hours ({} budget), {:.1} h per job, {:.1} h in all{}",
        plan.file.plan_id,
        plan.manifests.len(),
        out.display(),
        estimate.total.repositories,
        estimate.credential_hours,
        estimate.binding_budget,
        estimate.job_hours,
        estimate.wall_hours,
        if estimate.jobs_fit { "" } else { "; jobs will reach their deadline: crawl the leftovers in later runs" }
    );
    Ok(())
}

/// Builds the GitHub client from flags and the environment (the only place secrets are read).
fn github_client(network: &NetworkArgs) -> Result<GitHub> {
    let api_url = env_value("GITHUB_API_URL").unwrap_or_else(|| github::DEFAULT_API_URL.to_string());
    let graphql_url = env_value("GITHUB_GRAPHQL_URL");
    let credentials = credentials(network)?;
    if credentials.is_empty() {
        tracing::warn!(
            "no token given (--token, OCTOSHARD_TOKENS, GITHUB_TOKEN or GH_TOKEN): using the anonymous budget of 60 requests/hour"
        );
    }
    let duration =
        |flag: &str, text: &str| crate::time::parse_duration(text).map_err(|e| Error::Usage(format!("{flag}: {e}")));
    if !(0.0..0.5).contains(&network.reserve) {
        return Err(Error::Usage(format!("--reserve {} must be at least 0 and below 0.5", network.reserve)));
    }
    let policy = Policy {
        timeout: duration("--timeout", &network.timeout)?,
        max_retries: network.max_retries,
        backoff_base: duration("--retry-delay", &network.retry_delay)?,
        secondary_wait: duration("--secondary-wait", &network.secondary_wait)?,
        max_concurrency: network.max_concurrency.max(1),
        budget: BudgetPolicy {
            reserve_fraction: network.reserve,
            pacing: !network.no_pacing,
            ..BudgetPolicy::default()
        },
        ..Policy::default()
    };
    Ok(GitHub::new(ClientConfig { api_url, graphql_url, credentials, policy })?)
}

fn env_value(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Every credential given: tokens (flags, else the first of OCTOSHARD_TOKENS, GITHUB_TOKEN,
/// GH_TOKEN that is set) and GitHub App installations. Empty means anonymous. A token source that
/// is set but blank is an error (an unset secret in GitHub Actions is an empty string), unless
/// `--anonymous` asks for no token at all.
fn credentials(network: &NetworkArgs) -> Result<Vec<Credential>> {
    if network.anonymous {
        return Ok(Vec::new());
    }
    let empty = |name: &str| {
        Error::Usage(format!(
            "{name} is empty (in GitHub Actions, a secret that is not set is an empty string): give a token, or --anonymous to crawl without one (60 requests an hour)"
        ))
    };
    let mut tokens: Vec<String> = Vec::new();
    let mut blank_variable = None;
    if !network.token.is_empty() {
        for token in &network.token {
            if token.trim().is_empty() {
                return Err(empty("--token"));
            }
            tokens.push(token.trim().to_string());
        }
    } else if let Some((name, value)) =
        ["OCTOSHARD_TOKENS", "GITHUB_TOKEN", "GH_TOKEN"].iter().find_map(|n| std::env::var(n).ok().map(|v| (*n, v)))
    {
        tokens = value.split([',', '\n']).map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
        if tokens.is_empty() {
            blank_variable = Some(name);
        }
    }
    let mut unique = Vec::new();
    for token in tokens {
        if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::Usage(format!("token {} contains whitespace or control characters", unique.len() + 1)));
        }
        if !unique.contains(&token) {
            unique.push(token);
        }
    }
    let mut credentials: Vec<Credential> = unique
        .into_iter()
        .enumerate()
        .map(|(i, t)| Credential::token(format!("token-{}", i + 1), Secret::new(t)))
        .collect();

    let app_id = match network.app_id {
        Some(id) => Some(id),
        None => env_value("OCTOSHARD_APP_ID")
            .map(|v| v.parse::<u64>().map_err(|_| Error::Usage(format!("OCTOSHARD_APP_ID `{v}` is not a number"))))
            .transpose()?,
    };
    let mut installations = network.installation_id.clone();
    if installations.is_empty()
        && let Some(list) = env_value("OCTOSHARD_APP_INSTALLATION_IDS")
    {
        for id in list.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            installations.push(
                id.parse()
                    .map_err(|_| Error::Usage(format!("OCTOSHARD_APP_INSTALLATION_IDS: `{id}` is not a number")))?,
            );
        }
    }
    let key_text = match &network.app_key {
        Some(path) => Some(
            std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("--app-key {}: {e}", path.display())))?,
        ),
        None => env_value("OCTOSHARD_APP_KEY"),
    };
    if let Some(pem) = &key_text {
        actions::mask(pem);
    }
    match (app_id, key_text, installations.is_empty()) {
        (None, None, true) => {}
        (Some(app_id), Some(pem), false) => {
            for installation_id in installations {
                let key = AppKey::from_pem(&pem).map_err(|e| Error::Usage(format!("GitHub App private key: {e}")))?;
                credentials.push(Credential::app(AppCredential { app_id, installation_id, key }));
            }
        }
        _ => {
            return Err(Error::Usage(
                "a GitHub App needs all three of --app-id, --app-key and --installation-id (or their OCTOSHARD_APP_* variables)".into(),
            ));
        }
    }
    match blank_variable {
        Some(name) if credentials.is_empty() => Err(empty(name)),
        _ => Ok(credentials),
    }
}

fn parse_deadline(deadline: Option<&str>) -> Result<Option<Duration>> {
    deadline.map(|d| crate::time::parse_duration(d).map_err(|e| Error::Usage(format!("--deadline: {e}")))).transpose()
}

/// The PostgreSQL configuration of `--to`, with the parts it leaves out from the `PG*`
/// environment variables (as libpq does).
fn postgres_config(url: &str) -> Result<tokio_postgres::Config> {
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| {
        Error::Usage(format!("--to: not a PostgreSQL URL ({e}); write postgres://user@host:5432/database"))
    })?;
    if config.get_hosts().is_empty() {
        config.host(env_value("PGHOST").as_deref().unwrap_or("localhost"));
    }
    if config.get_ports().is_empty()
        && let Some(port) = env_value("PGPORT")
    {
        config.port(port.parse().map_err(|_| Error::Usage(format!("PGPORT `{port}` is not a port number")))?);
    }
    if config.get_user().is_none()
        && let Some(user) = env_value("PGUSER")
    {
        config.user(&user);
    }
    if config.get_password().is_none()
        && let Some(password) = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty())
    {
        config.password(password);
    }
    if config.get_dbname().is_none()
        && let Some(database) = env_value("PGDATABASE")
    {
        config.dbname(&database);
    }
    if config.get_user().is_none() {
        return Err(Error::Usage("--to: no user in the URL and PGUSER is not set".into()));
    }
    Ok(config)
}

async fn export_command(args: ExportArgs, actions: &ActionsEnv) -> Result<()> {
    let target = match (&args.to, args.format, &args.out) {
        (Some(url), _, _) => crate::export::Target::Postgres(Box::new(postgres_config(url)?)),
        (None, Some(FileFormat::DatasetteMetadata), Some(out)) => {
            crate::export::Target::DatasetteMetadata { out: out.clone() }
        }
        (None, Some(format), Some(out)) => crate::export::Target::Files {
            format: match format {
                FileFormat::Csv => crate::export::Format::Csv,
                FileFormat::Parquet => crate::export::Format::Parquet,
                _ => crate::export::Format::Jsonl,
            },
            out: out.clone(),
        },
        _ => return Err(Error::Usage("export needs --to URL, or --format with --out".into())),
    };
    let request = crate::export::ExportRequest { db: args.db, target, tables: args.tables };
    let group = actions::group("octoshard export");
    let report = crate::export::export(&request).await?;
    drop(group);
    let rows: u64 = report.tables.iter().map(|(_, n)| n).sum();
    tracing::info!("exported {} tables ({rows} rows) to {}", report.tables.len(), report.target);
    append_step_summary(actions, || {
        let mut text = format!("### octoshard export to {}\n\n| table | rows |\n|---|---:|\n", report.target);
        for (table, n) in &report.tables {
            text.push_str(&format!("| {table} | {n} |\n"));
        }
        text
    })
}

async fn analyze_command(args: AnalyzeArgs, actions: &ActionsEnv) -> Result<()> {
    use crate::analyze::{self, AnalyzeRequest, LlmConfig};
    if args.print_default_rules {
        print!("{}", analyze::Rules::default().to_yaml());
        return Ok(());
    }
    let db = args.db.ok_or_else(|| Error::Usage("analyze needs --db FILE".into()))?;
    let rules = analyze::load_rules(args.rules.as_deref())?;
    let llm = if args.llm {
        let url = args.llm_url.filter(|u| !u.trim().is_empty());
        let model = args.llm_model.filter(|m| !m.trim().is_empty());
        let (Some(url), Some(model)) = (url, model) else {
            return Err(Error::Usage(
                "--llm needs an endpoint and a model: --llm-url / OCTOSHARD_LLM_URL and --llm-model / OCTOSHARD_LLM_MODEL"
                    .into(),
            ));
        };
        let key = match std::env::var("OCTOSHARD_LLM_KEY") {
            Err(std::env::VarError::NotPresent) => None,
            Ok(key) if !key.trim().is_empty() => Some(github::Secret::new(key.trim())),
            _ => {
                return Err(Error::Usage(
                    "OCTOSHARD_LLM_KEY is set but empty (or not text): set the key, or unset it for an endpoint without one"
                        .into(),
                ));
            }
        };
        let duration = |flag: &str, text: &str| {
            crate::time::parse_duration(text).map_err(|e| Error::Usage(format!("{flag}: {e}"))).and_then(|d| {
                if d.is_zero() { Err(Error::Usage(format!("{flag} must be more than 0"))) } else { Ok(d) }
            })
        };
        let config = LlmConfig {
            url,
            model: model.trim().to_string(),
            key,
            timeout: duration("--llm-timeout", &args.llm_timeout)?,
            retries: args.llm_retries,
            retry_delay: crate::time::parse_duration(&args.llm_retry_delay)
                .map_err(|e| Error::Usage(format!("--llm-retry-delay: {e}")))?,
            context_tokens: args.llm_context_tokens,
            max_tokens: args.llm_max_tokens,
        };
        config.endpoint().map_err(Error::Usage)?;
        Some(config)
    } else {
        None
    };
    let request = AnalyzeRequest { db, rules, llm, page_rows: analyze::PAGE_ROWS };
    let group = actions::group("octoshard analyze");
    let summary = analyze::analyze(&request).await?;
    drop(group);
    tracing::info!("{}", summary.line());
    append_step_summary(actions, || summary.markdown())?;
    match summary.incomplete() {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

/// Deep collection reads GraphQL, which answers no anonymous request: refuse before any work.
fn needs_token_for(collect: &[Collect], github: &GitHub) -> Result<()> {
    let streams = crawl::streams::spec::requested(collect);
    if streams.is_empty() || !github.is_anonymous() {
        return Ok(());
    }
    let names: Vec<&str> = streams.iter().map(|s| s.name).collect();
    Err(Error::Crawl(crawl::CrawlError::NeedsToken { collect: names.join(", ") }))
}

/// Appends Markdown to the step summary, when there is one (built only then).
fn append_step_summary(actions: &ActionsEnv, markdown: impl FnOnce() -> String) -> Result<()> {
    if let Some(path) = &actions.step_summary {
        actions::append_summary(path, &markdown()).map_err(|source| Error::Io { path: path.clone(), source })?;
    }
    Ok(())
}

async fn crawl_command(args: CrawlArgs, actions: &ActionsEnv) -> Result<()> {
    let manifest = Manifest::load(&args.manifest)?;
    let deadline = parse_deadline(args.deadline.as_deref())?;
    let github = github_client(&args.network)?;
    needs_token_for(&manifest.collect, &github)?;
    let group = actions::group(&format!(
        "octoshard crawl {} ({} of {})",
        manifest.shard.name,
        manifest.shard.index + 1,
        manifest.shard.count
    ));
    let request = CrawlRequest { manifest, out: args.out, deadline, previous: args.previous };
    let summary = crawl::crawl(&github, &request).await?;
    drop(group);
    annotate_crawl(&summary);
    append_step_summary(actions, || {
        actions::crawl_summary_markdown(&format!("octoshard crawl {}", summary.shard), std::slice::from_ref(&summary))
    })?;
    match summary.status {
        ShardStatus::Failed => Err(Error::WorkFailed { shard: summary.shard, errors: summary.errors }),
        ShardStatus::Deadline | ShardStatus::Completed => Ok(()),
    }
}

/// Warns of a shard stopped at its deadline; flags a failed one.
fn annotate_crawl(summary: &crawl::CrawlSummary) {
    match summary.status {
        ShardStatus::Completed => {}
        ShardStatus::Deadline => actions::warning(
            &format!("{} stopped at its deadline", summary.shard),
            &format!(
                "{} repositories stored; the unfinished work goes to the leftovers at merge",
                summary.repositories
            ),
        ),
        ShardStatus::Failed => actions::error(&format!("{} failed", summary.shard), &summary.errors.join("; ")),
    }
}

/// Step summary and annotations for a merge.
fn report_merge(report: &MergeReport, actions: &ActionsEnv) -> Result<()> {
    print_merge(report);
    for refused in &report.refused {
        actions::error("merge refused an input", &format!("{}: {}", refused.path.display(), refused.reason));
    }
    if !report.missing_shards.is_empty() {
        actions::warning(
            "shards missing",
            &format!("no artifact for {}: their work is in the leftovers", report.missing_shards.join(", ")),
        );
    }
    if let Some(file) = &report.leftovers_file {
        actions::warning(
            "unfinished work",
            &format!(
                "{} work item(s) in {}: plan them with --source leftovers:DIR",
                report.leftovers.len(),
                file.display()
            ),
        );
    }
    append_step_summary(actions, || actions::merge_summary_markdown(report))
}

fn merge_command(args: MergeArgs, actions: &ActionsEnv) -> Result<()> {
    let request = MergeRequest {
        leftovers_dir: args.leftovers.unwrap_or_else(|| run::leftovers_dir(&args.out)),
        inputs: args.inputs,
        out: args.out,
        plan_dir: args.plan,
        keep_requests: args.keep_requests,
        search_index: !args.no_search_index,
    };
    let group = actions::group("octoshard merge");
    let report = merge::merge(&request)?;
    drop(group);
    report_merge(&report, actions)?;
    refused_error(&report)?;
    unfinished_error(&report)
}

/// Exit 0 only when everything is stored or what is left stopped at a deadline.
fn unfinished_error(report: &MergeReport) -> Result<()> {
    let mut reasons = std::collections::BTreeMap::new();
    for item in report.leftovers.iter().filter(|item| item.reason != "deadline") {
        *reasons.entry(item.reason.as_str()).or_insert(0usize) += 1;
    }
    match &report.leftovers_file {
        Some(file) if !reasons.is_empty() => Err(Error::Unfinished {
            out: report.out.clone(),
            count: reasons.values().sum(),
            reasons: reasons.iter().map(|(reason, n)| format!("{reason}: {n}")).collect::<Vec<_>>().join(", "),
            leftovers: file.clone(),
        }),
        _ => Ok(()),
    }
}

fn refused_error(report: &MergeReport) -> Result<()> {
    if report.refused.is_empty() {
        return Ok(());
    }
    Err(Error::InputsRefused {
        out: report.out.clone(),
        refused: report.refused.iter().map(|r| format!("{}: {}", r.path.display(), r.reason)).collect(),
    })
}

fn print_merge(report: &MergeReport) {
    for taken in &report.taken {
        tracing::info!(
            "took {}: {}, {} repositories, {}/{} work items complete",
            taken.path.display(),
            taken.shard,
            taken.repositories,
            taken.work_done.0,
            taken.work_done.1
        );
    }
    for skipped in &report.superseded {
        tracing::info!("skipped {}: {}", skipped.path.display(), skipped.reason);
    }
    for refused in &report.refused {
        tracing::error!("refused {}: {}", refused.path.display(), refused.reason);
    }
    if !report.missing_shards.is_empty() {
        tracing::warn!("missing shards: {}", report.missing_shards.join(", "));
    }
    if let Some(file) = &report.leftovers_file {
        tracing::warn!("{} unfinished work item(s) written to {}", report.leftovers.len(), file.display());
    }
    tracing::info!(
        "merged {} shard(s) of plan {} into {}: {} repositories",
        report.taken.len(),
        report.plan_id,
        report.out.display(),
        report.repositories
    );
}

async fn run_command(args: RunArgs, actions: &ActionsEnv) -> Result<()> {
    let request = RunRequest {
        plan: plan_request(&args.options, args.deadline.clone())?,
        jobs: args.jobs,
        out: args.out,
        deadline: parse_deadline(args.deadline.as_deref())?,
        previous: args.previous,
        keep_requests: args.keep_requests,
    };
    let github = Arc::new(github_client(&args.network)?);
    needs_token_for(&request.plan.collect, &github)?;
    let report = run::run(github, &request).await?;
    append_step_summary(actions, || actions::crawl_summary_markdown("octoshard run", &report.crawls))?;
    report.crawls.iter().for_each(annotate_crawl);
    report_merge(&report.merge, actions)?;
    let requests: u64 = report.crawls.iter().map(|c| c.stats.requests).sum();
    tracing::info!("run: {} shards crawled with {requests} requests", report.crawls.len());
    if !report.failed.is_empty() {
        return Err(Error::ShardsFailed { failed: report.failed.iter().map(|(s, e)| format!("{s}: {e}")).collect() });
    }
    let failed: Vec<String> = report
        .crawls
        .iter()
        .filter(|c| c.status == ShardStatus::Failed)
        .map(|c| format!("{}: {}", c.shard, c.errors.join("; ")))
        .collect();
    if !failed.is_empty() {
        return Err(Error::ShardsFailed { failed });
    }
    refused_error(&report.merge)
}
