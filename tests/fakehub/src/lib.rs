//! fakehub: a small, faithful, deterministic simulation of the GitHub REST and
//! GraphQL APIs for octoshard's tests and scripts. A seeded [`Universe`] is the
//! ground truth; [`FakeHub`] serves it on `127.0.0.1` with GitHub's paging,
//! rate-limit headers and budgets, secondary limits, conditional requests and
//! optional injected faults, and counts everything in [`Stats`].
//!
//! Behaviour worth knowing (all deliberate, as on github.com):
//! - `/repositories?since=N` pages cover the next 100 ids of *all* ids (hidden
//!   ones included), so pages are short or empty; `rel="next"` carries the last
//!   id of the window, which may be a hidden id. `per_page` is ignored.
//! - Deleted repos are listed but 404 on `/repos/{o}/{n}` and `null` + NOT_FOUND
//!   in GraphQL. REST `watchers_count` equals `stargazers_count`; GraphQL
//!   `watchers{totalCount}` is `subscribers_count`. Empty repos (size 0) have
//!   `defaultBranchRef: null`. The "Other" license has spdx id `NOASSERTION`.
//! - Every non-304 response costs 1 except `/rate_limit` and the primary-limit
//!   refusal itself; 304s are free. A GraphQL query costs GitHub's formula
//!   (`src/graphql/cost.rs`: requests = per paginated connection the product of
//!   the enclosing `first`/`last`s, points = requests / 100 rounded, at least 1;
//!   refused queries 1); one costing more than what remains is RATE_LIMITED.
//! - Secondary-limit 403s are charged too; coming back before `retry-after`
//!   elapsed is answered 403 again and counted as a violation (the deadline
//!   is not extended).
//! - Every budget window is recorded per token label and resource
//!   (`Stats::windows`), so a test can check each one was spent fully.
//! - GitHub App auth (`Options::app`): `POST /app/installations/{id}/access_tokens`
//!   with an RS256 JWT (`iss` = app id, `exp` at most 10 minutes ahead, `iat` at
//!   most 60 s ahead) gives a `ghs_` token with its own budgets (label
//!   `installationN`) until `expires_at`, then 401 Bad credentials. JWT requests
//!   are never charged; a JWT anywhere else is 401 Bad credentials. With an app
//!   configured, `ghs_` tokens it did not issue are refused even in any-token mode.
//! - `GET /search/repositories` draws on the `search` budget (`Options::search_limit`,
//!   default 30, anonymous 10) whose window is `min(window, search_window)`
//!   (default 60 s, GitHub's minute). Query syntax: see `src/query.rs`; unknown
//!   qualifiers, bad values, `-qualifier` negation and `user:`/`org:` naming no
//!   owner are 422 Validation Failed. Forks match only with `fork:true|only`;
//!   deleted repos never. "Best match" is id ascending; `sort=stars|forks|updated`
//!   breaks ties by id. `total_count` is the true count, but a page starting at
//!   result 1000 or beyond is 422 "Only the first 1000 search results are
//!   available"; `Link` stops at the last page within the 1000.
//! - Search results and owner/starred listings carry the repository without
//!   `organization`, `network_count` and `subscribers_count` (as GitHub's do);
//!   only `/repos/{o}/{n}` has them.
//! - Page-based listings (`per_page` default 30, max 100) send `Link` with
//!   prev/next/last/first in GitHub's order, none for a single page. Owner
//!   listings' links name the owner by id (`/user/{id}/repos`,
//!   `/organizations/{id}/repos`, `/user/{id}/starred`), as on github.com; those
//!   paths are served too. `/users/{org}/repos` works, `/orgs/{user}/repos` is
//!   404. Default order: users' repos `full_name` ascending
//!   ([`Universe::owned_by`]); orgs' repos `created` *descending*, GitHub's
//!   documented default; starred: star time descending ([`Universe::starred_by`]).
//! - GraphQL is parsed and validated for real (`src/graphql.rs`): variables,
//!   aliases, fragments, `nodes(ids:)`, `node(id:)`, `repository(owner:, name:)`
//!   (at most 100 of each; `null` + NOT_FOUND "Could not resolve to a Repository
//!   with the name 'o/n'." for unknown, hidden or deleted ones),
//!   `repositoryOwner(login:)` (`null` without an error when unknown, as on
//!   GitHub), `user(login:)` and `organization(login:)` (`null` + NOT_FOUND),
//!   their `repositories` (the set of [`Universe::owned_by`], oldest first
//!   unless `orderBy`) and users' `starredRepositories` ([`Universe::starred_at`],
//!   oldest star first unless `orderBy`, `starredAt` on edges), issues, pull
//!   requests and commit history with cursors, GitHub's errors, the 500,000-node
//!   limit and an optional timeout (`Options::graphql_timeout_nodes`).
//! - Deep data (`Universe::deep`, [`deep`]): issues, pull requests, workflow
//!   runs, contributors and commits per repository, generated lazily from the
//!   seed, served by `/repos/{o}/{r}/{issues,pulls,pulls/{n},actions/runs,
//!   contributors,commits}` (and `/repositories/{id}/...`, the form their `Link`
//!   headers use) with GitHub's quirks: 410 when issues are disabled, 409 for
//!   an empty repository's commits, 204 for its contributors, the `ghost` user,
//!   `head.repo: null` for deleted forks, at most 1,000 workflow runs per query
//!   (slice by `created`). GraphQL `issues(states: OPEN){totalCount}` counts
//!   issues only; REST `open_issues_count` counts issues and pull requests.
//! - Time passes with [`FakeHub::advance`] (see [`Universe::advance`]): new and
//!   updated items, runs and commits stamped after the old now, for incremental
//!   crawls. [`FakeHub::advance_day`] ([`Universe::advance_day`], [`DayChanges`])
//!   is a whole day of GitHub for daily refreshes: pushes as above, star
//!   changes, renames (the old name answers REST 301 to `/repositories/{id}`,
//!   also served, and GraphQL `repository(owner:, name:)` follows it), new
//!   descriptions, deletions and new repositories above the highest id.
//!   [`Universe::now`] is the newest repository's creation + 1 day at first and
//!   moves only with advances (no wall clock).
//! - `GET /repos/{o}/{r}/compare/{BASE...HEAD}` compares two commits of the
//!   default branch like GitHub (`status`, `ahead_by`, `behind_by`,
//!   `total_commits`, at most 250 `commits` oldest first, at most 300 `files`);
//!   every commit changes 1-4 files of a per-repository pool (truth:
//!   [`Universe::compare`], [`Universe::commit_files`]).
//! - Code (`code_tree.rs`, `rest_code.rs`, `tarball.rs`, `codeload.rs`):
//!   every commit of a default branch has a deterministic tree (the paths
//!   `/compare` changes, 1 to about 50 entries, a few symlinks), served by
//!   `GET /repos/{o}/{r}/git/trees/{sha}[?recursive=1]` (409 "Git Repository
//!   is empty.", `Options::tree_entry_limit` truncation) and
//!   `GET /repos/{o}/{r}/tarball[/{ref}]`, a 302 to the download host
//!   ([`FakeHub::codeload_url`], its own listener on `Options::codeload_host`)
//!   which streams `git archive`'s `.tar.gz` chunked, without a token,
//!   budget or rate-limit headers, records every request
//!   ([`FakeHub::downloads`]) and can cut downloads
//!   (`Options::fault_download_cut`). `Options::big_archives` adds a big
//!   incompressible file to chosen repositories. Truth:
//!   [`Universe::snapshot`], [`Universe::tarball_digest`] (and the `_with`
//!   forms, or [`FakeHub::snapshot`] / [`FakeHub::tarball_digest`] with the
//!   server's options).
//! - The conversation of issues and pull requests (`src/rest_discussion.rs`),
//!   as tools like Perceval walk it: `/repos/{o}/{r}/issues/{n}/comments`,
//!   `.../issues/{n}/reactions`, `.../pulls/{n}/reviews`, `.../pulls/{n}/comments`,
//!   `.../pulls/{n}/commits`, `.../pulls/{n}/requested_reviewers`, as many as
//!   the items' counts say (`comments`, `review_comments`, `commits`; no
//!   reactions, no requested reviewers); and accounts (`src/users.rs`):
//!   `/users/{login}` (any owner, `ghost`, `web-flow`) and `/users/{login}/orgs`
//!   (empty). Issues and comments carry GitHub's `reactions` rollup (all 0).
//! - Scripts drive a running server with `POST /_fakehub/advance?...`,
//!   `POST /_fakehub/truth?path=FILE` (`deep=1`: with issue and pull request
//!   counts) and read the counters with `GET /_fakehub/stats` (budget units
//!   per resource, requests per route and status, faults) (`src/control.rs`):
//!   outside GitHub's API, never authenticated, charged or counted.
//!
//! ```no_run
//! use fakehub::{FakeHub, Options, Universe, UniverseConfig};
//! let hub = FakeHub::start(Universe::generate(&UniverseConfig::new(2000, 1)), Options::default());
//! let api = hub.url(); // GITHUB_API_URL
//! # let _ = api;
//! assert_eq!(hub.stats().primary_violations, 0);
//! ```

