//! The daily refresh (issue 13) against the simulated GitHub moving forward a day at a time: a
//! refresh checks every repository of the previous database, collects only the changed ones,
//! tombstones the gone ones, discovers the new ones, records it all, and its merged database
//! equals the new truth in every table for a tenth of the first crawl's budget.

use std::collections::BTreeSet;
use std::path::Path;

use fakehub::{DayChanges, FakeHub};

use crate::deep::{ALL, assert_deep_equals_truth, deep_hub, rows, spent};
use crate::util::*;

/// The simulated GitHub's day, `YYYY-MM-DD`.
fn today(hub: &FakeHub) -> String {
    hub.universe().now().to_string()[..10].to_string()
}

fn ids(db: &Path, sql: &str) -> BTreeSet<u64> {
    rows(db, sql).into_iter().map(|id| id.parse().unwrap()).collect()
}

fn refresh(hub: &FakeHub, previous: &Path, out: &Path) -> String {
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--retry-delay", "1ms", "--no-pacing", "--shards", "2", "--collect", &format!("{ALL},files")])
        .args(["--today", &today(hub), "--source"])
        .arg(format!("refresh:{}", previous.display()))
        .arg("--out")
        .arg(out)))
}

fn day() -> DayChanges {
    DayChanges { pushed: 0.05, starred: 0.02, renamed: 0.01, described: 0.01, deleted: 0.01, created: 25 }
}

#[test]
fn three_daily_refreshes_collect_only_what_changed_and_end_at_the_truth() {
    let hub = deep_hub(1500, options());
    let dir = TestDir::new();
    let first = dir.path("day0.sqlite");
    let end = hub.universe().max_id() + 1;
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--retry-delay", "1ms", "--no-pacing", "--probes", "0", "--shards", "2"])
        .args(["--source", &format!("ids:0..{end}"), "--collect", ALL, "--today", &today(&hub), "--out"])
        .arg(&first)));
    let first_cost: i64 = spent(&first).values().sum();
    let mut previous = first;
    let mut days = Vec::new();
    for n in 1..=3u64 {
        let before = ids(&previous, "SELECT id FROM repositories");
        let advance = hub.universe().advance_day(1, &day(), 100 + n);
        assert!(
            advance.changed.len() > 20 && !advance.deleted.is_empty() && advance.created.len() == 25,
            "{advance:?}"
        );
        let date = today(&hub);
        let out = dir.path(&format!("day{n}.sqlite"));
        refresh(&hub, &previous, &out);

        // Every repository of the previous day was checked; exactly the changed and the gone ones
        // are marked, the gone ones as gone and tombstoned.
        let on = |sql: &str| ids(&out, &format!("{sql} AND check_date = '{date}'"));
        assert_eq!(on("SELECT repo_id FROM daily_repository_changes WHERE 1"), before, "day {n}: checked");
        let changed: BTreeSet<u64> = advance.changed.iter().chain(&advance.deleted).copied().collect();
        let changed: BTreeSet<u64> = changed.intersection(&before).copied().collect();
        assert_eq!(on("SELECT repo_id FROM daily_repository_changes WHERE has_changes = 1"), changed, "day {n}");
        let deleted: BTreeSet<u64> = advance.deleted.iter().copied().filter(|id| before.contains(id)).collect();
        assert_eq!(on("SELECT repo_id FROM daily_repository_changes WHERE gone = 1"), deleted, "day {n}: gone");
        let renamed: BTreeSet<u64> = advance.renamed.iter().copied().filter(|id| before.contains(id)).collect();
        assert_eq!(on("SELECT repo_id FROM daily_repository_changes WHERE renamed = 1"), renamed, "day {n}");
        let buried = ids(&out, "SELECT id FROM tombstones");
        assert!(deleted.is_subset(&buried), "day {n}: tombstones");
        // A pushed repository's files changed, from one compare of its two heads each.
        let compared = rows(
            &out,
            &format!(
                "SELECT repo_id, previous_head_sha, head_sha, files_changed, new_commits FROM daily_repository_changes
                 WHERE check_date = '{date}' AND previous_head_sha <> head_sha"
            ),
        );
        assert!(!compared.is_empty(), "day {n}: some heads moved");
        for line in &compared {
            let fields: Vec<&str> = line.split('|').collect();
            let truth = hub.universe().compare(fields[0].parse().unwrap(), fields[1], fields[2]).unwrap();
            assert_eq!(fields[3], truth.files.len().min(300).to_string(), "day {n}: {line}");
            if fields[4] != "∅" {
                assert_eq!(fields[4], truth.ahead_by.to_string(), "day {n}: new commits of {line}");
            }
        }
        let comparisons =
            count(&out, "SELECT coalesce(sum(requests), 0) FROM api_request_totals WHERE kind = 'compare'")
                - count(&previous, "SELECT coalesce(sum(requests), 0) FROM api_request_totals WHERE kind = 'compare'");
        assert_eq!(comparisons as usize, compared.len(), "day {n}: one compare request per moved head");

        // Discovery: the new repositories above the previous highest id, logged exactly.
        let created: BTreeSet<u64> = advance.created.iter().copied().collect();
        let listed = ids(&out, "SELECT id FROM repositories");
        assert!(created.is_subset(&listed), "day {n}: new repositories are in");
        let found: i64 = count(
            &out,
            &format!(
                "SELECT coalesce(sum(new_repositories), 0) FROM repository_discovery_log WHERE discovery_date = '{date}' AND status = 'completed'"
            ),
        );
        assert_eq!(found as usize, created.len(), "day {n}: discovery log");

        // The merged database is the new truth in every table.
        let end = hub.universe().max_id() + 1;
        assert_detail_equals_truth(&out, &hub, 0, end);
        assert_deep_equals_truth(&out, &hub, end);

        // The check: two GraphQL points per 100 repositories with streams (the signals plus the
        // newest issue and pull request, one request per repository and connection).
        let check = count(&out, "SELECT sum(cost) FROM api_request_totals WHERE kind = 'repository_check'")
            - count(&previous, "SELECT coalesce(sum(cost), 0) FROM api_request_totals WHERE kind = 'repository_check'");
        let batches = before.len().div_ceil(100) as i64;
        eprintln!("day {n}: check {check} points for {} repositories", before.len());
        assert!(check <= 2 * batches, "day {n}: {check} points of checks for {} repositories", before.len());
        // For at most a tenth of the first crawl of the same collection (the compare requests of
        // `files`, which the first crawl did not collect, aside).
        let cost: i64 = spent(&out).values().sum::<i64>() - spent(&previous).values().sum::<i64>() - comparisons;
        eprintln!(
            "day {n}: refresh {cost} units against {first_cost} for the first crawl ({:.1}%)",
            cost as f64 * 100.0 / first_cost as f64
        );
        assert!(cost * 10 <= first_cost, "day {n}: {cost} units after {first_cost}");
        days.push(date);
        previous = out;
    }
    // History accumulates: every day's checks are in the last database, none doubled.
    let per_day = rows(&previous, "SELECT check_date, count(*) FROM daily_repository_changes GROUP BY check_date");
    assert_eq!(per_day.len(), 3, "{per_day:?}");
    for date in &days {
        assert!(per_day.iter().any(|line| line.starts_with(date.as_str())), "{date}: {per_day:?}");
    }
    assert_eq!(count(&previous, "SELECT count(DISTINCT discovery_date) FROM repository_discovery_log"), 3);
}

