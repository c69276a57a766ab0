//! `fakehub` binary: serve a generated universe until killed, for scripts and
//! manual runs against octoshard. Prints two lines on stdout (in one write):
//! the base URL (GITHUB_API_URL), then the download host's URL (where
//! `/repos/{o}/{r}/tarball` redirects); a summary on stderr; optionally writes the
//! ground truth as JSON (`--truth FILE`: `{"max_id", "now", "advances",
//! "repos": [{"id", "full_name", "node_id", "deleted"}, ...]}`; with
//! `--truth-detail` each repository also has `created_at`, `pushed_at`,
//! `updated_at`, `stargazers_count` and `description`). Bad arguments: one
//! line on stderr, exit code 2.
//!
//! While it runs, scripts can let time pass and re-read the truth over HTTP
//! (not GitHub's API: no token needed, never charged, limited, faulted or
//! counted in the stats):
//!
//! ```text
//! # a day of GitHub (Universe::advance_day; every parameter optional:
//! # days=1, fractions 0, created=0, seed=0); answers the Advance as JSON:
//! # {"now", "advances", "max_id", "changed", "pushed", "starred", "renamed",
//! #  "described", "deleted", "created"} (id lists ascending); 422 on a bad value
//! curl -s -X POST "$GITHUB_API_URL/_fakehub/advance?days=1&pushed=0.05&starred=0.01&renamed=0.005&described=0.01&deleted=0.005&created=50&seed=1"
//! # the current truth, written like --truth FILE (detail=1: like --truth-detail);
//! # answers {"path", "repos", "max_id", "now"}; without path the truth is the answer
//! # code=1 adds each repository's head: {"commit_sha", "file_count", "size_bytes", "tarball_sha256", ...}
//! curl -s -X POST "$GITHUB_API_URL/_fakehub/truth?path=$PWD/truth-day1.json&detail=1"
//! ```
//!
//! Options:
//!
//! ```text
//! fakehub --repos 20000 [--seed 1] [--port 0] [--window-secs 3600]
//!         [--core-limit 5000] [--graphql-limit 5000] [--search-limit 30]
//!         [--search-window-secs 60]
//!         [--anonymous-limit 60] [--max-concurrency 100] [--retry-after 1]
//!         [--hidden-fraction 0.3] [--deleted-fraction 0] [--deep-scale 1]
//!         [--graphql-timeout-nodes N]
//!         [--fault-5xx F] [--fault-secondary F] [--fault-reset F]
//!         [--fault-truncate F] [--fault-malformed F] [--fault-seed N]
//!         [--slow-fraction F] [--slow-ms N] [--latency-ms N]
//!         [--tokens a,b] [--truth FILE] [--truth-detail]
//!         [--codeload-host 127.0.0.1] [--big-archive ID=BYTES]...
//!         [--tree-entry-limit N] [--fault-download-cut F] [--legacy-ids-only]
//! ```

use fakehub::{FakeHub, Options, Universe, UniverseConfig};
use std::io::Write;
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};

struct Args {
    universe: UniverseConfig,
    options: Options,
    port: u16,
    truth: Option<String>,
    truth_detail: bool,
}

fn value<T: FromStr>(flag: &str, raw: Option<String>) -> Result<T, String> {
    let raw = raw.ok_or_else(|| format!("{flag} needs a value"))?;
    raw.parse().map_err(|_| format!("{flag}: invalid value {raw:?}"))
}

fn fraction(flag: &str, raw: Option<String>) -> Result<f64, String> {
    let f: f64 = value(flag, raw)?;
    if (0.0..=1.0).contains(&f) { Ok(f) } else { Err(format!("{flag}: {f} is not within 0..=1")) }
}

