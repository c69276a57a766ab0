//! Promises a new user relies on (issue 10): searches are never silently truncated, leftovers
//! finish what a deadline left (detail included), merged databases merge again, a misbehaving
//! server is an error rather than an endless loop or lost work, an empty token is not anonymous
//! access, and the exit status says whether everything asked for was stored.

use std::collections::BTreeSet;
use std::time::Duration;

use fakehub::{Options, OwnerType, UniverseConfig};

use crate::util::*;

/// A hub whose search budget does not slow the tests down.
fn search_hub(repos: usize, seed: u64) -> fakehub::FakeHub {
    hub_with(
        UniverseConfig { repos, seed, ..UniverseConfig::default() },
        Options { search_limit: 100_000, ..options() },
    )
}

/// The ids GitHub's search finds for `query` (deleted repositories are gone by the time detail
/// is asked for).
fn search_truth(hub: &fakehub::FakeHub, query: &str) -> BTreeSet<u64> {
    hub.universe().search(query).unwrap().into_iter().filter(|r| !r.deleted).map(|r| r.id).collect()
}

fn ids(db: &std::path::Path) -> BTreeSet<u64> {
    listed_in_db(db).into_iter().map(|r| r.id).collect()
}

/// `run --source search:QUERY`.
fn run_search(hub: &fakehub::FakeHub, query: &str, out: &std::path::Path) -> std::process::Output {
    run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--retry-delay", "1ms", "--source", &format!("search:{query}"), "--shards", "3", "--out"])
        .arg(out))
}

#[test]
fn a_query_with_its_own_created_range_is_sliced_inside_it() {
    let hub = search_hub(20_000, 3);
    let newest = hub.universe().repos().iter().map(|r| r.created_at.0).max().unwrap();
    let date = |offset_days: i64| fakehub::Timestamp(newest - offset_days * 86_400).to_string()[..10].to_string();
    let dir = TestDir::new();
    for (n, query) in [
        format!("created:>{}", date(3000)),
        format!("created:>={}", date(2500)),
        format!("is:public created:{}..{}", date(4000), date(1000)),
        format!("fork:true created:<{} created:>2012-01-01", date(500)),
    ]
    .into_iter()
    .enumerate()
    {
        let want = search_truth(&hub, &query);
        assert!(want.len() > 1000, "{query}: {} matches must overflow the cap", want.len());
        let out = dir.path(&format!("q{n}.sqlite"));
        success(&run_search(&hub, &query, &out));
        assert_eq!(ids(&out), want, "{query}");
    }
}

#[test]
fn a_search_item_over_the_cap_is_failed_work_with_a_non_zero_exit() {
    // Found by issue 10.1: the overflow check could never fire, so the item ended `completed`.
    let hub = search_hub(5_000, 4);
    let dir = TestDir::new();
    let total = hub.universe().search("fork:true").unwrap().len();
    assert!(total > 1000);
    let manifest = dir.write(
        "m.yaml",
        "version: 1\nplan_id: p\nshard: { index: 0, count: 1, name: shard-0000 }\nsource: search:fork:true\n\
         collect: [metadata]\nwork: [{ kind: search, query: 'fork:true' }]\nbudget: { requests_per_hour: 5000 }\n",
    );
    let out = dir.path("s.sqlite");
    let text = fails_with(
        &run(octoshard(&hub.url())
            .env("GITHUB_TOKEN", TOKEN)
            .args(["crawl", "--retry-delay", "1ms", "--manifest"])
            .arg(&manifest)
            .arg("--out")
            .arg(&out)),
        1,
    );
    assert!(text.contains(&format!("{total} results, above the search cap")), "{text}");
    assert_eq!(count(&out, "SELECT count(*) FROM work_items WHERE status = 'failed'"), 1);
    assert_eq!(count(&out, "SELECT count(*) FROM repositories"), 1000);
}

