//! Deep collection against the simulated GitHub (issue 11): every table equals the truth, the
//! budget stays near the floor GitHub's cost formula allows, server errors and kills change
//! nothing, an incremental crawl costs a fraction of the first, and `db:FILE --where` goes deep on
//! a selection.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use fakehub::{FakeHub, Options, UniverseConfig};
use rusqlite::types::Value as SqlValue;

use crate::util::*;

pub(crate) const ALL: &str = "metadata,pulls,issues,runs,contributors,commits";

/// The repositories with deep data in `[0, end)`.
fn deep_truth(hub: &FakeHub, end: u64) -> Vec<std::sync::Arc<fakehub::deep::Deep>> {
    hub.universe().repos_in(0, end).iter().filter_map(|r| hub.universe().deep(r.id)).collect()
}

/// A value as text, NULL as `∅`, so rows compare as strings.
fn show(value: &SqlValue) -> String {
    match value {
        SqlValue::Null => "∅".into(),
        SqlValue::Integer(n) => n.to_string(),
        SqlValue::Real(x) => x.to_string(),
        SqlValue::Text(t) => t.clone(),
        SqlValue::Blob(b) => format!("{b:?}"),
    }
}

/// Every row of a query, each as `a|b|c`.
pub(crate) fn rows(db: &Path, sql: &str) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut statement = conn.prepare(sql).unwrap();
    let width = statement.column_count();
    statement
        .query_map([], |row| {
            Ok((0..width).map(|i| show(&row.get::<_, SqlValue>(i).unwrap())).collect::<Vec<_>>().join("|"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map_or("∅".into(), |v| v.to_string())
}

fn author(account: &Option<fakehub::deep::Account>) -> (String, String) {
    match account {
        Some(a) if a.login != "ghost" => (a.id.to_string(), a.login.clone()),
        _ => ("∅".into(), "ghost".into()),
    }
}

fn labels(names: &[&str]) -> String {
    serde_json::to_string(names).unwrap()
}

/// The truth of every deep table, as the rows the store should hold (without `fetched_at`).
struct Truth {
    issues: BTreeSet<String>,
    pulls: BTreeSet<String>,
    runs: BTreeSet<String>,
    contributors: BTreeSet<String>,
    commits: BTreeSet<String>,
}

fn truth(hub: &FakeHub, end: u64) -> Truth {
    let mut t = Truth {
        issues: BTreeSet::new(),
        pulls: BTreeSet::new(),
        runs: BTreeSet::new(),
        contributors: BTreeSet::new(),
        commits: BTreeSet::new(),
    };
    let alive: BTreeSet<u64> =
        hub.universe().repos_in(0, hub.universe().max_id() + 1).iter().filter(|r| !r.deleted).map(|r| r.id).collect();
    for deep in deep_truth(hub, end) {
        let repo = deep.repo_id;
        for i in &deep.issues {
            let (aid, alogin) = author(&i.author);
            t.issues.insert(format!(
                "{repo}|{}|{}|{}|{}|{}|{aid}|{alogin}|{}|{}|{}|{}|{}",
                i.id,
                i.number,
                i.title,
                i.state.rest(),
                opt(i.state_reason.map(|r| r.rest())),
                i.created_at,
                i.updated_at,
                opt(i.closed_at),
                labels(&i.labels),
                i.comments
            ));
        }
        for p in &deep.pulls {
            let (aid, alogin) = author(&p.author);
            t.pulls.insert(format!(
                "{repo}|{}|{}|{}|{}|{}|{aid}|{alogin}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
                p.id,
                p.number,
                p.title,
                p.graphql_state().to_ascii_lowercase(),
                i64::from(p.draft),
                p.created_at,
                p.updated_at,
                opt(p.closed_at),
                opt(p.merged_at),
                opt(p.merge_commit_sha.clone()),
                p.base_ref,
                p.head_ref,
                // GitHub's headRepository is null once the fork is gone.
                opt(p.head_repo_id.filter(|id| alive.contains(id))),
                labels(&p.labels),
                p.additions,
                p.deletions,
                p.changed_files,
                p.comments,
                p.review_count
            ));
        }
        for r in &deep.runs {
            let completed = r.status == fakehub::deep::RunStatus::Completed;
            let duration = if completed { (r.updated_at.0 - r.run_started_at.0).to_string() } else { "∅".into() };
            t.runs.insert(format!(
                "{repo}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{duration}",
                r.id,
                r.workflow_id,
                r.name,
                r.event,
                r.status.rest(),
                opt(r.conclusion.map(|c| c.rest())),
                r.head_sha,
                r.head_branch,
                r.run_attempt,
                r.created_at,
                r.run_started_at,
                r.updated_at
            ));
        }
        let dates = |id: u64| {
            let mine: Vec<String> = deep
                .commits
                .iter()
                .filter(|c| c.author_account.as_ref().is_some_and(|a| a.id == id))
                .map(|c| c.author.date.to_string())
                .collect();
            (opt(mine.iter().min()), opt(mine.iter().max()))
        };
        for c in &deep.contributors {
            let (first, last) = dates(c.id);
            t.contributors.insert(format!("{repo}|{}|{}|{}|{first}|{last}", c.id, c.login, c.contributions));
        }
        for c in &deep.commits {
            let who = |account: &Option<fakehub::deep::Account>| match account {
                Some(a) => (a.id.to_string(), a.login.clone()),
                None => ("∅".into(), "∅".into()),
            };
            let (aid, alogin) = who(&c.author_account);
            let (cid, clogin) = who(&c.committer_account);
            t.commits.insert(format!(
                "{repo}|{}|{aid}|{alogin}|{}|{}|{cid}|{clogin}|{}|{}|{}",
                c.sha,
                c.author.name,
                c.author.date,
                c.committer.name,
                c.committer.date,
                c.headline()
            ));
        }
    }
    t
}

/// Asserts every deep table of `db` equals the truth (every row, every field).
#[track_caller]
pub(crate) fn assert_deep_equals_truth(db: &Path, hub: &FakeHub, end: u64) {
    let t = truth(hub, end);
    let pairs = [
        (
            "issues",
            &t.issues,
            "SELECT repo_id, issue_id, number, title, state, state_reason, author_id, author_login, created_at, updated_at, closed_at, labels, comments FROM issues",
        ),
        (
            "pull_requests",
            &t.pulls,
            "SELECT repo_id, pr_id, number, title, state, draft, author_id, author_login, created_at, updated_at, closed_at, merged_at, merge_commit_sha, base_ref, head_ref, head_repo_id, labels, additions, deletions, changed_files, comments, review_count FROM pull_requests",
        ),
        (
            "ci_runs",
            &t.runs,
            "SELECT repo_id, run_id, workflow_id, workflow_name, event, status, conclusion, head_sha, head_branch, run_attempt, created_at, started_at, updated_at, duration_seconds FROM ci_runs",
        ),
        (
            "contributors",
            &t.contributors,
            "SELECT repo_id, user_id, login, contributions, first_contribution_at, last_contribution_at FROM contributors",
        ),
        (
            "commits",
            &t.commits,
            "SELECT repo_id, commit_sha, author_id, author_login, author_name, author_date, committer_id, committer_login, committer_name, committer_date, message_headline FROM commits",
        ),
    ];
    for (table, want, sql) in pairs {
        let got = rows(db, sql);
        assert!(!want.is_empty(), "the truth of {table} is not empty");
        let missing: Vec<&String> = want.difference(&got).take(3).collect();
        let extra: Vec<&String> = got.difference(want).take(3).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{table}: {} rows, truth {}; missing {missing:?}; unexpected {extra:?}",
            got.len(),
            want.len()
        );
    }
    assert_eq!(count(db, "SELECT count(*) FROM stream_state WHERE status = 'pending'"), 0);
}

/// Budget units spent (REST requests and GraphQL points), by request kind.
pub(crate) fn spent(db: &Path) -> BTreeMap<String, i64> {
    rows(db, "SELECT kind, sum(cost) FROM api_request_totals GROUP BY kind")
        .into_iter()
        .map(|line| {
            let (kind, cost) = line.split_once('|').unwrap();
            (kind.to_string(), cost.parse().unwrap())
        })
        .collect()
}

/// The floor of a deep crawl under GitHub's formula, from the truth: issues and pull requests
/// cost a connection request per page of 100 plus a labels request per item; commits a request
/// per page (GraphQL requests are a hundredth of a point); workflow runs and contributors, which
/// have no GraphQL path, a REST page per 100 for every repository that can have them (one more
/// per window of 1,000 runs).
fn deep_floor(hub: &FakeHub, end: u64, streams: &[&str]) -> f64 {
    let pages = |n: usize| n.div_ceil(100) as f64;
    let mut graphql_requests = 0.0;
    let mut rest = 0.0;
    for deep in deep_truth(hub, end) {
        let has_branch = !deep.commits.is_empty();
        if streams.contains(&"issues") {
            graphql_requests += pages(deep.issues.len()) + deep.issues.len() as f64;
        }
        if streams.contains(&"pulls") {
            graphql_requests += pages(deep.pulls.len()) + deep.pulls.len() as f64;
        }
        if streams.contains(&"commits") {
            graphql_requests += pages(deep.commits.len());
        }
        if has_branch && streams.contains(&"runs") {
            rest += pages(deep.runs.len()).max(1.0) + (deep.runs.len().max(1) - 1).div_euclid(1000) as f64;
        }
        if has_branch && streams.contains(&"contributors") {
            rest += pages(deep.contributors.len()).max(1.0);
        }
    }
    graphql_requests / 100.0 + rest
}

pub(crate) fn deep_hub(repos: usize, options: Options) -> FakeHub {
    hub_with(UniverseConfig { repos, seed: 31, ..UniverseConfig::default() }, options)
}

fn run_deep(hub: &FakeHub, collect: &str, out: &Path, extra: &[&str]) -> String {
    let end = hub.universe().max_id() + 1;
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--retry-delay", "1ms", "--no-pacing", "--probes", "0", "--shards", "2"])
        .args(["--source", &format!("ids:0..{end}"), "--collect", collect])
        .args(extra)
        .arg("--out")
        .arg(out)))
}

