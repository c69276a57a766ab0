//! Controls for scripts driving a running fakehub over HTTP (bash
//! benchmarks of daily refreshes), under `/_fakehub/`. They are not GitHub:
//! no authentication, no budget, no secondary limit, no faults, no latency,
//! and they are left out of [`crate::Stats`].
//!
//! - `POST /_fakehub/advance?days=1&pushed=0.05&starred=0.01&renamed=0.005&described=0.01&deleted=0.005&created=50&seed=1`
//!   runs [`Universe::advance_day`] (every parameter optional: `days` 1,
//!   fractions 0, `created` 0, `seed` 0) and answers the [`Advance`] as JSON:
//!   `{"now", "advances", "max_id", "changed", "pushed", "starred",
//!   "renamed", "described", "deleted", "created"}` (id lists ascending). A
//!   bad parameter is 422 with a message.
//! - `POST /_fakehub/truth?path=FILE[&detail=1]` writes the current ground
//!   truth to FILE as the binary's `--truth FILE` does ([`Universe::write_truth`])
//!   and answers `{"path", "repos", "max_id", "now"}`; without `path` the
//!   truth itself is the answer. 500 with a message if FILE cannot be written.
//!   With `code=1` every repository also has `"code"`: `null` (deleted or
//!   empty) or `{"commit_sha", "committed_at", "file_count", "size_bytes",
//!   "entries", "tarball_sha256", "tarball_bytes"}` of its head
//!   ([`Universe::snapshot_with`], [`Universe::tarball_digest_with`], with the
//!   server's `big_archives`); this builds every tarball, so it takes a while.
//!   With `deep=1` every repository also has `"issues"` and `"pulls"`: how
//!   many issues and pull requests it holds (0 for deleted ones); this
//!   generates every repository's deep data.
//! - `GET /_fakehub/stats` answers the request counters so far ([`crate::Stats`])
//!   for benchmarks that compare clients the same way, server-side:
//!   `{"requests", "by_status", "by_route", "by_token", "units": {"core",
//!   "search", "graphql"}, "graphql_points", "graphql_queries", "items_served",
//!   "faults": {"5xx", "secondary", "reset", "truncate", "malformed"},
//!   "secondary_sent", "violations": {"primary", "concurrency", "retry_after"},
//!   "not_modified", "max_in_flight"}`. `units` is the budget charged, summed
//!   over every token's windows (core: requests, 304s refunded; graphql:
//!   points), what a client spends of GitHub's hourly allowance. Read it
//!   before and after a run and subtract.

use crate::advance::{Advance, DayChanges};
use crate::http::{Request, Response};
use crate::stats::Stats;
use crate::universe::Universe;
use serde::Serialize;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;

/// Which control.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Control {
    Advance,
    Truth,
    Stats,
}

impl Control {
    pub fn parse(method: &str, what: &str) -> Option<Control> {
        match (method, what) {
            ("POST", "advance") => Some(Control::Advance),
            ("POST" | "GET", "truth") => Some(Control::Truth),
            ("GET", "stats") => Some(Control::Stats),
            _ => None,
        }
    }

    pub fn key(&self) -> &'static str {
        match self {
            Control::Advance => "/_fakehub/advance",
            Control::Truth => "/_fakehub/truth",
            Control::Stats => "/_fakehub/stats",
        }
    }
}

/// Answer a control request (runs on a blocking thread: advances take a while).
/// `stats` is read only for [`Control::Stats`].
pub(crate) fn handle(
    control: Control,
    request: &Request,
    universe: &Universe,
    big_archives: &[(u64, u64)],
    stats: impl FnOnce() -> Stats,
) -> Response {
    match control {
        Control::Advance => advance(request, universe),
        Control::Truth => truth(request, universe, big_archives),
        Control::Stats => Response::json(200, &stats_json(&stats())),
    }
}

