//! The planner against the simulated GitHub: balanced id shards from a few probes, search queries
//! sliced under the 1,000 cap, and every other source crawled end to end.

use fakehub::{Options, OwnerType, UniverseConfig};

use crate::util::*;

/// Ids of every repository in a database.
fn ids_in(db: &std::path::Path) -> Vec<u64> {
    listed_in_db(db).into_iter().map(|r| r.id).collect()
}

#[test]
fn probed_id_shards_hold_balanced_repository_counts() {
    // Search counts are paced to 30 a window; a short window keeps the test quick.
    let hub = hub(20_000, Options { window: std::time::Duration::from_secs(1), ..options() });
    let universe = hub.universe();
    let dense = universe.segments().iter().map(|s| s.mean_gap).min().unwrap();
    let sparse = universe.segments().iter().map(|s| s.mean_gap).max().unwrap();
    assert!(sparse >= 10 * dense, "density varies at least 10x");
    let dir = TestDir::new();
    let plan = dir.path("plan");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["plan", "--source", "ids:0..", "--shards", "64", "--probes", "175", "--out"])
        .arg(&plan)));
    let requests = hub.stats().requests;
    assert!(requests <= 200, "{requests} probe requests");
    let text = std::fs::read_to_string(plan.join("plan.yaml")).unwrap();
    let mut counts = Vec::new();
    for index in 0..64 {
        let manifest = octoshard::plan::Manifest::load(&plan.join(format!("shard-{index:04}.yaml"))).unwrap();
        let octoshard::plan::WorkItem::IdRange { from, to, .. } = manifest.work[0] else { panic!("id range") };
        counts.push(universe.repos_in(from, to).len());
    }
    assert!(text.contains(&format!("planning_requests: {requests}")), "the plan records its requests");
    let (min, max) = (*counts.iter().min().unwrap(), *counts.iter().max().unwrap());
    eprintln!(
        "64 shards from {requests} probes: smallest {min}, largest {max} repositories (ratio {:.2})",
        max as f64 / min as f64
    );
    assert!(max as f64 <= 1.5 * min as f64, "{counts:?}");
    assert_eq!(counts.iter().sum::<usize>(), universe.repos().len(), "every repository in exactly one shard");
}

#[test]
fn a_search_with_25000_matches_is_sliced_and_crawled_exactly_once() {
    let hub = hub_with(
        UniverseConfig { repos: 30_000, seed: 21, ..UniverseConfig::default() },
        Options { search_limit: 10_000, ..options() },
    );
    let query = "fork:true";
    let want: Vec<u64> =
        hub.universe().search(query).unwrap().into_iter().filter(|r| !r.deleted).map(|r| r.id).collect();
    assert!(want.len() > 25_000, "{} matches", want.len());
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--source", &format!("search:{query}"), "--shards", "6", "--out"])
        .arg(&out)));
    assert_eq!(ids_in(&out), want);
    assert_eq!(count(&out, "SELECT count(*) FROM repositories WHERE detail_fetched_at IS NULL"), 0);
}