#[test]
fn a_deep_crawl_equals_the_truth_in_every_table_near_the_budget_floor() {
    let hub = deep_hub(2000, options());
    let end = hub.universe().max_id() + 1;
    let truth_runs = deep_truth(&hub, end).iter().map(|d| d.runs.len()).max().unwrap();
    assert!(truth_runs > 1000, "a repository past GitHub's 1,000-run cap is in the universe ({truth_runs})");
    let dir = TestDir::new();
    let out = dir.path("deep.sqlite");
    run_deep(&hub, ALL, &out, &[]);
    assert_detail_equals_truth(&out, &hub, 0, end);
    assert_deep_equals_truth(&out, &hub, end);

    let cost = spent(&out);
    let deep: i64 = cost.iter().filter(|(k, _)| k.starts_with("deep_")).map(|(_, c)| c).sum();
    let floor = deep_floor(&hub, end, &["pulls", "issues", "runs", "contributors", "commits"]);
    eprintln!("deep collection: {deep} units, floor {floor:.0} ({:.3}x); {cost:?}", deep as f64 / floor);
    assert!(deep as f64 <= 1.15 * floor, "{deep} units against a floor of {floor:.0}");
    // The counts ride on the detail query for free: detail costs what metadata alone costs.
    let detail = cost.get("repository_detail").copied().unwrap_or(0);
    let repositories = count(&out, "SELECT count(*) FROM repositories");
    assert!(
        detail <= (repositories as u64).div_ceil(100) as i64 + 2,
        "{detail} points of detail for {repositories} repositories"
    );
}