/// The answer of `GET /_fakehub/stats`.
pub(crate) fn stats_json(s: &Stats) -> Value {
    let units = |resource: &str| -> u64 {
        s.windows.iter().filter(|w| w.resource == resource).map(|w| u64::from(w.used)).sum()
    };
    json!({
        "requests": s.requests,
        "by_status": s.by_status.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "by_route": s.by_route,
        "by_token": s.by_token,
        "units": {"core": units("core"), "search": units("search"), "graphql": units("graphql")},
        "graphql_points": s.graphql_points,
        "graphql_queries": s.graphql_queries,
        "items_served": s.items_served,
        "faults": {
            "5xx": s.faults_5xx,
            "secondary": s.faults_secondary,
            "reset": s.faults_reset,
            "truncate": s.faults_truncate,
            "malformed": s.faults_malformed,
        },
        "secondary_sent": s.secondary_sent,
        "violations": {
            "primary": s.primary_violations,
            "concurrency": s.concurrency_violations,
            "retry_after": s.retry_after_violations,
        },
        "not_modified": s.not_modified,
        "max_in_flight": s.max_in_flight,
    })
}

fn invalid(message: String) -> Response {
    Response::json(422, &json!({"message": message}))
}

fn param<T: std::str::FromStr>(request: &Request, name: &str, default: T) -> Result<T, Response> {
    match request.query_param(name).map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => v.parse().map_err(|_| invalid(format!("{name}: invalid value {v:?}"))),
    }
}

fn fraction(request: &Request, name: &str) -> Result<f64, Response> {
    let f: f64 = param(request, name, 0.0)?;
    if (0.0..=1.0).contains(&f) { Ok(f) } else { Err(invalid(format!("{name}: {f} is not within 0..=1"))) }
}

fn advance_params(request: &Request) -> Result<(u32, DayChanges, u64), Response> {
    let changes = DayChanges {
        pushed: fraction(request, "pushed")?,
        starred: fraction(request, "starred")?,
        renamed: fraction(request, "renamed")?,
        described: fraction(request, "described")?,
        deleted: fraction(request, "deleted")?,
        created: param(request, "created", 0)?,
    };
    Ok((param(request, "days", 1)?, changes, param(request, "seed", 0)?))
}

fn advance(request: &Request, universe: &Universe) -> Response {
    let (days, changes, seed) = match advance_params(request) {
        Ok(p) => p,
        Err(response) => return response,
    };
    if universe.advances() + 1 >= crate::timeline::MAX_STATES {
        return invalid(format!("at most {} advances", crate::timeline::MAX_STATES - 1));
    }
    let done = universe.advance_day(days, &changes, seed);
    Response::json(200, &advance_json(&done, universe))
}

/// An [`Advance`] as the control endpoint answers it.
pub(crate) fn advance_json(a: &Advance, universe: &Universe) -> Value {
    json!({
        "now": a.now.to_string(),
        "advances": universe.advances(),
        "max_id": universe.max_id(),
        "changed": a.changed,
        "pushed": a.pushed,
        "starred": a.starred,
        "renamed": a.renamed,
        "described": a.described,
        "deleted": a.deleted,
        "created": a.created,
    })
}

fn truth(request: &Request, universe: &Universe, big_archives: &[(u64, u64)]) -> Response {
    let detail = matches!(request.query_param("detail"), Some("1" | "true"));
    let code = matches!(request.query_param("code"), Some("1" | "true")).then_some(big_archives);
    let deep = matches!(request.query_param("deep"), Some("1" | "true"));
    match request.query_param("path").filter(|p| !p.is_empty()) {
        None => {
            let mut body = Vec::new();
            match universe.truth_inner(&mut body, detail, code, deep) {
                Ok(()) => Response::json_bytes(200, body),
                Err(e) => Response::json(500, &json!({"message": e.to_string()})),
            }
        }
        Some(path) => match universe.write_truth_inner(Path::new(path), detail, code, deep) {
            Ok(()) => Response::json(
                200,
                &json!({"path": path, "repos": universe.repos().len(), "max_id": universe.max_id(), "now": universe.now()}),
            ),
            Err(e) => Response::json(500, &json!({"message": format!("cannot write {path}: {e}")})),
        },
    }
}