#[test]
fn starred_user_org_repos_and_trending_sources_crawl_end_to_end() {
    let hub = hub_with(UniverseConfig { repos: 20_000, seed: 1, ..UniverseConfig::default() }, options());
    let universe = hub.universe();
    let dir = TestDir::new();
    let crawl = |source: &str, name: &str| {
        let out = dir.path(name);
        success(&run(octoshard(&hub.url())
            .env("GITHUB_TOKEN", TOKEN)
            .args(["run", "--source", source, "--out"])
            .arg(&out)));
        ids_in(&out)
    };
    let sorted = |mut ids: Vec<u64>| {
        ids.sort_unstable();
        ids
    };
    let (starrer, _) = universe.users_by_stars_given()[0];
    let want = sorted(universe.starred_by(&starrer.login).iter().map(|r| r.id).collect());
    assert!(want.len() >= 250);
    assert_eq!(crawl(&format!("starred:{}", starrer.login), "starred.sqlite"), want);

    let (org, _) = universe.owners_by_repo_count(OwnerType::Organization)[0];
    let want = sorted(universe.owned_by(&org.login).iter().map(|r| r.id).collect());
    assert!(want.len() > 100);
    assert_eq!(crawl(&format!("org:{}", org.login), "org.sqlite"), want);
    // With a token the listing is GraphQL's, every detail field included, paged from both ends: a
    // point per 147 repositories (a query whose two pages fill the window exactly needs one more,
    // empty, to know), and nothing else.
    let units = count(&dir.path("org.sqlite"), "SELECT sum(cost) FROM api_request_totals") as usize;
    let n = want.len();
    assert_eq!(units, n.div_ceil(147) + usize::from(n.is_multiple_of(147)), "{n} repositories");

    let (user, _) = universe.owners_by_repo_count(OwnerType::User)[0];
    let want = sorted(universe.owned_by(&user.login).iter().map(|r| r.id).collect());
    assert_eq!(crawl(&format!("user:{}", user.login), "user.sqlite"), want);

    let names: Vec<&str> =
        universe.repos().iter().filter(|r| !r.deleted).step_by(37).map(|r| r.full_name.as_str()).collect();
    let list = dir.write("list.txt", &format!("{}\nnobody/nothing-here\n", names.join("\n")));
    let want = sorted(universe.repos().iter().filter(|r| !r.deleted).step_by(37).map(|r| r.id).collect());
    let db = dir.path("repos.sqlite");
    assert_eq!(crawl(&format!("repos:{}", list.display()), "repos.sqlite"), want);
    assert_eq!(count(&db, "SELECT count(*) FROM missing_repositories WHERE full_name = 'nobody/nothing-here'"), 1);

    // Trending: created in the last N days before --today (pinned to the universe's last day, so
    // the test means the same on any date), most starred first, at most 1,000.
    let newest = universe.repos().iter().map(|r| r.created_at.0).max().unwrap();
    let today = fakehub::Timestamp(newest + 86_400).to_string()[..10].to_string();
    let since = fakehub::Timestamp(newest + 86_400 - 366 * 86_400).to_string()[..10].to_string();
    let matching: Vec<&fakehub::Repo> =
        universe.search(&format!("created:>={since}")).unwrap().into_iter().filter(|r| !r.deleted).collect();
    assert!(matching.len() > 1000, "the window must overflow the cap: {}", matching.len());
    let out = dir.path("trending.sqlite");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--source", "trending:366", "--today", &today, "--out"])
        .arg(&out)));
    let trending: std::collections::HashSet<u64> = ids_in(&out).into_iter().collect();
    assert_eq!(trending.len(), 1000);
    assert!(trending.iter().all(|id| matching.iter().any(|r| r.id == *id)), "only repositories of the window");
    let stars = |inside: bool| {
        matching.iter().filter(|r| trending.contains(&r.id) == inside).map(|r| r.stargazers_count).collect::<Vec<_>>()
    };
    let (top, rest) = (stars(true), stars(false));
    assert!(top.iter().min() >= rest.iter().max(), "the most starred of the window");
}

#[test]
fn a_deadline_then_a_leftovers_plan_ends_with_the_full_ground_truth() {
    let hub = hub(8000, Options { latency: std::time::Duration::from_millis(15), ..options() });
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let first = dir.path("first.sqlite");
    let output = run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args([
            "run",
            "--probes",
            "0",
            "--deadline",
            "600ms",
            "--source",
            &format!("ids:0..{end}"),
            "--shards",
            "2",
            "--out",
        ])
        .arg(&first));
    success(&output);
    let leftovers = dir.path("first.sqlite.leftovers");
    assert!(leftovers.join("leftovers.yaml").exists(), "a deadline leaves leftovers");
    let second = dir.path("second.sqlite");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--source", &format!("leftovers:{}", leftovers.display()), "--out"])
        .arg(&second)));
    // The two crawls belong to different plans: compare the union of their results.
    let mut ids = ids_in(&first);
    ids.extend(ids_in(&second));
    ids.sort_unstable();
    ids.dedup();
    let want: Vec<u64> = hub.universe().repos_in(0, end).iter().map(|r| r.id).collect();
    assert_eq!(ids, want);
}