#[test]
fn issues_and_pull_requests_cost_at_most_1_3_units_per_100_items() {
    let hub = deep_hub(2000, options());
    let end = hub.universe().max_id() + 1;
    let items: usize = deep_truth(&hub, end).iter().map(|d| d.issues.len() + d.pulls.len()).sum();
    let dir = TestDir::new();
    let out = dir.path("ip.sqlite");
    run_deep(&hub, "issues,pulls", &out, &[]);
    let got = count(&out, "SELECT (SELECT count(*) FROM issues) + (SELECT count(*) FROM pull_requests)");
    assert_eq!(got as usize, items);
    let units = spent(&out).get("deep_query").copied().unwrap_or(0);
    let per_100 = units as f64 * 100.0 / items as f64;
    eprintln!("issues + pull requests: {items} items for {units} points: {per_100:.3} per 100");
    assert!(per_100 <= 1.3, "{per_100:.3} units per 100 items");
    assert_eq!(
        count(&out, "SELECT count(*) FROM api_requests WHERE kind = 'deep_page'"),
        0,
        "no REST page per repository"
    );
}

#[test]
fn server_errors_secondary_limits_and_kills_end_in_the_exact_truth() {
    let hub = deep_hub(
        600,
        Options {
            fault_5xx: 0.10,
            fault_secondary: 0.02,
            retry_after_secs: 0,
            seed: 4,
            latency: Duration::from_millis(1),
            ..options()
        },
    );
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let plan = dir.path("plan");
    success(&run(octoshard(&hub.url())
        .args([
            "plan",
            "--probes",
            "0",
            "--shards",
            "1",
            "--collect",
            ALL,
            "--source",
            &format!("ids:0..{end}"),
            "--out",
        ])
        .arg(&plan)));
    let out = dir.path("s.sqlite");
    let crawl = || {
        let mut command = octoshard(&hub.url());
        command
            .env("GITHUB_TOKEN", TOKEN)
            .args(["crawl", "--retry-delay", "1ms", "--no-pacing", "--secondary-wait", "10ms", "--manifest"])
            .arg(plan.join("shard-0000.yaml"))
            .arg("--out")
            .arg(&out);
        command
    };
    let kills = crawl_with_kills(&hub, crawl, 11, 2..40, 20);
    assert!(kills >= 10, "only {kills} kills before the crawl finished");
    assert_detail_equals_truth(&out, &hub, 0, end);
    assert_deep_equals_truth(&out, &hub, end);
}