mod advance;
mod app;
mod code_tree;
mod codeload;
pub mod compare;
mod control;
mod day;
pub mod deep;
mod deep_gen;
mod deep_items;
mod deep_json;
mod deep_store;
mod deep_words;
mod graphql;
mod graphql_repos;
mod hash;
mod http;
pub mod ids;
mod json;
mod json_write;
mod jwt;
mod limits;
mod options;
mod owners;
mod paging;
mod query;
mod rest_code;
mod rest_commits;
mod rest_compare;
mod rest_deep;
mod rest_discussion;
mod rest_issues;
mod rest_runs;
mod routes;
mod search;
mod stars;
mod stats;
mod tarball;
pub mod time;
mod timeline;
pub mod universe;
mod users;
mod words;

pub use advance::{Advance, DayChanges};
pub use code_tree::SnapshotTruth;
pub use codeload::DownloadSeen;
pub use limits::Resource;
pub use options::{AppOptions, Options};
pub use stats::{SECONDARY_LOG_CAP, SecondaryCause, SecondaryResponse, Stats, WINDOW_LOG_CAP, WindowUsage};
pub use time::Timestamp;
pub use universe::{License, Owner, OwnerType, Repo, Segment, Universe, UniverseConfig};

use std::sync::Arc;
use std::thread::JoinHandle;

