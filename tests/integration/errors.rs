//! Bad input gets one clear line naming the thing and the reason, the documented exit code, no
//! panic, and no partial output.

use crate::util::*;

const NOWHERE: &str = "http://127.0.0.1:9";

#[test]
fn a_nonsense_source_is_a_usage_error_and_writes_nothing() {
    let dir = TestDir::new();
    let out = dir.path("plan");
    let text = fails_with(
        &run(octoshard(NOWHERE).args(["plan", "--probes", "0", "--source", "nonsense", "--out"]).arg(&out)),
        2,
    );
    assert!(text.contains("invalid source `nonsense`: unknown source kind `nonsense`"), "{text}");
    assert!(!out.exists());
}

#[test]
fn an_empty_id_range_is_a_usage_error() {
    let dir = TestDir::new();
    let out = dir.path("plan");
    let text = fails_with(
        &run(octoshard(NOWHERE).args(["plan", "--probes", "0", "--source", "ids:9..3", "--out"]).arg(&out)),
        2,
    );
    assert!(text.contains("invalid source `ids:9..3`: the range is empty"), "{text}");
    assert!(!out.exists());
}

#[test]
fn a_missing_manifest_is_named() {
    let dir = TestDir::new();
    let out = dir.path("s.sqlite");
    let manifest = dir.path("nope.yaml");
    let text =
        fails_with(&run(octoshard(NOWHERE).args(["crawl", "--manifest"]).arg(&manifest).arg("--out").arg(&out)), 2);
    assert!(text.contains(&format!("cannot read manifest {}", manifest.display())), "{text}");
    assert!(!out.exists());
}

#[test]
fn a_manifest_with_an_unknown_field_is_refused() {
    let dir = TestDir::new();
    let manifest = dir.write(
        "m.yaml",
        "version: 1\nplan_id: p\nshard: { index: 0, count: 1, name: shard-0000 }\nsource: ids:0..10\n\
         collect: [metadata]\nwork: [{ kind: id_range, from: 0, to: 10 }]\nbudget: { requests_per_hour: 5000 }\ncolour: blue\n",
    );
    let out = dir.path("s.sqlite");
    let text =
        fails_with(&run(octoshard(NOWHERE).args(["crawl", "--manifest"]).arg(&manifest).arg("--out").arg(&out)), 2);
    assert!(text.contains("invalid manifest") && text.contains("unknown field `colour`"), "{text}");
    assert!(!out.exists());
}

#[test]
fn an_unreachable_api_fails_fast_and_leaves_nothing() {
    let dir = TestDir::new();
    let plan = dir.path("plan");
    success(&run(octoshard(NOWHERE)
        .args(["plan", "--probes", "0", "--source", "ids:0..100", "--shards", "1", "--out"])
        .arg(&plan)));
    for out in ["s.sqlite", "s.sqlite.gz"] {
        let out = dir.path(out);
        let started = std::time::Instant::now();
        let text = fails_with(
            &run(octoshard(NOWHERE)
                .args(["crawl", "--retry-delay", "10ms", "--manifest"])
                .arg(plan.join("shard-0000.yaml"))
                .arg("--out")
                .arg(&out)),
            1,
        );
        assert!(text.contains("GitHub API at http://127.0.0.1:9/repositories?since=0 is unreachable"), "{text}");
        assert!(text.contains("hint: check GITHUB_API_URL"), "{text}");
        assert!(started.elapsed().as_secs() < 20, "gave up quickly");
        assert_eq!(dir.listing().iter().filter(|n| n.starts_with("s.sqlite")).count(), 0, "{:?}", dir.listing());
    }
    let out = dir.path("r.sqlite");
    let text = fails_with(
        &run(octoshard(NOWHERE)
            .args(["run", "--retry-delay", "10ms", "--probes", "0", "--source", "ids:0..1000", "--out"])
            .arg(&out)),
        1,
    );
    assert!(text.contains("is unreachable"), "{text}");
    assert!(!dir.listing().iter().any(|n| n.starts_with("r.sqlite")), "run leaves nothing: {:?}", dir.listing());
}

#[test]
fn an_invalid_api_url_is_a_usage_error() {
    let dir = TestDir::new();
    let text = fails_with(
        &run(octoshard("not a url")
            .args(["run", "--probes", "0", "--source", "ids:0..10", "--out"])
            .arg(dir.path("x.sqlite"))),
        2,
    );
    assert!(text.contains("invalid GITHUB_API_URL `not a url`"), "{text}");
}

#[test]
fn merge_names_a_non_sqlite_input_and_writes_nothing_without_good_ones() {
    let dir = TestDir::new();
    let bad = dir.write("notes.sqlite", "hello, I am not a database");
    let out = dir.path("merged.sqlite");
    let text = fails_with(&run(octoshard(NOWHERE).args(["merge", "--out"]).arg(&out).arg(&bad)), 2);
    assert!(text.contains(&format!("{}: not a SQLite database or a gzip file", bad.display())), "{text}");
    assert!(!out.exists());
}

#[test]
fn unknown_flags_and_missing_arguments_are_usage_errors() {
    fails_with(&run(octoshard(NOWHERE).args(["plan", "--probes", "0", "--source", "ids:0..1"])), 2);
    fails_with(&run(octoshard(NOWHERE).args(["crawl", "--bogus"])), 2);
    let text = fails_with(
        &run(octoshard(NOWHERE).args([
            "plan",
            "--probes",
            "0",
            "--source",
            "ids:0..9",
            "--collect",
            "everything",
            "--out",
            "x",
        ])),
        2,
    );
    assert!(text.contains("--collect: `everything`"), "{text}");
}

#[test]
fn the_version_names_the_commit_and_every_database_records_it() {
    let hub = hub(300, options());
    let output = run(octoshard(&hub.url()).arg("--version"));
    let text = stdout(&output);
    let line = text.trim();
    let rest = line.strip_prefix(&format!("octoshard {} (commit ", env!("CARGO_PKG_VERSION"))).unwrap_or("");
    let commit = rest.strip_suffix(')').unwrap_or("");
    assert!(commit == "unknown" || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())), "{line}");
    let dir = TestDir::new();
    let out = dir.path("x.sqlite");
    let end = hub.universe().max_id() + 1;
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--probes", "0", "--source", &format!("ids:0..{end}"), "--out"])
        .arg(&out)));
    let conn = rusqlite::Connection::open(&out).unwrap();
    let meta = |key: &str| -> String {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| row.get(0)).unwrap()
    };
    assert_eq!(
        (meta("tool_version"), meta("tool_commit")),
        (env!("CARGO_PKG_VERSION").to_string(), commit.to_string())
    );
}