#[test]
fn an_incremental_crawl_costs_a_tenth_of_the_first_and_ends_at_the_new_truth() {
    let hub = deep_hub(2000, options());
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let first = dir.path("day1.sqlite");
    run_deep(&hub, ALL, &first, &[]);
    let first_cost: i64 = spent(&first).values().sum();
    let changed = hub.universe().advance(1, 0.05, 3);
    assert!(changed.changed.len() > 20, "{} repositories changed", changed.changed.len());
    let second = dir.path("day2.sqlite");
    run_deep(&hub, ALL, &second, &["--previous", first.to_str().unwrap()]);
    let second_cost: i64 = spent(&second).values().sum();
    eprintln!(
        "first crawl {first_cost} units, incremental {second_cost} ({:.1}%)",
        second_cost as f64 * 100.0 / first_cost as f64
    );
    assert!(second_cost * 10 <= first_cost, "{second_cost} units after {first_cost}");
    assert_detail_equals_truth(&second, &hub, 0, end);
    assert_deep_equals_truth(&second, &hub, end);
}

#[test]
fn a_db_source_goes_deep_on_the_selection_its_where_names() {
    let hub = deep_hub(800, options());
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let all = dir.path("all.sqlite");
    run_deep(&hub, "metadata", &all, &[]);
    let filter = "stargazers_count >= 3 AND default_branch IS NOT NULL";
    let chosen: BTreeSet<String> = rows(&all, &format!("SELECT id FROM repositories WHERE {filter}"));
    assert!(chosen.len() > 20 && chosen.len() < 700, "{} chosen", chosen.len());
    let deep = dir.path("deep.sqlite");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args([
            "run",
            "--source",
            &format!("db:{}", all.display()),
            "--where",
            filter,
            "--collect",
            "pulls,issues",
            "--out",
        ])
        .arg(&deep)));
    assert_eq!(rows(&deep, "SELECT id FROM repositories"), chosen);
    let pulled: BTreeSet<String> = rows(&deep, "SELECT DISTINCT repo_id FROM pull_requests");
    assert!(pulled.is_subset(&chosen) && !pulled.is_empty());
    let want: usize =
        deep_truth(&hub, end).iter().filter(|d| chosen.contains(&d.repo_id.to_string())).map(|d| d.pulls.len()).sum();
    assert_eq!(count(&deep, "SELECT count(*) FROM pull_requests") as usize, want);
    // A filter that is not SQL over repositories is named with the reason.
    let text = fails_with(
        &run(octoshard(&hub.url())
            .env("GITHUB_TOKEN", TOKEN)
            .args([
                "plan",
                "--source",
                &format!("db:{}", all.display()),
                "--where",
                "stars >",
                "--collect",
                "pulls",
                "--out",
            ])
            .arg(dir.path("p"))),
        2,
    );
    assert!(text.contains("--where `stars >` is not usable"), "{text}");
}