#[test]
fn search_specs_with_qualifiers_store_the_full_result_set() {
    // Property-style: queries drawn from qualifier combinations; each run stores exactly GitHub's
    // result set (or would have to exit non-zero naming what it could not get).
    let hub = search_hub(12_000, 5);
    let newest = hub.universe().repos().iter().map(|r| r.created_at.0).max().unwrap();
    let mut rng = fastrand::Rng::with_seed(10);
    let dir = TestDir::new();
    let day =
        |rng: &mut fastrand::Rng| fakehub::Timestamp(newest - rng.i64(0..4000) * 86_400).to_string()[..10].to_string();
    for n in 0..10 {
        let mut terms: Vec<String> = Vec::new();
        if rng.bool() {
            terms.push(["fork:true", "fork:only", "fork:false"][rng.usize(0..3)].into());
        }
        if rng.bool() {
            terms.push(format!("stars:{}", ["<10", ">=3", "1..50", ">0"][rng.usize(0..4)]));
        }
        if rng.bool() {
            terms.push(format!("language:{}", ["rust", "python", "javascript"][rng.usize(0..3)]));
        }
        match rng.usize(0..4) {
            0 => terms.push(format!("created:>{}", day(&mut rng))),
            1 => terms.push(format!("created:<={}", day(&mut rng))),
            2 => {
                let (a, b) = (day(&mut rng), day(&mut rng));
                let (a, b) = if a <= b { (a, b) } else { (b, a) };
                terms.push(format!("created:{a}..{b}"));
            }
            _ => {}
        }
        if rng.bool() {
            terms.push(format!("pushed:>{}", day(&mut rng)));
        }
        if terms.is_empty() {
            terms.push("fork:true".into());
        }
        let query = terms.join(" ");
        let want = search_truth(&hub, &query);
        let out = dir.path(&format!("p{n}.sqlite"));
        let output = run_search(&hub, &query, &out);
        if want.is_empty() {
            let text = fails_with(&output, 2);
            assert!(text.contains("nothing to crawl"), "{query}: {text}");
            continue;
        }
        success(&output);
        assert_eq!(ids(&out), want, "{query}");
    }
}

#[test]
fn leftovers_finish_listed_rows_waiting_for_detail_and_merged_databases_merge() {
    let hub = hub(8000, Options { latency: Duration::from_millis(15), ..options() });
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let first = dir.path("lo1.sqlite");
    success(&run(run_all_command(&hub, 2).args(["--deadline", "700ms", "--out"]).arg(&first)));
    let waiting = count(&first, "SELECT count(*) FROM repositories WHERE detail_fetched_at IS NULL");
    assert!(waiting > 0, "the deadline must leave listed rows without detail for this test to mean anything");
    let second = dir.path("lo2.sqlite");
    let leftovers = dir.path("lo1.sqlite.leftovers");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--retry-delay", "1ms", "--source", &format!("leftovers:{}", leftovers.display()), "--out"])
        .arg(&second)));
    // Both merged databases, of two plans, merge into the complete ground truth, detail included.
    let all = dir.path("all.sqlite");
    let text = success(&run(octoshard(&hub.url()).args(["merge", "--out"]).arg(&all).arg(&first).arg(&second)));
    assert_detail_equals_truth(&all, &hub, 0, end);
    assert_eq!(count(&all, "SELECT count(*) FROM repositories WHERE detail_fetched_at IS NULL"), 0);
    assert!(!dir.path("all.sqlite.leftovers").join("leftovers.yaml").exists(), "nothing is left: {text}");
    assert_eq!(count(&all, "SELECT count(DISTINCT plan_id) FROM work_items"), 2);
    // A merged database merges with itself and a shard-less copy again, to the same rows.
    let again = dir.path("again.sqlite");
    success(&run(octoshard(&hub.url()).args(["merge", "--out"]).arg(&again).arg(&all).arg(&first)));
    assert_detail_equals_truth(&again, &hub, 0, end);
}

#[test]
fn a_server_that_ignores_since_is_an_error_naming_the_url_not_an_endless_loop() {
    let hub = hub(2000, Options { ignore_since: true, ..options() });
    let dir = TestDir::new();
    let text = fails_with(
        &run(octoshard(&hub.url())
            .env("GITHUB_TOKEN", TOKEN)
            .args(["plan", "--source", "ids:0..", "--out"])
            .arg(dir.path("plan"))),
        1,
    );
    assert!(text.contains("/repositories?since=") && text.contains("does the server honour `since`"), "{text}");
    assert!(hub.stats().requests < 10, "{} requests", hub.stats().requests);
}

#[test]
fn a_next_link_to_another_host_fails_the_item_and_keeps_the_work() {
    let universe = UniverseConfig { repos: 20_000, seed: 1, ..UniverseConfig::default() };
    let hub = hub_with(universe, Options { link_base: Some("http://127.0.0.2:9".into()), ..options() });
    let (owner, repos) = hub.universe().owners_by_repo_count(OwnerType::Organization)[0];
    assert!(repos > 100, "two pages at least");
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    // Anonymously an organization's repositories come from the REST listing, page by `Link`
    // (with a token GraphQL's cursors page them, and no link is followed).
    let text = fails_with(
        &run(octoshard(&hub.url())
            .args(["run", "--anonymous", "--retry-delay", "1ms", "--source", &format!("org:{}", owner.login), "--out"])
            .arg(&out)),
        1,
    );
    assert!(text.contains("refusing to follow http://127.0.0.2:9/"), "{text}");
    let leftovers = std::fs::read_to_string(dir.path("x.sqlite.leftovers").join("leftovers.yaml")).unwrap();
    assert!(leftovers.contains("reason: failed") && leftovers.contains(&owner.login), "{leftovers}");
    assert!(count(&out, "SELECT count(*) FROM api_requests") >= 1, "the request is accounted");
    // An id range only takes the `since` number from the link, never its host: it completes.
    let ids_out = dir.path("ids.sqlite");
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--probes", "0", "--source", "ids:0..5000", "--out"])
        .arg(&ids_out)));
    assert_equals_truth(&ids_out, &hub, 0, 5000);
}