#[test]
fn only_a_refresh_of_an_id_space_crawl_discovers_by_default() {
    let hub = deep_hub(60, options());
    let dir = TestDir::new();
    let crawled = dir.path("ids.sqlite");
    run_all(&hub, &crawled, 1, &[]);
    let org = dir.path("org.sqlite");
    std::fs::copy(&crawled, &org).unwrap();
    rusqlite::Connection::open(&org).unwrap().execute("UPDATE plans SET source = 'org:octo'", []).unwrap();
    // New repositories above the highest id, for discovery to find.
    hub.universe().advance_day(1, &DayChanges { created: 5, ..DayChanges::default() }, 1);
    let plan = |db: &Path, extra: &[&str]| -> String {
        let out = dir.path(&format!("plan-{}-{}", db.file_name().unwrap().to_string_lossy(), extra.join("")));
        success(&run(octoshard(&hub.url())
            .env("GITHUB_TOKEN", TOKEN)
            .args(["plan", "--shards", "1", "--today", "2026-01-02"])
            .args(extra)
            .arg("--source")
            .arg(format!("refresh:{}", db.display()))
            .arg("--out")
            .arg(&out)));
        std::fs::read_to_string(out.join("shard-0000.yaml")).unwrap()
    };
    assert!(plan(&crawled, &[]).contains("discover: "), "an ids: crawl discovers");
    assert!(!plan(&org, &[]).contains("discover: "), "an org crawl does not");
    assert!(plan(&org, &["--discover"]).contains("discover: "), "unless asked to");
    assert!(!plan(&crawled, &["--no-discover"]).contains("discover: "));
    let text = fails_with(
        &run(octoshard(&hub.url())
            .args(["plan", "--source", "ids:0..10", "--no-discover", "--out"])
            .arg(dir.path("x"))),
        2,
    );
    assert!(text.contains("--no-discover"), "{text}");
}

