//! The HTTP policy layer against a simulated GitHub that enforces budgets, secondary limits and
//! faults: the data is exact, no budget is overspent, every wait is honoured, the accounting adds
//! up, and no secret leaks.

use std::io::Read;
use std::process::Stdio;
use std::time::Duration;

use fakehub::{AppOptions, Options, UniverseConfig};

use crate::util::*;

fn universe(repos: usize, seed: u64) -> UniverseConfig {
    UniverseConfig { repos, seed, ..UniverseConfig::default() }
}

#[test]
fn faults_and_secondary_limits_end_in_the_exact_data_without_violations() {
    let config = UniverseConfig { deleted_fraction: 0.02, ..universe(3000, 11) };
    let hub =
        hub_with(config, Options { fault_5xx: 0.10, fault_secondary: 0.02, retry_after_secs: 1, seed: 5, ..options() });
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    run_all(&hub, &out, 4, &["--max-retries", "12"]);
    let end = hub.universe().max_id() + 1;
    assert_detail_equals_truth(&out, &hub, 0, end);
    let deleted = hub.universe().repos().iter().filter(|r| r.deleted).count() as i64;
    assert!(deleted > 0);
    assert_eq!(
        count(&out, "SELECT count(*) FROM tombstones WHERE reason = 'not_found'"),
        deleted,
        "deleted repositories are tombstones"
    );
    let stats = hub.stats();
    assert!(stats.faults_5xx > 0 && stats.faults_secondary > 0, "faults were injected: {stats:?}");
    assert_eq!(stats.primary_violations, 0);
    assert_eq!(
        stats.retry_after_violations, 0,
        "every secondary limit was waited out: {:?}",
        stats.secondary_responses
    );
    assert_eq!(stats.concurrency_violations, 0);
    assert_eq!(
        count(&out, "SELECT count(*) FROM api_requests") as u64,
        stats.requests,
        "every request is accounted for"
    );
}

#[test]
fn a_binding_budget_is_spent_across_resets_without_violations() {
    // A 60-request "hour" of one second for a crawl that needs about 230 listing requests (the
    // ratio of a 500-request hour for a crawl of 2,000; small enough for a loaded CI machine).
    let hub = hub_with(universe(16_000, 12), Options { core_limit: 60, window: Duration::from_secs(1), ..options() });
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    run_all(&hub, &out, 4, &[]);
    let end = hub.universe().max_id() + 1;
    assert_equals_truth(&out, &hub, 0, end);
    let stats = hub.stats();
    assert_eq!(stats.primary_violations, 0);
    let windows = stats.windows_of("token0", "core");
    assert!(windows.len() >= 4, "the crawl needed several windows: {windows:?}");
    // How full the windows were is a speed figure (a loaded machine sends fewer requests in a
    // one-second window), so it is reported, not asserted: the test holds the crawl to the budget
    // (no violation) and to the exact data across several resets.
    let (used, limit) = windows.iter().fold((0, 0), |(u, l), w| (u + w.used, l + w.limit));
    eprintln!("{} windows, {used} of {limit} requests used", windows.len());
}