#[test]
fn an_empty_token_is_an_input_error_and_anonymous_must_be_asked_for() {
    let hub = hub(500, Options { anonymous_limit: 1000, ..options() });
    let dir = TestDir::new();
    let end = hub.universe().max_id() + 1;
    let source = format!("ids:0..{end}");
    let base = |out: &str| {
        let mut command = octoshard(&hub.url());
        command.args(["run", "--probes", "0", "--source", &source, "--out"]).arg(dir.path(out));
        command
    };
    for (name, value) in [("GITHUB_TOKEN", ""), ("GH_TOKEN", "  "), ("OCTOSHARD_TOKENS", ",\n")] {
        let text = fails_with(&run(base("x.sqlite").env(name, value)), 2);
        assert!(text.contains(&format!("{name} is empty")) && text.contains("--anonymous"), "{text}");
    }
    let text = fails_with(&run(base("x.sqlite").args(["--token", ""])), 2);
    assert!(text.contains("--token is empty"), "{text}");
    assert!(!dir.path("x.sqlite").exists() && !dir.path("x.sqlite.work").exists());
    assert_eq!(hub.stats().requests, 0, "nothing was sent");
    let out = dir.path("anon.sqlite");
    let text = success(&run(base("anon.sqlite").env("GITHUB_TOKEN", "").arg("--anonymous")));
    assert!(text.contains("anonymous"), "{text}");
    assert_equals_truth(&out, &hub, 0, end);
}

#[test]
fn a_long_budget_wait_is_logged_with_its_reason_and_length() {
    // Three listing pages on a budget of two per six seconds: the third waits for the reset.
    let hub = hub(200, Options { anonymous_limit: 2, window: Duration::from_secs(6), ..options() });
    assert!(hub.universe().max_id() > 200, "more than two pages");
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let text = success(&run(octoshard(&hub.url())
        .args(["run", "--anonymous", "--probes", "0", "--source", &format!("ids:0..{end}"), "--shards", "1", "--out"])
        .arg(dir.path("x.sqlite"))));
    assert!(
        text.lines().any(|l| (l.contains("rate limit") || l.contains("pacing")) && l.contains("core budget")),
        "{text}"
    );
}

#[test]
fn a_missing_organization_is_failed_work_with_a_hint_when_it_is_a_user() {
    let hub = hub_with(UniverseConfig { repos: 2000, seed: 9, ..UniverseConfig::default() }, options());
    let (user, _) = hub.universe().owners_by_repo_count(OwnerType::User)[0];
    let dir = TestDir::new();
    let hint = format!("`{}` is a user, not an organization: use user:{}", user.login, user.login);
    // With a token the listing is GraphQL's (which names the account's kind); anonymously the
    // REST listing's 404 (which a second request tells apart).
    for (source, anonymous, expected) in [
        (format!("org:{}", user.login), false, hint.clone()),
        (format!("org:{}", user.login), true, hint.clone()),
        (
            "org:no-such-account-here".to_string(),
            false,
            "GitHub has no account `no-such-account-here`: misspelled, renamed or deleted".to_string(),
        ),
        ("org:no-such-account-here".to_string(), true, "GitHub has no account by that name (404)".to_string()),
    ] {
        let out = dir.path("o.sqlite");
        let mut command = octoshard(&hub.url());
        if anonymous {
            command.arg("run").arg("--anonymous");
        } else {
            command.env("GITHUB_TOKEN", TOKEN).arg("run");
        }
        let text = fails_with(&run(command.args(["--source", &source, "--out"]).arg(&out)), 1);
        assert!(text.contains(&expected), "{text}");
        // The shard summary counts the requests that failed (they are in api_requests too).
        assert!(!text.contains(" 0 requests"), "{text}");
        let _ = std::fs::remove_dir_all(dir.path("o.sqlite.work"));
    }
}

