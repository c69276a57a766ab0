//! A crawl that is killed, or stopped by its deadline, resumes to exactly what a clean run gives.

use std::process::Stdio;
use std::time::{Duration, Instant};

use fakehub::Options;

use crate::util::*;

/// Starts a crawl, kills it (SIGKILL) once the server has answered `after` more requests.
fn crawl_and_kill(hub: &fakehub::FakeHub, manifest: &std::path::Path, out: &std::path::Path, after: u64) -> bool {
    let start = hub.stats().requests;
    let mut child = octoshard(&hub.url())
        .args(["crawl", "--token", TOKEN, "--manifest"])
        .arg(manifest)
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "crawl failed before it could be killed");
            return false;
        }
        if hub.stats().requests >= start + after {
            child.kill().unwrap();
            child.wait().unwrap();
            return true;
        }
        assert!(Instant::now() < deadline, "crawl made no progress");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn plan_one_shard(hub: &fakehub::FakeHub, dir: &TestDir, end: u64) -> std::path::PathBuf {
    plan_ids(hub, &dir.path("plan"), end, 1).join("shard-0000.yaml")
}

#[test]
fn a_crawl_killed_mid_shard_resumes_without_loss_or_duplicates() {
    for out_name in ["shard.sqlite", "shard.sqlite.gz"] {
        let hub = hub(4000, Options { latency: Duration::from_millis(3), ..options() });
        let end = hub.universe().max_id() + 1;
        let dir = TestDir::new();
        let manifest = plan_one_shard(&hub, &dir, end);
        let out = dir.path(out_name);
        let mut kills = 0;
        for after in [3, 7, 5, 11, 4] {
            if crawl_and_kill(&hub, &manifest, &out, after) {
                kills += 1;
            }
        }
        assert!(kills >= 4, "the crawl was interrupted mid-shard ({kills} kills)");
        success(&run(octoshard(&hub.url())
            .args(["crawl", "--token", TOKEN, "--manifest"])
            .arg(&manifest)
            .arg("--out")
            .arg(&out)));
        let db = if out_name.ends_with(".gz") {
            let plain = dir.path("unpacked.sqlite");
            octoshard::artifact::gunzip(&out, &plain).unwrap();
            plain
        } else {
            out.clone()
        };
        assert_equals_truth(&db, &hub, 0, end);
        assert_eq!(count(&db, "SELECT attempts FROM work_items"), 6, "{out_name}: one attempt per start");
        assert_eq!(count(&db, "SELECT count(*) FROM shard_runs"), 6);
        // At most one page per kill was fetched twice.
        let listing = "FROM api_requests WHERE kind = 'list_repositories'";
        let pages = count(&db, &format!("SELECT count(DISTINCT path) {listing}"));
        let requests = count(&db, &format!("SELECT count(*) {listing}"));
        assert!(requests - pages <= kills, "{out_name}: {requests} requests for {pages} pages");
    }
}

#[test]
fn a_deadline_stops_cleanly_and_leftovers_finish_the_job() {
    let hub = hub(6000, Options { latency: Duration::from_millis(20), ..options() });
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let manifest = plan_one_shard(&hub, &dir, end);
    let out = dir.path("shard-0000.sqlite.gz");
    let text = success(&run(octoshard(&hub.url())
        .args(["crawl", "--token", TOKEN, "--deadline", "400ms", "--manifest"])
        .arg(&manifest)
        .arg("--out")
        .arg(&out)));
    assert!(text.contains("shard-0000: deadline"), "{text}");
    assert!(out.exists(), "a deadline-stopped shard is still written");
    let merged = dir.path("merged.sqlite");
    success(&run(octoshard(&hub.url()).args(["merge", "--out"]).arg(&merged).arg(&out)));
    let stored = listed_in_db(&merged).len();
    assert!(stored > 0 && stored < 6000, "partial: {stored}");
    let leftovers = std::fs::read_to_string(dir.path("merged.sqlite.leftovers/leftovers.yaml")).unwrap();
    assert!(leftovers.contains("reason: deadline") && leftovers.contains("kind: id_range"), "{leftovers}");

    // Resuming the same output finishes the shard.
    success(&run(octoshard(&hub.url())
        .args(["crawl", "--token", TOKEN, "--manifest"])
        .arg(&manifest)
        .arg("--out")
        .arg(&out)));
    success(&run(octoshard(&hub.url()).args(["merge", "--out"]).arg(&merged).arg(&out)));
    assert_equals_truth(&merged, &hub, 0, end);
    assert!(!dir.path("merged.sqlite.leftovers/leftovers.yaml").exists(), "stale leftovers are removed");
}

#[test]
fn an_organization_listing_killed_between_pages_goes_on_from_its_cursor() {
    let hub = hub_with(
        fakehub::UniverseConfig { repos: 20_000, seed: 1, ..fakehub::UniverseConfig::default() },
        Options { latency: Duration::from_millis(3), ..options() },
    );
    let (org, _) = hub.universe().owners_by_repo_count(fakehub::OwnerType::Organization)[0];
    let mut want: Vec<u64> = hub.universe().owned_by(&org.login).iter().map(|r| r.id).collect();
    want.sort_unstable();
    // A query lists 147 repositories (a page of 100 from the start, one of 47 from the end).
    let pages = want.len().div_ceil(147) as i64 + i64::from(want.len().is_multiple_of(147));
    assert!(pages >= 3, "{pages} queries");
    let dir = TestDir::new();
    success(&run(octoshard(&hub.url())
        .args(["plan", "--source", &format!("org:{}", org.login), "--out"])
        .arg(dir.path("plan"))));
    let manifest = dir.path("plan").join("shard-0000.yaml");
    let out = dir.path("org.sqlite");
    let mut kills = 0;
    for after in [1, 1] {
        if crawl_and_kill(&hub, &manifest, &out, after) {
            kills += 1;
        }
    }
    assert_eq!(kills, 2, "the listing was interrupted between pages");
    success(&run(octoshard(&hub.url())
        .args(["crawl", "--token", TOKEN, "--manifest"])
        .arg(&manifest)
        .arg("--out")
        .arg(&out)));
    let mut got: Vec<u64> = listed_in_db(&out).into_iter().map(|r| r.id).collect();
    got.sort_unstable();
    assert_eq!(got, want);
    // Every query is one point; a kill costs at most the query in flight.
    let listing = "FROM api_requests WHERE kind = 'listing'";
    let (queries, points) =
        (count(&out, &format!("SELECT count(*) {listing}")), count(&out, &format!("SELECT sum(cost) {listing}")));
    assert!(queries <= pages + kills, "{queries} queries for {pages} pages");
    assert_eq!(points, queries, "a point a page");
}