#[test]
fn two_crawls_sharing_one_token_never_overspend_it() {
    let hub = hub_with(universe(9000, 13), Options { core_limit: 40, window: Duration::from_secs(1), ..options() });
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let plan = plan_ids(&hub, &dir.path("plan"), end, 2);
    let children: Vec<_> = ["shard-0000", "shard-0001"]
        .iter()
        .map(|name| {
            octoshard(&hub.url())
                .env("GITHUB_TOKEN", TOKEN)
                .args(["crawl", "--manifest"])
                .arg(plan.join(format!("{name}.yaml")))
                .arg("--out")
                .arg(dir.path(&format!("{name}.sqlite")))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        let mut text = String::new();
        child.stderr.take().unwrap().read_to_string(&mut text).unwrap();
        assert!(child.wait().unwrap().success(), "{text}");
    }
    let merged = dir.path("merged.sqlite");
    success(&run(octoshard(&hub.url())
        .args(["merge", "--out"])
        .arg(&merged)
        .arg(dir.path("shard-0000.sqlite"))
        .arg(dir.path("shard-0001.sqlite"))));
    assert_equals_truth(&merged, &hub, 0, end);
    let stats = hub.stats();
    assert!(stats.windows_of("token0", "core").len() >= 3, "the budget was binding");
    assert_eq!(stats.primary_violations, 0, "two processes on one token never overspent it");
}

/// Budget points (REST requests + GraphQL points) a full metadata crawl of `hub` spends.
fn metadata_cost(hub: &fakehub::FakeHub) -> (i64, i64, i64) {
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    run_all(hub, &out, 4, &[]);
    assert_detail_equals_truth(&out, hub, 0, hub.universe().max_id() + 1);
    let cost = count(&out, "SELECT sum(cost) FROM api_requests");
    let listing = count(&out, "SELECT count(*) FROM api_requests WHERE kind = 'list_repositories'");
    let graphql = count(&out, "SELECT sum(cost) FROM api_requests WHERE kind = 'repository_detail'");
    (cost, listing, graphql)
}

#[test]
fn metadata_costs_a_listing_request_per_100_ids_and_a_point_per_100_repositories() {
    // Mostly public ids (10% private or deleted): 10,000 repositories within the 220 points budget.
    let dense = hub_with(UniverseConfig { hidden_fraction: 0.1, ..universe(10_000, 14) }, options());
    let (cost, listing, graphql) = metadata_cost(&dense);
    eprintln!(
        "10,000 repositories, 10% hidden ids: {cost} points ({listing} listing requests + {graphql} GraphQL points)"
    );
    assert!(cost <= 220, "{cost} points");

    // GitHub-like sparseness (30% hidden): the cost follows the id span, not one call per repository.
    let sparse = hub(10_000, options());
    // Listing pages cover 100 assigned ids each (public, private or deleted), so the floor is
    // ids/100 listing requests plus repositories/100 GraphQL points; shard edges add a page each.
    let ids = sparse.universe().all_ids().len() as i64;
    let (cost, listing, graphql) = metadata_cost(&sparse);
    eprintln!(
        "10,000 repositories among {ids} assigned ids: {cost} points ({listing} listing requests + {graphql} GraphQL points)"
    );
    let floor = (ids + 99) / 100 + 100;
    assert!(cost <= floor + 2 * 4, "{cost} points, floor {floor}");
    assert!(cost < 10_000 / 30, "far below one request per repository");
}

#[test]
fn a_recrawl_of_an_unchanged_universe_is_answered_with_304s() {
    let hub = hub(5000, options());
    let dir = TestDir::new();
    let first = dir.path("first.sqlite");
    run_all(&hub, &first, 4, &[]);
    let before = hub.stats();
    let second = dir.path("second.sqlite.gz");
    // The previous database may be gzip, as downloaded from an artifact.
    octoshard::artifact::gzip_atomically(&first, &dir.path("first.sqlite.gz")).unwrap();
    run_all(&hub, &dir.path("second.sqlite"), 4, &["--previous", dir.path("first.sqlite.gz").to_str().unwrap()]);
    let db = dir.path("second.sqlite");
    assert!(!second.exists());
    assert_detail_equals_truth(&db, &hub, 0, hub.universe().max_id() + 1);
    let conditional = count(&db, "SELECT count(*) FROM api_requests WHERE conditional AND kind = 'list_repositories'");
    let not_modified = count(&db, "SELECT count(*) FROM api_requests WHERE conditional AND status = 304");
    let charged = count(&db, "SELECT count(*) FROM api_requests WHERE status = 304 AND cost > 0");
    eprintln!("re-crawl: {not_modified} of {conditional} conditional requests answered 304");
    assert!(conditional > 50);
    assert!(not_modified * 100 >= conditional * 99, "{not_modified} of {conditional}");
    assert_eq!(charged, 0, "a 304 is free");
    assert_eq!(hub.stats().not_modified - before.not_modified, not_modified as u64, "GitHub agrees");
}

#[test]
fn no_token_reaches_logs_errors_databases_or_artifacts() {
    let hub = hub(800, Options { fault_5xx: 0.05, ..options() });
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let summary = dir.write("step_summary.md", "");
    let output = run(run_all_command(&hub, 2)
        .env("RUST_LOG", "trace")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["-vv", "--out"])
        .arg(dir.path("x.sqlite")));
    let mut seen = stderr(&output) + &stdout(&output);
    success(&output);
    let plan = plan_ids(&hub, &dir.path("plan"), end, 1);
    let gz = dir.path("shard.sqlite.gz");
    let output = run(octoshard(&hub.url())
        .env("RUST_LOG", "trace")
        .args(["crawl", "--token", TOKEN, "--manifest"])
        .arg(plan.join("shard-0000.yaml"))
        .arg("--out")
        .arg(&gz));
    seen += &(stderr(&output) + &stdout(&output));
    // A crash-like failure: the API goes away mid-flight is not needed; a refused token is an error path.
    let refused = run(octoshard(&hub.url())
        .args(["run", "--token", "ghp_refusedRefusedRefused", "--probes", "0", "--source", "ids:0..100", "--out"])
        .arg(dir.path("y.sqlite")));
    seen += &(stderr(&refused) + &stdout(&refused));
    assert!(seen.contains("TRACE") || seen.contains("DEBUG"), "verbose logs were on");
    assert!(!seen.contains(TOKEN) && !seen.contains("ghp_refusedRefusedRefused"), "a token reached the output");
    octoshard::artifact::gunzip(&gz, &dir.path("unpacked.sqlite")).unwrap();
    for name in dir.listing() {
        let bytes = std::fs::read(dir.path(&name)).unwrap();
        assert!(!bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()), "the token is in {name}");
    }
    assert!(std::fs::read_to_string(&summary).unwrap().contains("| shard-0001 |"), "the step summary was written");
}