fn parse(mut it: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut args = Args {
        universe: UniverseConfig { repos: 20_000, ..Default::default() },
        options: Options::default(),
        port: 0,
        truth: None,
        truth_detail: false,
    };
    while let Some(flag) = it.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (flag, None),
        };
        let mut next = || inline.clone().or_else(|| it.next());
        let o = &mut args.options;
        match flag.as_str() {
            "--repos" => args.universe.repos = value(&flag, next())?,
            "--seed" => args.universe.seed = value(&flag, next())?,
            "--hidden-fraction" => args.universe.hidden_fraction = fraction(&flag, next())?,
            "--deleted-fraction" => args.universe.deleted_fraction = fraction(&flag, next())?,
            "--deep-scale" => {
                args.universe.deep_scale = value::<f64>(&flag, next()).and_then(|f| {
                    if f.is_finite() && f >= 0.0 { Ok(f) } else { Err(format!("{flag} must be 0 or more")) }
                })?
            }
            "--graphql-timeout-nodes" => o.graphql_timeout_nodes = Some(value(&flag, next())?),
            "--tree-entry-limit" => o.tree_entry_limit = Some(value(&flag, next())?),
            "--codeload-host" => o.codeload_host = value(&flag, next())?,
            "--legacy-ids-only" => o.legacy_ids_only = true,
            "--fault-download-cut" => o.fault_download_cut = fraction(&flag, next())?,
            "--big-archive" => {
                let pair: String = value(&flag, next())?;
                let parsed = pair.split_once('=').and_then(|(id, bytes)| Some((id.parse().ok()?, bytes.parse().ok()?)));
                o.big_archives.push(parsed.ok_or_else(|| format!("{flag}: expected ID=BYTES, got {pair:?}"))?);
            }
            "--port" => args.port = value(&flag, next())?,
            "--truth" => args.truth = Some(value(&flag, next())?),
            "--truth-detail" => args.truth_detail = true,
            "--window-secs" => {
                o.window = Duration::from_secs_f64(value::<f64>(&flag, next()).and_then(|w| {
                    if w.is_finite() && w > 0.0 { Ok(w) } else { Err(format!("{flag} must be positive")) }
                })?)
            }
            "--search-window-secs" => {
                o.search_window = Duration::from_secs_f64(value::<f64>(&flag, next()).and_then(|w| {
                    if w.is_finite() && w > 0.0 { Ok(w) } else { Err(format!("{flag} must be positive")) }
                })?)
            }
            "--core-limit" => o.core_limit = value(&flag, next())?,
            "--graphql-limit" => o.graphql_limit = value(&flag, next())?,
            "--search-limit" => o.search_limit = value(&flag, next())?,
            "--anonymous-limit" => o.anonymous_limit = value(&flag, next())?,
            "--max-concurrency" => o.max_concurrency = value(&flag, next())?,
            "--retry-after" => o.retry_after_secs = value(&flag, next())?,
            "--fault-5xx" => o.fault_5xx = fraction(&flag, next())?,
            "--fault-secondary" => o.fault_secondary = fraction(&flag, next())?,
            "--fault-reset" => o.fault_reset = fraction(&flag, next())?,
            "--fault-truncate" => o.fault_truncate = fraction(&flag, next())?,
            "--fault-malformed" => o.fault_malformed = fraction(&flag, next())?,
            "--fault-seed" => o.seed = value(&flag, next())?,
            "--slow-fraction" => o.slow_fraction = fraction(&flag, next())?,
            "--slow-ms" => o.slow_delay = Duration::from_millis(value(&flag, next())?),
            "--latency-ms" => o.latency = Duration::from_millis(value(&flag, next())?),
            "--tokens" => {
                let list: String = value(&flag, next())?;
                o.tokens = list.split(',').map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect();
            }
            other => return Err(format!("unknown argument {other:?} (see the doc comment of src/bin/fakehub.rs)")),
        }
    }
    Ok(args)
}

fn main() {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("fakehub: {message}");
            std::process::exit(2);
        }
    };
    let started = Instant::now();
    let universe = Universe::generate(&args.universe);
    let generated = started.elapsed();
    let summary = format!(
        "fakehub: {} public repos ({} deleted), {} hidden ids, max_id {}, {} owners, generated in {:.2?}",
        universe.repos().len(),
        universe.repos().iter().filter(|r| r.deleted).count(),
        universe.hidden_count(),
        universe.max_id(),
        universe.owners().len(),
        generated
    );
    let hub = match FakeHub::start_on(universe, args.options, args.port) {
        Ok(hub) => hub,
        Err(e) => {
            eprintln!("fakehub: cannot listen on 127.0.0.1:{} (or the download host): {e}", args.port);
            std::process::exit(1);
        }
    };
    if let Some(path) = &args.truth
        && let Err(e) = hub.universe().write_truth(Path::new(path), args.truth_detail)
    {
        eprintln!("fakehub: cannot write {path}: {e}");
        std::process::exit(1);
    }
    let mut stdout = std::io::stdout();
    let _ = write!(stdout, "{}\n{}\n", hub.url(), hub.codeload_url());
    let _ = stdout.flush();
    eprintln!("{summary}");
    // Serve until killed (SIGTERM/SIGINT terminate the process).
    loop {
        std::thread::park();
    }
}