impl Universe {
    /// Write the ground truth as JSON to `path` (what `fakehub --truth FILE`
    /// and `POST /_fakehub/truth?path=FILE` write): `{"max_id", "now",
    /// "advances", "repos": [{"id", "full_name", "node_id", "deleted"}, ...]}`
    /// with every public repository (deleted ones included) by id as it is
    /// now. With `detail`, each repository also has `created_at`,
    /// `pushed_at`, `updated_at`, `stargazers_count` and `description` (what
    /// a daily refresh should have caught up with).
    pub fn write_truth(&self, path: &Path, detail: bool) -> std::io::Result<()> {
        self.write_truth_inner(path, detail, None, false)
    }

    /// [`Universe::write_truth`] into any writer.
    pub fn truth_to(&self, out: &mut impl Write, detail: bool) -> std::io::Result<()> {
        self.truth_inner(out, detail, None, false)
    }

    fn write_truth_inner(
        &self,
        path: &Path,
        detail: bool,
        code: Option<&[(u64, u64)]>,
        deep: bool,
    ) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        self.truth_inner(&mut out, detail, code, deep)?;
        out.flush()
    }

    /// The truth; with `code` (the big archives), each repository's `code` too;
    /// with `deep`, its numbers of issues and pull requests.
    fn truth_inner(
        &self,
        out: &mut impl Write,
        detail: bool,
        code: Option<&[(u64, u64)]>,
        deep: bool,
    ) -> std::io::Result<()> {
        #[derive(Serialize)]
        struct Entry<'a> {
            id: u64,
            full_name: &'a str,
            node_id: &'a str,
            deleted: bool,
            #[serde(flatten)]
            detail: Option<Detail<'a>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            code: Option<Option<Code>>,
            #[serde(skip_serializing_if = "Option::is_none")]
            issues: Option<usize>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pulls: Option<usize>,
        }
        #[derive(Serialize)]
        struct Code {
            commit_sha: String,
            committed_at: crate::Timestamp,
            file_count: usize,
            size_bytes: u64,
            entries: usize,
            tarball_sha256: String,
            tarball_bytes: u64,
        }
        #[derive(Serialize)]
        struct Detail<'a> {
            created_at: crate::Timestamp,
            pushed_at: crate::Timestamp,
            updated_at: crate::Timestamp,
            stargazers_count: u32,
            description: Option<&'a str>,
        }
        #[derive(Serialize)]
        struct Truth<'a> {
            max_id: u64,
            now: crate::Timestamp,
            advances: usize,
            repos: Vec<Entry<'a>>,
        }
        let truth = Truth {
            max_id: self.max_id(),
            now: self.now(),
            advances: self.advances(),
            repos: self
                .repos()
                .iter()
                .map(|r| {
                    let counts = deep.then(|| {
                        let d = if r.deleted { None } else { self.deep(r.id) };
                        d.map_or((0, 0), |d| (d.issues.len(), d.pulls.len()))
                    });
                    Entry {
                        id: r.id,
                        full_name: &r.full_name,
                        node_id: &r.node_id,
                        deleted: r.deleted,
                        detail: detail.then_some(Detail {
                            created_at: r.created_at,
                            pushed_at: r.pushed_at,
                            updated_at: r.updated_at,
                            stargazers_count: r.stargazers_count,
                            description: r.description.as_deref(),
                        }),
                        code: code.map(|big| {
                            let snapshot = self.snapshot_with(r.id, big)?;
                            let (tarball_sha256, tarball_bytes) = self.tarball_digest_with(r.id, big)?;
                            Some(Code {
                                commit_sha: snapshot.commit_sha,
                                committed_at: snapshot.committed_at,
                                file_count: snapshot.file_count,
                                size_bytes: snapshot.size_bytes,
                                entries: snapshot.entries,
                                tarball_sha256,
                                tarball_bytes,
                            })
                        }),
                        issues: counts.map(|c| c.0),
                        pulls: counts.map(|c| c.1),
                    }
                })
                .collect(),
        };
        serde_json::to_writer(&mut *out, &truth).map_err(std::io::Error::other)
    }
}