#[test]
fn a_small_plan_spends_about_two_percent_of_its_crawl_on_planning() {
    let hub = hub(5_000, Options { window: std::time::Duration::from_secs(1), ..options() });
    let universe = hub.universe();
    let end = universe.max_id() + 1;
    let dir = TestDir::new();
    let source = format!("ids:0..{end}");
    let plan = |shards: Option<u32>, probes: Option<&str>| {
        let out = dir.path(&format!("plan-{shards:?}-{}", probes.unwrap_or("default")));
        hub.reset_stats();
        let mut command = octoshard(&hub.url());
        command.env("GITHUB_TOKEN", TOKEN).args(["plan", "--source", &source]);
        if let Some(shards) = shards {
            command.args(["--shards", &shards.to_string()]);
        }
        if let Some(probes) = probes {
            command.args(["--probes", probes]);
        }
        success(&run(command.arg("--out").arg(&out)));
        let shards = std::fs::read_dir(&out)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("shard-"))
            .count() as u32;
        let counts: Vec<usize> = (0..shards)
            .map(|index| {
                let manifest = octoshard::plan::Manifest::load(&out.join(format!("shard-{index:04}.yaml"))).unwrap();
                let octoshard::plan::WorkItem::IdRange { from, to, .. } = manifest.work[0] else { panic!("id range") };
                universe.repos_in(from, to).len()
            })
            .collect();
        // Every repository in exactly one shard, however the cuts fell.
        assert_eq!(counts.iter().sum::<usize>(), universe.repos_in(0, end).len());
        (hub.stats().requests, counts)
    };
    // One shard has no cut to balance: no request at all.
    assert_eq!(plan(Some(1), None).0, 0);
    // What the crawl itself spends: listing pages and detail queries.
    let db = dir.path("crawl.sqlite");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--no-pacing", "--probes", "0", "--shards", "1", "--source", &source, "--out"])
        .arg(&db)));
    let units = count(&db, "SELECT sum(cost) FROM api_request_totals") as u64;
    // By default a first look says what the crawl will cost: a probe at each end and a search
    // count of the range (from the first id to past the newest: everything, so no creation time
    // is needed). The count makes the estimate exact enough to see that this crawl is not worth
    // cutting (each shard's ends would waste a listing page and a detail query), so that is all of
    // the planning: two budget units and a search, at most 2% of the crawl.
    let (requests, counts) = plan(None, None);
    let stats = hub.stats();
    eprintln!("default: {} shard(s) from {requests} planning requests for a crawl of {units} units", counts.len());
    assert_eq!(counts.len(), 1, "{counts:?}");
    let spent = |stats: &fakehub::Stats| {
        (stats.by_route["GET /repositories"], stats.graphql_points, stats.by_route["GET /search/repositories"])
    };
    assert_eq!(spent(&stats), (2, 0, 1));
    assert!(2 * 100 <= units * 2, "{units} crawl units");
    // A range that ends before the newest repository needs the creation time at its end: one
    // GraphQL point for the repositories on the probed pages.
    hub.reset_stats();
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["plan", "--source", &format!("ids:0..{}", end / 2), "--out"])
        .arg(dir.path("plan-half"))));
    assert_eq!(spent(&hub.stats()), (2, 1, 1));
    // Four shards asked: planning spends at most 2% of the estimate beyond the first look.
    let (requests, counts) = plan(Some(4), None);
    eprintln!("4 shards from {requests} planning requests for a crawl of {units} units: {counts:?}");
    assert!(requests <= 4 + units * 2 / 100, "{requests} planning requests for a crawl of {units} units");
    // An explicit --probes buys balance: a handful of probes and about three counts a cut.
    let (requests, counts) = plan(Some(4), Some("128"));
    let (min, max) = (*counts.iter().min().unwrap(), *counts.iter().max().unwrap());
    eprintln!("4 shards from {requests} planning requests (--probes 128): {counts:?}");
    assert!(requests <= 40, "{requests} planning requests for 4 shards");
    assert!(max as f64 <= 1.3 * min as f64, "{counts:?} from {requests} requests");
}