#[test]
fn a_token_pool_spreads_the_work_and_survives_a_revoked_token() {
    let tokens = ["ghp_poolTokenOne0000000000000000", "ghp_poolTokenTwo0000000000000000"];
    let hub = hub(4000, Options { tokens: tokens.iter().map(|t| t.to_string()).collect(), ..Options::default() });
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    let output = run(octoshard(&hub.url())
        .env("OCTOSHARD_TOKENS", format!("{}, ghp_revokedRevokedRevoked\n{}", tokens[0], tokens[1]))
        .args(["run", "--probes", "0", "--source", &format!("ids:0..{end}"), "--shards", "4", "--out"])
        .arg(&out));
    let text = success(&output);
    assert!(
        text.contains("GitHub refused credential token-2 (401 Bad credentials); continuing with the others"),
        "{text}"
    );
    assert_detail_equals_truth(&out, &hub, 0, end);
    let stats = hub.stats();
    let used: Vec<u64> = ["token0", "token1"].iter().map(|t| stats.by_token.get(*t).copied().unwrap_or(0)).collect();
    assert!(used.iter().all(|n| *n > 10), "both tokens did work: {:?}", stats.by_token);
    let labels = count(&out, "SELECT count(DISTINCT credential) FROM api_requests");
    assert_eq!(labels, 3, "requests are recorded by credential label");
}

#[test]
fn a_github_app_installation_token_is_fetched_and_renewed() {
    let app = AppOptions {
        app_id: 4242,
        installation_id: 77,
        public_key_der: std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/app-key.pub.der")).unwrap(),
        token_ttl: Duration::from_secs(2),
    };
    let hub = hub(6000, Options { app: Some(app), latency: Duration::from_millis(20), ..Options::default() });
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    success(&run(octoshard(&hub.url())
        .args(["run", "--app-id", "4242", "--installation-id", "77", "--app-key"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/app-key.pem"))
        .args(["--probes", "0", "--source", &format!("ids:0..{end}"), "--shards", "2", "--jobs", "1", "--out"])
        .arg(&out)));
    assert_detail_equals_truth(&out, &hub, 0, end);
    let stats = hub.stats();
    assert!(stats.app_tokens_issued >= 2, "the 2-second token was renewed: {}", stats.app_tokens_issued);
    assert_eq!(stats.expired_token_uses, 0, "renewed before it expired");
    assert_eq!(count(&out, "SELECT count(DISTINCT credential) FROM api_requests"), 1, "one label: app-4242/77");
    assert_eq!(
        count(&out, "SELECT count(*) FROM api_requests WHERE kind = 'app_token'") as u64,
        stats.app_tokens_issued
    );
}
