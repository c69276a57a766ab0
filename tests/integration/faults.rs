//! Reliability: a crawl killed at many random moments, a network that resets, truncates, garbles
//! and stalls, and a disk that fills up all end in exactly the ground truth, or in a named error
//! with the unfinished work kept.

use std::process::Stdio;
use std::time::{Duration, Instant};

use fakehub::{Options, UniverseConfig};

use crate::util::*;

/// Plans `ids:0..end` into one shard (no probes) and returns its manifest.
fn one_shard(hub: &fakehub::FakeHub, dir: &TestDir) -> std::path::PathBuf {
    let end = hub.universe().max_id() + 1;
    plan_ids(hub, &dir.path("plan"), end, 1).join("shard-0000.yaml")
}

fn crawl(hub: &fakehub::FakeHub, manifest: &std::path::Path, out: &std::path::Path) -> std::process::Command {
    let mut command = octoshard(&hub.url());
    command
        .env("GITHUB_TOKEN", TOKEN)
        .args(["crawl", "--retry-delay", "1ms", "--manifest"])
        .arg(manifest)
        .arg("--out")
        .arg(out);
    command
}

/// The repositories of a shard output (unpacking `.gz` beside it).
fn database(out: &std::path::Path, dir: &TestDir) -> std::path::PathBuf {
    if out.extension().is_some_and(|e| e == "gz") {
        let plain = dir.path("unpacked.sqlite");
        octoshard::artifact::gunzip(out, &plain).unwrap();
        plain
    } else {
        out.to_path_buf()
    }
}

#[test]
fn twenty_four_kills_at_random_moments_resume_to_the_ground_truth() {
    let hub = hub(3000, Options { latency: Duration::from_millis(2), ..options() });
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let manifest = one_shard(&hub, &dir);
    let out = dir.path("shard.sqlite.gz");
    // Seeded, so a failure replays: kill after a random number of answered requests (between
    // pages, mid-transaction, during detail) or after a random delay (anywhere, also while
    // compressing the artifact).
    let mut rng = fastrand::Rng::with_seed(20261123);
    let mut kills = 0;
    let mut finished = false;
    for round in 0..40 {
        if kills == 24 {
            break;
        }
        let start = hub.stats().requests;
        let mut child = crawl(&hub, &manifest, &out).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let by_requests = round % 2 == 0;
        let after_requests = start + rng.u64(1..6);
        let after_time = Instant::now() + Duration::from_millis(rng.u64(5..120));
        let give_up = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "crawl failed on its own in round {round}");
                finished = true;
                break;
            }
            let due = if by_requests { hub.stats().requests >= after_requests } else { Instant::now() >= after_time };
            if due {
                child.kill().unwrap();
                child.wait().unwrap();
                kills += 1;
                break;
            }
            assert!(Instant::now() < give_up, "no progress in round {round}");
            std::thread::sleep(Duration::from_millis(1));
        }
        if finished {
            break;
        }
    }
    assert!(kills >= 20, "{kills} kills before the crawl finished");
    // What a crash leaves behind (working database, its journal) holds no token.
    for entry in std::fs::read_dir(dir.path("")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(!bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()), "{} holds the token", path.display());
        }
    }
    success(&run(&mut crawl(&hub, &manifest, &out)));
    let db = database(&out, &dir);
    assert_equals_truth(&db, &hub, 0, end);
    assert_detail_equals_truth(&db, &hub, 0, end);
    assert_eq!(
        count(&db, "SELECT count(*) FROM repositories"),
        count(&db, "SELECT count(DISTINCT id) FROM repositories")
    );
    assert_eq!(count(&db, "SELECT count(*) FROM work_items WHERE status = 'completed'"), 1);
}

