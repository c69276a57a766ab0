//! Test harness: temporary folders, the binary with a clean environment, and ground-truth checks.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use fakehub::{FakeHub, Options, Universe, UniverseConfig};

/// The token the tests use; a test greps outputs for it.
pub const TOKEN: &str = "ghp_octoshardTestToken0123456789";

/// A temporary folder that lives as long as the test.
pub struct TestDir {
    dir: tempfile::TempDir,
}

impl TestDir {
    pub fn new() -> TestDir {
        TestDir { dir: tempfile::tempdir().expect("temporary folder") }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, text).expect("write test file");
        path
    }

    /// Every file name under the folder, relative, sorted.
    pub fn listing(&self) -> Vec<String> {
        let mut names = Vec::new();
        list(self.dir.path(), self.dir.path(), &mut names);
        names.sort();
        names
    }
}

fn list(root: &Path, dir: &Path, names: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            list(root, &path, names);
        } else {
            names.push(path.strip_prefix(root).unwrap().to_string_lossy().into_owned());
        }
    }
}

/// The binary with an environment that cannot reach the real GitHub or a real token.
pub fn octoshard(api_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_octoshard"));
    for name in [
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "OCTOSHARD_TOKENS",
        "GITHUB_OUTPUT",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_ACTIONS",
        "GITHUB_GRAPHQL_URL",
        "OCTOSHARD_SOURCE",
        "OCTOSHARD_WHERE",
        "OCTOSHARD_TODAY",
        "OCTOSHARD_APP_ID",
        "OCTOSHARD_APP_KEY",
        "OCTOSHARD_APP_INSTALLATION_IDS",
        "RUST_LOG",
    ] {
        command.env_remove(name);
    }
    command.env("GITHUB_API_URL", api_url);
    // The tests look at single requests (their status, cost, credential) in merged files, so they
    // keep them; `merged_files_keep_request_totals_not_rows` checks the default.
    command.env("OCTOSHARD_KEEP_REQUESTS", "true");
    command
}