#[test]
fn every_source_kind_goes_deep_org_names_and_search_alike() {
    let hub = deep_hub(1500, options());
    let (org, _) = hub.universe().owners_by_repo_count(fakehub::OwnerType::Organization)[0];
    let owned: Vec<u64> = hub.universe().owned_by(&org.login).iter().map(|r| r.id).collect();
    let dir = TestDir::new();
    let list = dir.write(
        "names.txt",
        &owned.iter().map(|id| hub.universe().get(*id).unwrap().full_name.clone()).collect::<Vec<_>>().join("\n"),
    );
    for (n, source) in [format!("org:{}", org.login), format!("repos:{}", list.display())].into_iter().enumerate() {
        let out = dir.path(&format!("s{n}.sqlite"));
        success(&run(octoshard(&hub.url())
            .env("GITHUB_TOKEN", TOKEN)
            .args(["run", "--no-pacing", "--source", &source, "--collect", "issues,commits", "--out"])
            .arg(&out)));
        let want: usize = owned.iter().filter_map(|id| hub.universe().deep(*id)).map(|d| d.issues.len()).sum();
        let commits: usize = owned.iter().filter_map(|id| hub.universe().deep(*id)).map(|d| d.commits.len()).sum();
        assert_eq!(count(&out, "SELECT count(*) FROM issues") as usize, want, "{source}");
        assert_eq!(count(&out, "SELECT count(*) FROM commits") as usize, commits, "{source}");
        assert_eq!(count(&out, "SELECT count(*) FROM stream_state WHERE status = 'pending'"), 0);
    }
}

#[test]
fn deep_collection_without_a_token_is_refused_before_any_request() {
    let hub = deep_hub(100, options());
    let dir = TestDir::new();
    let text = fails_with(
        &run(octoshard(&hub.url())
            .args(["run", "--anonymous", "--probes", "0", "--source", "ids:0..100", "--collect", "issues", "--out"])
            .arg(dir.path("x.sqlite"))),
        2,
    );
    assert!(text.contains("collecting issues needs a token"), "{text}");
    assert_eq!(hub.stats().requests, 0);
}