#[test]
fn files_without_a_refresh_are_refused() {
    let output = run(octoshard("http://127.0.0.1:9").env("GITHUB_TOKEN", TOKEN).args([
        "plan",
        "--source",
        "ids:0..100",
        "--collect",
        "metadata,files",
        "--out",
        "/nonexistent/plan",
    ]));
    let text = fails_with(&output, 2);
    assert!(text.contains("--collect files") && text.contains("refresh:"), "{text}");
}

#[test]
fn a_refresh_manifest_without_its_database_is_refused() {
    let hub = deep_hub(50, options());
    let dir = TestDir::new();
    let first = dir.path("day0.sqlite");
    run_all(&hub, &first, 1, &[]);
    let plan = dir.path("plan");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["plan", "--shards", "1", "--today", "2026-01-02", "--no-discover", "--source"])
        .arg(format!("refresh:{}", first.display()))
        .arg("--out")
        .arg(&plan)));
    let output = run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["crawl", "--manifest"])
        .arg(plan.join("shard-0000.yaml"))
        .arg("--out")
        .arg(dir.path("s.sqlite")));
    let text = fails_with(&output, 2);
    assert!(text.contains("--previous"), "{text}");
    assert!(!dir.path("s.sqlite").exists());
}

#[test]
fn a_refresh_under_server_errors_secondary_limits_and_kills_ends_in_the_exact_truth() {
    let hub = deep_hub(
        500,
        fakehub::Options {
            fault_5xx: 0.10,
            fault_secondary: 0.02,
            retry_after_secs: 0,
            seed: 9,
            latency: std::time::Duration::from_millis(1),
            ..options()
        },
    );
    let dir = TestDir::new();
    let first = dir.path("day0.sqlite");
    let end = hub.universe().max_id() + 1;
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--retry-delay", "1ms", "--no-pacing", "--secondary-wait", "10ms", "--probes", "0"])
        .args(["--shards", "1", "--source", &format!("ids:0..{end}"), "--collect", ALL, "--out"])
        .arg(&first)));
    let before = ids(&first, "SELECT id FROM repositories");
    let advance = hub.universe().advance_day(1, &day(), 7);
    let date = today(&hub);
    let plan = dir.path("plan");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["plan", "--shards", "1", "--collect", &format!("{ALL},files"), "--today", &date, "--source"])
        .arg(format!("refresh:{}", first.display()))
        .arg("--out")
        .arg(&plan)));
    let shard = dir.path("shard.sqlite");
    let crawl = || {
        let mut command = octoshard(&hub.url());
        command
            .env("GITHUB_TOKEN", TOKEN)
            .args(["crawl", "--retry-delay", "1ms", "--no-pacing", "--secondary-wait", "10ms", "--previous"])
            .arg(&first)
            .arg("--manifest")
            .arg(plan.join("shard-0000.yaml"))
            .arg("--out")
            .arg(&shard);
        command
    };
    let kills = crawl_with_kills(&hub, crawl, 5, 2..15, usize::MAX);
    assert!(kills >= 3, "only {kills} kills before the refresh finished");
    let merged = dir.path("day1.sqlite");
    success(&run(octoshard(&hub.url())
        .args(["merge", "--plan"])
        .arg(&plan)
        .arg("--out")
        .arg(&merged)
        .arg(&shard)
        .arg(&first)));
    let on = |sql: &str| ids(&merged, &format!("{sql} AND check_date = '{date}'"));
    let changed: BTreeSet<u64> = advance.changed.iter().chain(&advance.deleted).copied().collect();
    let changed: BTreeSet<u64> = changed.intersection(&before).copied().collect();
    assert_eq!(on("SELECT repo_id FROM daily_repository_changes WHERE 1"), before);
    assert_eq!(on("SELECT repo_id FROM daily_repository_changes WHERE has_changes = 1"), changed);
    let end = hub.universe().max_id() + 1;
    assert_detail_equals_truth(&merged, &hub, 0, end);
    assert_deep_equals_truth(&merged, &hub, end);
    let created: BTreeSet<u64> = advance.created.iter().copied().collect();
    assert!(created.is_subset(&ids(&merged, "SELECT id FROM repositories")));
}