#[test]
fn resets_truncation_garbage_and_stalls_end_in_the_ground_truth() {
    let config = UniverseConfig { repos: 6000, seed: 12, ..UniverseConfig::default() };
    let hub = hub_with(
        config,
        Options {
            fault_5xx: 0.10,
            fault_reset: 0.02,
            fault_truncate: 0.01,
            fault_malformed: 0.02,
            slow_fraction: 0.01,
            slow_delay: Duration::from_millis(1500),
            seed: 9,
            ..options()
        },
    );
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    run_all(&hub, &out, 3, &["--max-retries", "12", "--timeout", "500ms"]);
    let end = hub.universe().max_id() + 1;
    assert_equals_truth(&out, &hub, 0, end);
    assert_detail_equals_truth(&out, &hub, 0, end);
    let stats = hub.stats();
    assert!(
        stats.faults_5xx > 0 && stats.faults_reset > 0 && stats.faults_truncate > 0 && stats.faults_malformed > 0,
        "every fault was injected: {stats:?}"
    );
    let timeouts = count(&out, "SELECT count(*) FROM api_requests WHERE status = 0 AND error LIKE '%timed out%'");
    assert!(timeouts > 0, "slow responses hit the timeout and were retried");
    let failed = count(&out, "SELECT count(*) FROM api_requests WHERE status = 0 OR status >= 500");
    assert!(failed > 0, "failed attempts are recorded");
}

#[test]
fn json_that_stays_garbled_is_a_failed_work_item_with_its_reason() {
    let hub = hub(800, Options { fault_malformed: 1.0, ..options() });
    let dir = TestDir::new();
    let manifest = one_shard(&hub, &dir);
    let out = dir.path("x.sqlite");
    let output = run(crawl(&hub, &manifest, &out).args(["--max-retries", "2"]));
    assert!(!output.status.success(), "the crawl reports the failure");
    assert!(stderr(&output).contains("shard-0000"), "{}", stderr(&output));
    assert_eq!(count(&out, "SELECT count(*) FROM work_items WHERE status = 'failed'"), 1);
    let conn = rusqlite::Connection::open(&out).unwrap();
    let reason: String = conn.query_row("SELECT error FROM work_items", [], |r| r.get(0)).unwrap();
    assert!(reason.contains("JSON"), "the reason names the problem: {reason}");
    assert_eq!(count(&out, "SELECT count(*) FROM repositories"), 0, "nothing half-parsed was stored");
}

/// Runs a command under a file-size limit (`ulimit -f`, in KiB) with SIGXFSZ ignored, so writes past
/// the limit fail with EFBIG the way they fail with ENOSPC on a full disk.
fn with_file_limit(kib: u64, command: &std::process::Command) -> std::process::Command {
    let mut limited = std::process::Command::new("bash");
    limited.arg("-c").arg(format!("ulimit -f {kib}; trap '' XFSZ; exec \"$0\" \"$@\"")).arg(command.get_program());
    limited.args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => limited.env(key, value),
            None => limited.env_remove(key),
        };
    }
    limited
}

#[test]
fn a_full_disk_is_a_clear_error_and_the_crawl_resumes_when_space_is_back() {
    let hub = hub(6000, options());
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let manifest = one_shard(&hub, &dir);
    let out = dir.path("shard.sqlite.gz");
    let output = run(&mut with_file_limit(512, &crawl(&hub, &manifest, &out)));
    assert!(!output.status.success(), "the crawl cannot finish in 512 KiB");
    let message = stderr(&output);
    assert!(message.contains("error:") && !message.contains("panicked"), "{message}");
    assert!(message.contains("hint: the disk may be full"), "the error says what happened: {message}");
    if out.exists() {
        // What was stored before the disk filled is packed as a whole, consistent artifact.
        let check = dir.path("check.sqlite");
        octoshard::artifact::gunzip(&out, &check).expect("a complete gzip file");
        let conn = rusqlite::Connection::open(&check).unwrap();
        let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(verdict, "ok");
    }
    success(&run(&mut crawl(&hub, &manifest, &out)));
    let db = database(&out, &dir);
    assert_equals_truth(&db, &hub, 0, end);
    assert_detail_equals_truth(&db, &hub, 0, end);

    // Merge into a full disk: a clear error, and an existing output is left as it was.
    let merged = dir.path("merged.sqlite");
    std::fs::write(&merged, b"the previous merge").unwrap();
    let mut merge = octoshard(&hub.url());
    merge.args(["merge", "--out"]).arg(&merged).arg(&out);
    let output = run(&mut with_file_limit(256, &merge));
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("hint: the disk may be full"), "{message}");
    assert_eq!(std::fs::read(&merged).unwrap(), b"the previous merge", "a failed merge leaves the old file");
    success(&run(&mut merge));
    assert_equals_truth(&merged, &hub, 0, end);
}

