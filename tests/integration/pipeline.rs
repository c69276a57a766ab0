//! plan -> crawl (several shards) -> merge, and `run`, against the simulated GitHub: the merged
//! database equals the ground truth.

use fakehub::{Options, UniverseConfig};

use crate::util::*;

#[test]
fn plan_crawl_merge_equals_the_ground_truth() {
    let hub = hub(3000, options());
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let plan = dir.path("plan");
    let source = format!("ids:0..{end}");
    let output_file = dir.write("github_output", "");
    let output = success_out(
        octoshard(&hub.url())
            .env("GITHUB_OUTPUT", &output_file)
            .args(["plan", "--probes", "0", "--source", &source, "--shards", "4", "--out"])
            .arg(&plan),
    );
    assert_eq!(output.trim(), r#"{"shard":["shard-0000","shard-0001","shard-0002","shard-0003"]}"#);
    let written = std::fs::read_to_string(&output_file).unwrap();
    let matrix = output.trim();
    for line in [format!("matrix={matrix}"), format!("matrix_1={matrix}"), "waves=1".into(), "shards=4".into()] {
        assert!(written.lines().any(|l| l == line), "{line} in {written}");
    }
    assert!(written.lines().any(|l| l.starts_with("plan_id=ids-")), "{written}");

    let artifacts = dir.path("artifacts");
    for shard in 0..4 {
        let name = format!("shard-{shard:04}");
        let out = artifacts.join(format!("octoshard-x-{name}-a1")).join(format!("{name}.sqlite.gz"));
        std::fs::create_dir_all(out.parent().unwrap()).unwrap();
        success(&run(octoshard(&hub.url())
            .args(["crawl", "--token", TOKEN, "--manifest"])
            .arg(plan.join(format!("{name}.yaml")))
            .arg("--out")
            .arg(&out)));
        assert!(out.exists());
        assert!(!dir.listing().iter().any(|n| n.ends_with(".partial")), "no working file is left: {:?}", dir.listing());
    }
    let merged = dir.path("merged.sqlite");
    let text = success(&run(octoshard(&hub.url())
        .args(["merge", "--plan"])
        .arg(&plan)
        .arg("--out")
        .arg(&merged)
        .arg(&artifacts)));
    for shard in 0..4 {
        assert!(text.contains(&format!("shard-{shard:04}, ")), "merge says what it took: {text}");
    }
    assert_equals_truth(&merged, &hub, 0, end);
    assert!(!dir.path("merged.sqlite.leftovers").exists(), "no leftovers for a complete crawl");
    // Every request was accounted for, and the crawl asked for each page once.
    let stats = hub.stats();
    assert_eq!(count(&merged, "SELECT count(*) FROM api_requests") as u64, stats.requests);
    assert_eq!(count(&merged, "SELECT count(*) FROM work_items WHERE status = 'completed'"), 4);
}

fn success_out(command: &mut std::process::Command) -> String {
    let output = run(command);
    success(&output);
    stdout(&output)
}

#[test]
fn run_equals_the_ground_truth_and_cleans_up() {
    let hub = hub(5000, options());
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    let text = success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--probes", "0", "--source", &format!("ids:0..{end}"), "--shards", "8", "--jobs", "4", "--out"])
        .arg(&out)));
    assert_equals_truth(&out, &hub, 0, end);
    assert_eq!(dir.listing(), vec!["x.sqlite".to_string()], "only the merged file remains");
    assert!(!text.contains(TOKEN));
    assert!(text.contains("8 shards crawled"), "{text}");
}

#[test]
fn one_shard_lists_the_next_page_while_detail_is_fetched() {
    // Latency makes the two requests meet in flight; a shard that waited for one before sending
    // the other would never have two at once.
    let hub = hub(2000, Options { latency: std::time::Duration::from_millis(20), ..options() });
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--no-pacing", "--probes", "0", "--source", &format!("ids:0..{end}"), "--shards", "1", "--out"])
        .arg(&out)));
    assert_equals_truth(&out, &hub, 0, end);
    let stats = hub.stats();
    assert_eq!(stats.max_in_flight, 2, "a listing page and a detail query, no more");
    // No page asked twice: one listing request per page, one detail query per 149 repositories
    // (what one point buys: 14 for 2,000), each charged one point.
    let listing = count(&out, "SELECT sum(requests) FROM api_request_totals WHERE kind = 'list_repositories'");
    assert_eq!(listing as u64, stats.by_route["GET /repositories"]);
    let detail = |column: &str| {
        count(&out, &format!("SELECT sum({column}) FROM api_request_totals WHERE kind = 'repository_detail'"))
    };
    assert_eq!((detail("requests"), detail("cost")), (14, 14));
}

#[test]
fn a_sub_range_holds_exactly_its_repositories() {
    let hub = hub(2000, options());
    let ids: Vec<u64> = hub.universe().repos().iter().map(|r| r.id).collect();
    // Ends that fall exactly on repository ids, to catch off-by-one errors at both ends.
    let (from, to) = (ids[300], ids[1500]);
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    success(&run(octoshard(&hub.url())
        .env("GH_TOKEN", TOKEN)
        .args(["run", "--probes", "0", "--source", &format!("ids:{from}..{to}"), "--shards", "3", "--out"])
        .arg(&out)));
    assert_equals_truth(&out, &hub, from, to);
    assert_eq!(listed_in_db(&out).len(), 1200);
}