/// Runs and returns the output, with stdout/stderr shown on failure of later assertions.
pub fn run(command: &mut Command) -> Output {
    command.output().expect("run octoshard")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts success and returns stderr.
#[track_caller]
pub fn success(output: &Output) -> String {
    assert!(
        output.status.success(),
        "expected success, got {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
    stderr(output)
}

/// Asserts the exit code and returns stderr.
#[track_caller]
pub fn fails_with(output: &Output, code: i32) -> String {
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stdout:\n{}\nstderr:\n{text}", stdout(output));
    assert!(!text.contains("panicked"), "a panic is never a user error message:\n{text}");
    assert!(!text.contains("RUST_BACKTRACE"), "{text}");
    text
}

/// A simulated GitHub with `repos` public repositories.
pub fn hub(repos: usize, options: Options) -> FakeHub {
    let universe = Universe::generate(&UniverseConfig { repos, seed: 7, ..UniverseConfig::default() });
    FakeHub::start(universe, options)
}

/// Options accepting the test token.
pub fn options() -> Options {
    Options { tokens: vec![TOKEN.to_string()], ..Options::default() }
}

/// A repository as compared between the database and the ground truth.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Listed {
    pub id: u64,
    pub node_id: String,
    pub full_name: String,
    pub owner: String,
    pub name: String,
    pub description: Option<String>,
    pub fork: bool,
}

/// The listing fields of every repository in a database, by id.
pub fn listed_in_db(path: &Path) -> Vec<Listed> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open database");
    let mut statement = conn
        .prepare("SELECT id, node_id, full_name, owner, name, description, fork FROM repositories ORDER BY id")
        .unwrap();
    statement
        .query_map([], |row| {
            Ok(Listed {
                id: row.get(0)?,
                node_id: row.get(1)?,
                full_name: row.get(2)?,
                owner: row.get(3)?,
                name: row.get(4)?,
                description: row.get(5)?,
                fork: row.get(6)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// The ground truth for `from <= id < to`.
pub fn listed_in_truth(hub: &FakeHub, from: u64, to: u64) -> Vec<Listed> {
    hub.universe()
        .repos_in(from, to)
        .into_iter()
        .map(|r| Listed {
            id: r.id,
            node_id: r.node_id.clone(),
            full_name: r.full_name.clone(),
            owner: r.owner_login().to_string(),
            name: r.name().to_string(),
            description: r.description.clone(),
            fork: r.fork,
        })
        .collect()
}

/// Asserts the database holds exactly the ground truth of the range, comparing counts first for
/// a readable failure.
#[track_caller]
pub fn assert_equals_truth(db: &Path, hub: &FakeHub, from: u64, to: u64) {
    let got = listed_in_db(db);
    let want = listed_in_truth(hub, from, to);
    assert!(!want.is_empty(), "the test range holds repositories");
    assert_eq!(got.len(), want.len(), "repository count in {}", db.display());
    assert!(got == want, "{} differs from the ground truth", db.display());
}

/// Rows of a table, for accounting checks.
pub fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

/// A simulated GitHub built from an explicit universe configuration.
pub fn hub_with(config: UniverseConfig, options: Options) -> FakeHub {
    FakeHub::start(Universe::generate(&config), options)
}

/// The detail fields GraphQL fills, as compared between the database and the ground truth.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Detailed {
    pub id: u64,
    pub full_name: String,
    pub stargazers_count: i64,
    pub forks_count: i64,
    pub watchers_count: i64,
    pub size: i64,
    pub language: Option<String>,
    pub topics: String,
    pub license: Option<String>,
    pub default_branch: Option<String>,
    pub fork: bool,
    pub archived: bool,
    pub created_at: String,
    pub pushed_at: String,
}

/// The detail of every repository in a database, by id (rows without detail fail the test).
pub fn detailed_in_db(path: &Path) -> Vec<Detailed> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("open database");
    let mut statement = conn
        .prepare(
            "SELECT id, full_name, stargazers_count, forks_count, watchers_count, size, language, topics, license,
                    default_branch, fork, archived, created_at, pushed_at
             FROM repositories ORDER BY id",
        )
        .unwrap();
    statement
        .query_map([], |row| {
            Ok(Detailed {
                id: row.get(0)?,
                full_name: row.get(1)?,
                stargazers_count: row.get(2)?,
                forks_count: row.get(3)?,
                watchers_count: row.get(4)?,
                size: row.get(5)?,
                language: row.get(6)?,
                topics: row.get(7)?,
                license: row.get(8)?,
                default_branch: row.get(9)?,
                fork: row.get(10)?,
                archived: row.get(11)?,
                created_at: row.get(12)?,
                pushed_at: row.get(13)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .expect("every repository has its detail")
}

/// The ground truth's detail for the live (not deleted) repositories of `from <= id < to`.
pub fn detailed_in_truth(hub: &FakeHub, from: u64, to: u64) -> Vec<Detailed> {
    hub.universe()
        .repos_in(from, to)
        .into_iter()
        .filter(|r| !r.deleted)
        .map(|r| Detailed {
            id: r.id,
            full_name: r.full_name.clone(),
            stargazers_count: r.stargazers_count.into(),
            forks_count: r.forks_count.into(),
            watchers_count: r.subscribers_count.into(),
            size: r.size.into(),
            language: r.language.map(str::to_string),
            topics: serde_json::to_string(&r.topics).unwrap(),
            license: r.license.map(|l| l.spdx_id.to_string()),
            default_branch: (!r.is_empty()).then(|| r.default_branch.to_string()),
            fork: r.fork,
            archived: r.archived,
            created_at: r.created_at.to_string(),
            pushed_at: r.pushed_at.to_string(),
        })
        .collect()
}

/// Asserts listing and detail both equal the ground truth (deleted repositories excluded).
#[track_caller]
pub fn assert_detail_equals_truth(db: &Path, hub: &FakeHub, from: u64, to: u64) {
    let got = detailed_in_db(db);
    let want = detailed_in_truth(hub, from, to);
    assert!(!want.is_empty(), "the test range holds repositories");
    assert_eq!(got.len(), want.len(), "repository count in {}", db.display());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w, "detail of repository {}", w.id);
    }
}

/// `octoshard run` over the whole universe of `hub` in `shards` shards (no probes), without `--out`.
pub fn run_all_command(hub: &FakeHub, shards: u32) -> Command {
    let end = hub.universe().max_id() + 1;
    let mut command = octoshard(&hub.url());
    command.env("GITHUB_TOKEN", TOKEN).args([
        "run",
        "--retry-delay",
        "1ms",
        "--probes",
        "0",
        "--source",
        &format!("ids:0..{end}"),
        "--shards",
        &shards.to_string(),
    ]);
    command
}

/// Runs `octoshard run` over the whole universe of `hub` with extra arguments; returns stderr.
pub fn run_all(hub: &FakeHub, out: &Path, shards: u32, extra: &[&str]) -> String {
    success(&run(run_all_command(hub, shards).args(extra).arg("--out").arg(out)))
}

/// Plans `ids:0..to` into `shards` equal id spans (no probes) in `out`; returns `out`.
pub fn plan_ids(hub: &FakeHub, out: &Path, to: u64, shards: u32) -> std::path::PathBuf {
    success(&run(octoshard(&hub.url())
        .args(["plan", "--probes", "0", "--source", &format!("ids:0..{to}"), "--shards", &shards.to_string(), "--out"])
        .arg(out)));
    out.to_path_buf()
}

/// Runs `crawl` again and again, killing each run after a random number (in `gap`) of requests
/// answered by `hub`, until it finishes on its own (which must be a success) or `max_kills` kills
/// are done (then one last run must succeed). Seeded, so a failure replays. Returns the kills.
pub fn crawl_with_kills(
    hub: &FakeHub,
    crawl: impl Fn() -> Command,
    seed: u64,
    gap: std::ops::Range<u64>,
    max_kills: usize,
) -> usize {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut kills = 0;
    while kills < max_kills {
        let start = hub.stats().requests;
        let mut child =
            crawl().stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
        let after = start + rng.u64(gap.clone());
        let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "the crawl failed on its own after {kills} kills");
                return kills;
            }
            if hub.stats().requests >= after {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
                break;
            }
            assert!(std::time::Instant::now() < give_up, "no progress");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    success(&run(&mut crawl()));
    kills
}