/// A running fake GitHub. The server runs on its own thread and tokio runtime;
/// dropping the `FakeHub` stops it.
pub struct FakeHub {
    app: Arc<app::App>,
    codeload: Arc<codeload::Codeload>,
    url: String,
    shutdown: Option<tokio::sync::watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

impl FakeHub {
    /// Serve `universe` on `127.0.0.1` with a free port.
    ///
    /// # Panics
    /// If no local port can be bound or no thread/runtime can be started.
    pub fn start(universe: Universe, options: Options) -> FakeHub {
        match FakeHub::start_on(universe, options, 0) {
            Ok(hub) => hub,
            Err(e) => panic!("fakehub: cannot start: {e}"),
        }
    }

    /// Serve on `127.0.0.1:port` (0 = any free port), and the download host
    /// on `Options::codeload_host` with a free port.
    pub fn start_on(universe: Universe, options: Options, port: u16) -> std::io::Result<FakeHub> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let url = format!("http://{}", listener.local_addr()?);
        let downloads = std::net::TcpListener::bind((options.codeload_host.as_str(), 0))?;
        downloads.set_nonblocking(true)?;
        let codeload_url = format!("http://{}", downloads.local_addr()?);
        let app = Arc::new(app::App::new(Arc::new(universe), options, url.clone(), codeload_url));
        let codeload = Arc::new(codeload::Codeload::new(app.clone()));
        let codeload_server = codeload.clone();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fakehub")
            .enable_all()
            .build()?;
        let (shutdown, shutdown_rx) = tokio::sync::watch::channel(false);
        let server_app = app.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new().name("fakehub".into()).spawn(move || {
            runtime.block_on(async move {
                let listeners = tokio::net::TcpListener::from_std(listener)
                    .and_then(|api| Ok((api, tokio::net::TcpListener::from_std(downloads)?)));
                match listeners {
                    Ok((listener, downloads)) => {
                        let _ = ready_tx.send(Ok(()));
                        tokio::spawn(codeload::serve(downloads, codeload_server, shutdown_rx.clone()));
                        http::serve(listener, server_app, shutdown_rx).await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
            runtime.shutdown_timeout(std::time::Duration::from_millis(200));
        })?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(std::io::Error::other("fakehub server thread died")),
        }
        Ok(FakeHub { app, codeload, url, shutdown: Some(shutdown), thread: Some(thread) })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash), i.e. GITHUB_API_URL.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// `url() + "/graphql"`.
    pub fn graphql_url(&self) -> String {
        format!("{}/graphql", self.url)
    }

    /// The download host (codeload), `http://HOST:PORT` (no trailing
    /// slash): where `GET /repos/{o}/{r}/tarball/{ref}` redirects.
    pub fn codeload_url(&self) -> String {
        self.app.codeload_url.clone()
    }

    /// Every request the download host received so far, in arrival order.
    pub fn downloads(&self) -> Vec<DownloadSeen> {
        self.codeload.seen()
    }

    /// Forget the recorded downloads.
    pub fn clear_downloads(&self) {
        self.codeload.clear();
    }

    /// [`Universe::snapshot`] with the current `Options::big_archives`.
    pub fn snapshot(&self, repo_id: u64) -> Option<SnapshotTruth> {
        self.app.universe.snapshot_with(repo_id, &self.options().big_archives)
    }

    /// [`Universe::tarball_digest`] with the current `Options::big_archives`:
    /// (SHA-256 hex, bytes) of the head's `.tar.gz` as the download host serves it.
    pub fn tarball_digest(&self, repo_id: u64) -> Option<(String, u64)> {
        self.app.universe.tarball_digest_with(repo_id, &self.options().big_archives)
    }

    /// The ground truth.
    pub fn universe(&self) -> &Universe {
        &self.app.universe
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.app.stats()
    }

    pub fn reset_stats(&self) {
        self.app.reset_stats();
    }

    /// Forget every rate-limit window and retry-after deadline.
    pub fn reset_limits(&self) {
        self.app.reset_limits();
    }

    /// Change behaviour mid-run (limits apply from the next request).
    pub fn set_options(&self, options: Options) {
        self.app.set_options(options);
    }

    pub fn options(&self) -> Options {
        self.app.options()
    }

    /// Let time pass in the served universe: see [`Universe::advance`] (now
    /// moves `days` ahead; about `fraction` of the repositories with deep data
    /// get new and updated issues and pull requests, runs and commits).
    /// Requests see the new state from the next one on.
    pub fn advance(&self, days: u32, fraction: f64, seed: u64) -> Advance {
        self.app.universe.advance(days, fraction, seed)
    }

    /// A day (or `days`) of GitHub in the served universe: see
    /// [`Universe::advance_day`]. Requests see the new state from the next one on.
    pub fn advance_day(&self, days: u32, changes: &DayChanges, seed: u64) -> Advance {
        self.app.universe.advance_day(days, changes, seed)
    }
}

impl Drop for FakeHub {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for FakeHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeHub").field("url", &self.url).finish_non_exhaustive()
    }
}