#[test]
fn server_errors_are_retried_to_the_same_result() {
    let hub = hub(3000, Options { fault_5xx: 0.2, seed: 3, ..options() });
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args([
            "run",
            "--retry-delay",
            "1ms",
            "--max-retries",
            "10",
            "--source",
            &format!("ids:0..{end}"),
            "--shards",
            "4",
            "--out",
        ])
        .arg(&out)));
    assert_equals_truth(&out, &hub, 0, end);
    assert!(hub.stats().faults_5xx > 0, "faults were injected");
    assert!(count(&out, "SELECT count(*) FROM api_requests WHERE status >= 500") > 0, "and recorded");
}

#[test]
fn an_exhausted_budget_is_waited_out_not_failed() {
    let hub = hub(1500, Options { core_limit: 8, window: std::time::Duration::from_secs(1), ..options() });
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--probes", "0", "--source", &format!("ids:0..{end}"), "--shards", "2", "--out"])
        .arg(&out)));
    assert_equals_truth(&out, &hub, 0, end);
    assert_eq!(hub.stats().primary_violations, 0, "never sent a request the budget could not pay");
}

#[test]
fn a_bad_token_is_named_without_being_shown() {
    let hub = hub(100, options());
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    let output = run(octoshard(&hub.url())
        .args(["run", "--token", "ghp_wrongWrongWrong", "--probes", "0", "--source", "ids:0..1000", "--out"])
        .arg(&out));
    let text = fails_with(&output, 2);
    assert!(text.contains("GitHub refused credential token-1 (401 Bad credentials)"), "{text}");
    assert!(text.contains("hint: check --token"), "{text}");
    assert!(!text.contains("ghp_wrongWrongWrong") && !stdout(&output).contains("ghp_wrongWrongWrong"));
}

#[test]
fn planning_is_byte_identical() {
    let dir = TestDir::new();
    for name in ["a", "b"] {
        success(&run(octoshard("http://127.0.0.1:9")
            .args(["plan", "--probes", "0", "--source", "ids:0..123456789", "--shards", "16", "--out"])
            .arg(dir.path(name))));
    }
    let a = dir.path("a");
    for entry in std::fs::read_dir(&a).unwrap() {
        let name = entry.unwrap().file_name();
        assert_eq!(
            std::fs::read(a.join(&name)).unwrap(),
            std::fs::read(dir.path("b").join(&name)).unwrap(),
            "{name:?}"
        );
    }
    assert_eq!(std::fs::read_dir(&a).unwrap().count(), 17);
}

#[test]
fn merge_refuses_a_corrupt_shard_by_name_and_keeps_the_good_ones() {
    let hub = hub(1000, options());
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let plan = plan_ids(&hub, &dir.path("plan"), end, 2);
    let shards = dir.path("shards");
    std::fs::create_dir_all(&shards).unwrap();
    for name in ["shard-0000", "shard-0001"] {
        success(&run(octoshard(&hub.url())
            .args(["crawl", "--token", TOKEN, "--manifest"])
            .arg(plan.join(format!("{name}.yaml")))
            .arg("--out")
            .arg(shards.join(format!("{name}.sqlite.gz")))));
    }
    // Truncate the second shard's gzip: a broken artifact download.
    let broken = shards.join("shard-0001.sqlite.gz");
    let bytes = std::fs::read(&broken).unwrap();
    std::fs::write(&broken, &bytes[..bytes.len() / 2]).unwrap();
    let merged = dir.path("merged.sqlite");
    let text = fails_with(
        &run(octoshard(&hub.url()).args(["merge", "--plan"]).arg(&plan).arg("--out").arg(&merged).arg(&shards)),
        2,
    );
    assert!(text.contains(&format!("{}: not a valid gzip file", broken.display())), "{text}");
    assert!(text.contains("missing shards: shard-0001"), "{text}");
    let manifest = std::fs::read_to_string(plan.join("shard-0000.yaml")).unwrap();
    let first_end: u64 = manifest.lines().find_map(|l| l.trim().strip_prefix("to: ")).unwrap().parse().unwrap();
    assert_equals_truth(&merged, &hub, 0, first_end);
    let leftovers = std::fs::read_to_string(dir.path("merged.sqlite.leftovers/leftovers.yaml")).unwrap();
    assert!(leftovers.contains("shard: shard-0001") && leftovers.contains("reason: missing"), "{leftovers}");
}

#[test]
fn merged_files_keep_request_totals_not_rows() {
    let hub = hub_with(UniverseConfig { repos: 600, seed: 17, ..UniverseConfig::default() }, options());
    let dir = TestDir::new();
    let merged = dir.path("merged.sqlite");
    success(&run(run_all_command(&hub, 2).env_remove("OCTOSHARD_KEEP_REQUESTS").arg("--out").arg(&merged)));
    let stats = hub.stats();
    assert_eq!(count(&merged, "SELECT count(*) FROM api_requests"), 0, "no raw rows unless asked for");
    assert_eq!(count(&merged, "SELECT sum(requests) FROM api_request_totals") as u64, stats.requests);
    // One row per plan, shard, hour, kind, status and credential: a handful, whatever the crawl's size.
    let rows = count(&merged, "SELECT count(*) FROM api_request_totals");
    assert!((2..=24).contains(&rows), "{rows} total rows");
    assert_eq!(count(&merged, "SELECT count(DISTINCT shard) FROM api_request_totals"), 2);
    // Merging the merged file again (with another plan's work or alone) counts nothing twice.
    let again = dir.path("again.sqlite");
    success(&run(octoshard(&hub.url())
        .env_remove("OCTOSHARD_KEEP_REQUESTS")
        .args(["merge", "--out"])
        .arg(&again)
        .arg(&merged)));
    assert_eq!(count(&again, "SELECT sum(requests) FROM api_request_totals") as u64, stats.requests);
}