/// Writes `bytes` gzip-compressed.
fn gzip_bytes(path: &std::path::Path, bytes: &[u8]) {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(std::fs::File::create(path).unwrap(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap();
}

#[test]
fn hostile_merge_inputs_are_refused_by_name_and_the_rest_merge_atomically() {
    let hub = hub(2000, options());
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let plan_dir = dir.path("plan");
    let plan = |out: &std::path::Path, to: u64| plan_ids(&hub, out, to, 3);
    plan(&plan_dir, end);
    let crawl_to = |manifest: std::path::PathBuf, out: &std::path::Path| {
        success(&run(&mut crawl(&hub, &manifest, out)));
    };
    let inputs = dir.path("artifacts");
    let attempt =
        |shard: &str, n: u32| inputs.join(format!("octoshard-{shard}-a{n}")).join(format!("{shard}.sqlite.gz"));
    for shard in ["shard-0000", "shard-0001", "shard-0002"] {
        std::fs::create_dir_all(attempt(shard, 1).parent().unwrap()).unwrap();
        crawl_to(plan_dir.join(format!("{shard}.yaml")), &attempt(shard, 1));
    }
    // A re-run job's second attempt of shard-0001 (crawled later: it wins).
    std::fs::create_dir_all(attempt("shard-0001", 2).parent().unwrap()).unwrap();
    crawl_to(plan_dir.join("shard-0001.yaml"), &attempt("shard-0001", 2));

    let hostile = dir.path("hostile");
    std::fs::create_dir_all(&hostile).unwrap();
    let good = std::fs::read(attempt("shard-0000", 1)).unwrap();
    std::fs::write(hostile.join("truncated.sqlite.gz"), &good[..good.len() / 3]).unwrap();
    let mut rng = fastrand::Rng::with_seed(6);
    let noise: Vec<u8> = (0..50_000).map(|_| rng.u8(..)).collect();
    std::fs::write(hostile.join("random.sqlite"), &noise).unwrap();
    gzip_bytes(&hostile.join("random.sqlite.gz"), &noise);
    let mut fake_sqlite = b"SQLite format 3\0".to_vec();
    fake_sqlite.extend_from_slice(&noise[..8000]);
    std::fs::write(hostile.join("garbage-after-magic.sqlite"), &fake_sqlite).unwrap();
    {
        let conn = rusqlite::Connection::open(hostile.join("other-schema.sqlite")).unwrap();
        conn.execute_batch(
            "CREATE TABLE repositories (id INTEGER, name TEXT); INSERT INTO repositories VALUES (1, 'x');",
        )
        .unwrap();
    }
    let future = hostile.join("future-version.sqlite");
    octoshard::artifact::gunzip(&attempt("shard-0002", 1), &future).unwrap();
    rusqlite::Connection::open(&future).unwrap().execute_batch("PRAGMA user_version = 99;").unwrap();
    let escaping = hostile.join("escaping-name.sqlite");
    octoshard::artifact::gunzip(&attempt("shard-0002", 1), &escaping).unwrap();
    rusqlite::Connection::open(&escaping)
        .unwrap()
        .execute("UPDATE meta SET value = '../../etc/passwd' WHERE key = 'shard'", [])
        .unwrap();
    let other_plan = dir.path("other-plan");
    plan(&other_plan, end / 2);
    let foreign = dir.path("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    crawl_to(other_plan.join("shard-0000.yaml"), &foreign.join("other-plan.sqlite.gz"));

    let merged = dir.path("merged.sqlite");
    std::fs::write(&merged, b"the previous merge").unwrap();
    let merge = |extra: &[&std::path::Path]| {
        let mut command = octoshard(&hub.url());
        command.args(["merge", "--plan"]).arg(&plan_dir).arg("--out").arg(&merged).arg(&inputs);
        command.args(extra);
        run(&mut command)
    };
    // Only hostile inputs: nothing usable, and the old output is untouched.
    let only_hostile = run(octoshard(&hub.url()).args(["merge", "--out"]).arg(&merged).arg(&hostile));
    let text = fails_with(&only_hostile, 2);
    assert!(text.contains("nothing to merge"), "{text}");
    assert_eq!(std::fs::read(&merged).unwrap(), b"the previous merge");

    // Everything together: every hostile input is refused by name, the rest merge.
    // The artifacts folder is also named through `..` and as an absolute path: same files, taken once.
    let dotted = dir.path("hostile/../artifacts");
    let absolute = std::fs::canonicalize(&inputs).unwrap();
    let output = merge(&[hostile.as_path(), foreign.as_path(), dotted.as_path(), absolute.as_path()]);
    let text = fails_with(&output, 2);
    let named = |name: &str| hostile.join(name);
    for (path, reason) in [
        (named("truncated.sqlite.gz"), "not a valid gzip file"),
        (named("random.sqlite"), "not a SQLite database or a gzip file"),
        (named("random.sqlite.gz"), "does not hold a SQLite database"),
        (named("garbage-after-magic.sqlite"), "integrity check failed"),
        (named("other-schema.sqlite"), "not an octoshard database"),
        (named("future-version.sqlite"), "schema version 99"),
        (named("escaping-name.sqlite"), "shard name `../../etc/passwd`"),
        (foreign.join("other-plan.sqlite.gz"), "belongs to plan"),
    ] {
        let line = text.lines().find(|l| l.contains(&format!("refused {}", path.display())));
        let line = line.unwrap_or_else(|| panic!("{} is refused by name:\n{text}", path.display()));
        assert!(line.contains(reason), "{line}");
    }
    assert_eq!(text.matches("skipped ").count(), 1, "each file is taken once, the older attempt skipped:\n{text}");
    assert!(
        text.contains(&format!("skipped {}", attempt("shard-0001", 1).display())),
        "the older attempt is skipped:\n{text}"
    );
    assert_equals_truth(&merged, &hub, 0, end);
    assert_eq!(count(&merged, "SELECT count(DISTINCT shard) FROM shard_runs"), 3);
    assert!(
        !dir.path("").read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".octoshard-merge")),
        "no temporary file is left"
    );
}

#[test]
fn a_crawl_killed_while_tracing_never_logged_its_token() {
    let hub = hub(2000, Options { latency: Duration::from_millis(2), ..options() });
    let dir = TestDir::new();
    let manifest = one_shard(&hub, &dir);
    let out = dir.path("shard.sqlite");
    let mut child = crawl(&hub, &manifest, &out)
        .args(["-vv"])
        .env("GITHUB_ACTIONS", "false")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let give_up = Instant::now() + Duration::from_secs(60);
    while hub.stats().requests < 6 {
        assert!(
            Instant::now() < give_up && child.try_wait().unwrap().is_none(),
            "the crawl ran long enough to be killed"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(log.contains("TRACE") || log.contains("DEBUG"), "trace logging was on:\n{log}");
    assert!(!log.contains(TOKEN), "the token reached the log");
}