#[test]
fn inputs_that_cannot_work_are_usage_errors_naming_the_reason() {
    let hub = hub(300, options());
    let dir = TestDir::new();
    let plan = |args: &[&str]| {
        let mut command = octoshard(&hub.url());
        command.env("GITHUB_TOKEN", TOKEN).arg("plan").args(args).arg("--out").arg(dir.path("p"));
        run(&mut command)
    };
    let missing = dir.path("nope.txt");
    let text = fails_with(&plan(&["--source", &format!("repos:{}", missing.display())]), 2);
    assert!(text.contains(&missing.display().to_string()), "{text}");
    let text = fails_with(&plan(&["--source", &format!("leftovers:{}", missing.display())]), 2);
    assert!(text.contains(&missing.display().to_string()), "{text}");
    let text = fails_with(&plan(&["--source", "ids:0..10", "--shards=-1"]), 2);
    assert!(text.contains("-1 is not in 1.."), "{text}");
    for (args, says) in [
        (&["--collect", "metadata,archive"][..], "collect `archive` needs a target: --archive-to"),
        (&["--archive-to", "s3://bucket/x"][..], "--archive-to is set but `archive` is not collected"),
        (&["--collect", "archive", "--archive-to", "gs://bucket"][..], "`gs://bucket` is not a folder"),
        (&["--collect", "archive", "--archive-to", "s3://Bad_Bucket"][..], "is not an S3 bucket name"),
        (&["--collect", "archive", "--archive-to", "a", "--archive-max-bytes", "5 parsecs"][..], "not a size unit"),
        (&["--archive-max-bytes", "5MB"][..], "--archive-max-bytes goes with --archive-to"),
    ] {
        let mut all = vec!["--source", "ids:0..10", "--probes", "0"];
        all.extend_from_slice(args);
        let text = fails_with(&plan(&all), 2);
        assert!(text.contains(says), "{args:?}: {text}");
        assert_eq!(text.trim().lines().count(), 1, "{text}");
    }
    let text = fails_with(&plan(&["--source", "trending", "--today", "2026-02-30"]), 2);
    assert!(text.contains("`2026-02-30` is not a YYYY-MM-DD date"), "{text}");
    let text = fails_with(
        &run(octoshard(&hub.url())
            .env("GITHUB_TOKEN", TOKEN)
            .env("GITHUB_GRAPHQL_URL", "ftp://nowhere")
            .args(["plan", "--source", "ids:0..", "--out"])
            .arg(dir.path("p"))),
        2,
    );
    assert!(text.contains("invalid GITHUB_GRAPHQL_URL `ftp://nowhere`"), "{text}");
    // An output under a regular file: the reason, not SQLite's "unable to open database file".
    let file = dir.write("file", "");
    let manifest = dir.write(
        "m.yaml",
        "version: 1\nplan_id: p\nshard: { index: 0, count: 1, name: shard-0000 }\nsource: ids:0..10\n\
         collect: [archive]\nwork: [{ kind: id_range, from: 0, to: 10 }]\nbudget: { requests_per_hour: 5000 }\n",
    );
    let text =
        fails_with(&run(octoshard(&hub.url()).args(["crawl", "--manifest"]).arg(&manifest).arg("--out").arg(&file)), 2);
    assert!(text.contains("collect `archive` needs a target"), "{text}");
    let good = dir.write("g.yaml", &std::fs::read_to_string(&manifest).unwrap().replace("[archive]", "[metadata]"));
    let folder = dir.path("folder");
    std::fs::create_dir(&folder).unwrap();
    let text = fails_with(
        &run(octoshard(&hub.url())
            .env("GITHUB_TOKEN", TOKEN)
            .args(["crawl", "--manifest"])
            .arg(&good)
            .arg("--out")
            .arg(&folder)),
        2,
    );
    assert!(text.contains("it is a folder"), "{text}");
    let text = fails_with(
        &run(octoshard(&hub.url())
            .env("GITHUB_TOKEN", TOKEN)
            .args(["crawl", "--manifest"])
            .arg(&good)
            .arg("--out")
            .arg(file.join("x.sqlite"))),
        1,
    );
    assert!(text.contains("exists") || text.contains("Not a directory"), "{text}");
}

#[test]
fn replanning_into_a_folder_removes_the_manifests_of_the_earlier_plan() {
    let dir = TestDir::new();
    let plan = dir.path("plan");
    let make = |shards: &str| {
        success(&run(octoshard("http://127.0.0.1:9")
            .args(["plan", "--probes", "0", "--source", "ids:0..100000", "--shards", shards, "--out"])
            .arg(&plan)))
    };
    make("8");
    let text = make("3");
    let names: Vec<String> = std::fs::read_dir(&plan)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("shard-"))
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(text.contains("removed 5 manifest(s) of an earlier plan"), "{text}");
}
