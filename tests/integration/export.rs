//! Export (issue 12) against a real PostgreSQL server and real files: every table's rows and
//! values arrive, a newer crawl upserts without duplicates, a killed export changes nothing, and
//! bad input (a wrong password, an incompatible table, a foreign database) is refused by name.
//! The server comes from `scripts/services.sh` (which `scripts/test.sh` runs).

use std::path::Path;
use std::time::Duration;

use fakehub::{FakeHub, Options, UniverseConfig};

use crate::util::*;

/// A variable `scripts/services.sh` sets; its absence is a setup error, never a skipped test.
fn service(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through scripts/test.sh (it starts scripts/services.sh)")
    })
}

/// Runs SQL with psql against `url`; returns the output rows (unaligned, `|` separated).
fn psql(url: &str, sql: &str) -> String {
    let output = std::process::Command::new(service("OCTOSHARD_TEST_PSQL"))
        .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .output()
        .unwrap();
    assert!(output.status.success(), "psql {sql}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// Empties the test database's public schema.
fn reset(url: &str) {
    psql(url, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
}

fn export(db: &Path, url: &str) -> std::process::Output {
    run(octoshard("http://127.0.0.1:9").args(["export", "--db"]).arg(db).args(["--to", url]))
}

/// A deep crawl of a small simulated GitHub.
fn crawl(hub: &FakeHub, out: &Path, previous: Option<&Path>) {
    let end = hub.universe().max_id() + 1;
    let mut command = octoshard(&hub.url());
    command.env("GITHUB_TOKEN", TOKEN).args([
        "run",
        "--no-pacing",
        "--probes",
        "0",
        "--source",
        &format!("ids:0..{end}"),
        "--collect",
        "metadata,pulls,issues,runs,contributors,commits",
        "--out",
    ]);
    command.arg(out);
    if let Some(previous) = previous {
        command.arg("--previous").arg(previous);
    }
    success(&run(&mut command));
}

const TABLES: &[&str] =
    &["repositories", "pull_requests", "issues", "ci_runs", "contributors", "commits", "stream_state"];

#[test]
fn postgres_gets_every_table_then_upserts_a_newer_crawl() {
    // One test owns the server's first database: the steps share its state.
    let url = service("OCTOSHARD_TEST_POSTGRES");
    reset(&url);
    let hub = hub_with(UniverseConfig { repos: 400, seed: 41, ..UniverseConfig::default() }, options());
    let dir = TestDir::new();
    let first = dir.path("day1.sqlite");
    crawl(&hub, &first, None);
    success(&export(&first, &url));
    for table in TABLES {
        let want = count(&first, &format!("SELECT count(*) FROM {table}"));
        let got: i64 = psql(&url, &format!("SELECT count(*) FROM {table}")).parse().unwrap();
        assert_eq!(got, want, "{table}");
    }
    // Values and types: a sample compared with SQL on both sides.
    let sample = "SELECT id, full_name, stargazers_count, fork, archived, topics FROM repositories ORDER BY id LIMIT 5";
    let sqlite: Vec<String> = {
        let conn = rusqlite::Connection::open(&first).unwrap();
        let mut statement = conn.prepare(sample).unwrap();
        statement
            .query_map([], |row| {
                Ok(format!(
                    "{}|{}|{}|{}|{}|{}",
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    if row.get::<_, bool>(3)? { "t" } else { "f" },
                    if row.get::<_, bool>(4)? { "t" } else { "f" },
                    serde_json::from_str::<serde_json::Value>(&row.get::<_, String>(5)?).unwrap()
                ))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let postgres: Vec<String> = psql(&url, &sample.replace("topics", "topics::text"))
        .lines()
        .map(|line| {
            let mut fields: Vec<String> = line.split('|').map(str::to_string).collect();
            let topics: serde_json::Value = serde_json::from_str(&fields[5]).unwrap();
            fields[5] = topics.to_string();
            fields.join("|")
        })
        .collect();
    assert_eq!(postgres, sqlite);
    assert_eq!(
        psql(
            &url,
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'issues' AND column_name = 'created_at'"
        ),
        "timestamp with time zone"
    );
    assert_eq!(psql(&url, "SELECT jsonb_typeof(labels) FROM pull_requests LIMIT 1"), "array");
    // New tables got their key and indexes (built after their COPY).
    assert_eq!(
        psql(
            &url,
            "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'repositories'"
        ),
        "repositories_created_at_idx,repositories_full_name_idx,repositories_head_sha_idx,repositories_language_idx,repositories_pkey"
    );
    // The same export again changes nothing: no row is even rewritten (their xmin stays).
    let versions = "SELECT md5(string_agg(xmin::text, ',' ORDER BY repo_id, issue_id)) FROM issues";
    let written = psql(&url, versions);
    success(&export(&first, &url));
    assert_eq!(psql(&url, "SELECT count(*) FROM issues"), count(&first, "SELECT count(*) FROM issues").to_string());
    assert_eq!(psql(&url, versions), written, "an export of the same rows rewrote some");
    // A table that exists but is empty is filled again (straight, without the upsert).
    psql(&url, "TRUNCATE commits");
    success(&export(&first, &url));
    assert_eq!(psql(&url, "SELECT count(*) FROM commits"), count(&first, "SELECT count(*) FROM commits").to_string());
    // A table an older octoshard made gets the columns a later schema added (the rows already
    // there are upserted only when newer, so theirs stay empty until then).
    psql(&url, "ALTER TABLE repositories DROP COLUMN head_sha");
    success(&export(&first, &url));
    assert_eq!(
        psql(
            &url,
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'repositories' AND column_name = 'head_sha'"
        ),
        "text"
    );

    // A day later: a newer crawl upserts (new rows added, changed rows replaced, none doubled).
    hub.universe().advance(1, 0.2, 7);
    let second = dir.path("day2.sqlite");
    crawl(&hub, &second, Some(&first));
    success(&export(&second, &url));
    for table in ["repositories", "pull_requests", "issues", "ci_runs", "commits"] {
        let want = count(&second, &format!("SELECT count(*) FROM {table}"));
        let got: i64 = psql(&url, &format!("SELECT count(*) FROM {table}")).parse().unwrap();
        assert_eq!(got, want, "{table} after the newer export");
    }
    let newest = "SELECT max(updated_at) FROM issues";
    let sqlite_newest = {
        let conn = rusqlite::Connection::open(&second).unwrap();
        conn.query_row(newest, [], |row| row.get::<_, String>(0)).unwrap()
    };
    let pg_newest =
        psql(&url, "SELECT to_char(max(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM issues");
    assert_eq!(pg_newest, sqlite_newest);
    // An older export after the newer one does not roll rows back.
    success(&export(&first, &url));
    assert_eq!(
        psql(&url, "SELECT to_char(max(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM issues"),
        sqlite_newest
    );

    // A kill in the middle of an export leaves the last committed state: all of the export or
    // none of it, whenever the kill comes.
    let old_state = || {
        reset(&url);
        success(&export(&first, &url));
        psql(&url, "SELECT (SELECT count(*) FROM issues) || '/' || (SELECT count(*) FROM commits)")
    };
    let before = old_state();
    success(&export(&second, &url));
    let after = psql(&url, "SELECT (SELECT count(*) FROM issues) || '/' || (SELECT count(*) FROM commits)");
    assert_ne!(before, after, "the newer crawl adds rows");
    let mut interrupted = 0;
    for delay_ms in [5u64, 15, 30, 60, 100, 150] {
        old_state();
        let mut child = octoshard("http://127.0.0.1:9")
            .args(["export", "--db"])
            .arg(&second)
            .args(["--to", &url])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        child.wait().unwrap();
        let state = psql(&url, "SELECT (SELECT count(*) FROM issues) || '/' || (SELECT count(*) FROM commits)");
        assert!(
            state == before || state == after,
            "a kill at {delay_ms} ms left {state} (before {before}, after {after})"
        );
        interrupted += usize::from(state == before);
    }
    assert!(interrupted > 0, "at least one kill came before the commit");
}

#[test]
fn bad_targets_and_inputs_are_refused_by_name_and_change_nothing() {
    let url = service("OCTOSHARD_TEST_POSTGRES_B");
    reset(&url);
    let hub = hub_with(UniverseConfig { repos: 100, seed: 42, ..UniverseConfig::default() }, options());
    let dir = TestDir::new();
    let db = dir.path("x.sqlite");
    crawl(&hub, &db, None);
    // A table of the same name with another shape: refused by name, left as it was.
    psql(&url, "CREATE TABLE issues (repo_id bigint, issue_id text); INSERT INTO issues VALUES (1, 'mine');");
    let text = fails_with(&export(&db, &url), 2);
    assert!(text.contains("PostgreSQL table issues") && text.contains("issue_id"), "{text}");
    assert_eq!(psql(&url, "SELECT issue_id FROM issues"), "mine");
    assert_eq!(
        psql(&url, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'repositories'"),
        "0",
        "nothing else was created"
    );
    // A wrong password: a clear error that does not print it.
    let wrong = url.replace("octoshard-test", "not-the-password");
    let text = fails_with(&export(&db, &wrong), 1);
    assert!(
        text.contains("cannot connect to PostgreSQL at 127.0.0.1:") && !text.contains("not-the-password"),
        "{text}"
    );
    // Nobody listening.
    let text = fails_with(&export(&db, "postgres://octoshard@127.0.0.1:9/octoshard"), 1);
    assert!(text.contains("cannot connect to PostgreSQL at 127.0.0.1:9"), "{text}");
    // Not an octoshard database.
    let foreign = dir.path("foreign.sqlite");
    rusqlite::Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
    let text = fails_with(&export(&foreign, &url), 2);
    assert!(text.contains("not an octoshard database"), "{text}");
    // A missing table in --tables.
    let text = fails_with(
        &run(octoshard("http://127.0.0.1:9")
            .args(["export", "--db"])
            .arg(&db)
            .args(["--to", &url, "--tables", "nope"])),
        2,
    );
    assert!(text.contains("no table `nope`"), "{text}");
    // PG* variables fill what the URL leaves out.
    psql(&url, "DROP TABLE issues");
    let text = success(&run(octoshard("http://127.0.0.1:9")
        .env("PGPASSWORD", "octoshard-test")
        .args(["export", "--db"])
        .arg(&db)
        .args(["--tables", "repositories", "--to", &url.replace(":octoshard-test", "")])));
    assert!(!text.contains("octoshard-test"), "{text}");
    assert_eq!(
        psql(&url, "SELECT count(*) FROM repositories"),
        count(&db, "SELECT count(*) FROM repositories").to_string()
    );
}

#[test]
fn jsonl_and_csv_files_hold_every_row_of_every_table() {
    let hub = hub_with(UniverseConfig { repos: 150, seed: 43, ..UniverseConfig::default() }, Options { ..options() });
    let dir = TestDir::new();
    let db = dir.path("x.sqlite");
    crawl(&hub, &db, None);
    for format in ["jsonl", "csv"] {
        let out = dir.path(format);
        success(&run(octoshard("http://127.0.0.1:9")
            .args(["export", "--db"])
            .arg(&db)
            .args(["--format", format, "--out"])
            .arg(&out)));
        for table in TABLES {
            let text = std::fs::read_to_string(out.join(format!("{table}.{format}"))).unwrap();
            let want = count(&db, &format!("SELECT count(*) FROM {table}")) as usize;
            match format {
                "jsonl" => {
                    let rows: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
                    assert_eq!(rows.len(), want, "{table}.jsonl");
                    if *table == "repositories" {
                        assert!(rows.iter().all(|r| r["topics"].is_array() && r["fork"].is_boolean()));
                    }
                }
                _ => {
                    // Records, not lines (titles may hold line breaks), read by Python's csv module.
                    let output = std::process::Command::new(service("OCTOSHARD_TEST_PYTHON"))
                        .args(["-c", "import csv, sys; rows = list(csv.reader(open(sys.argv[1], newline=''))); print(len(rows) - 1, len(rows[0]))"])
                        .arg(out.join(format!("{table}.csv")))
                        .output()
                        .unwrap();
                    let answer = String::from_utf8_lossy(&output.stdout).trim().to_string();
                    let columns = count(&db, &format!("SELECT count(*) FROM pragma_table_info('{table}')"));
                    assert_eq!(
                        answer,
                        format!("{want} {columns}"),
                        "{table}.csv: {}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                    assert!(!text.is_empty());
                }
            }
        }
    }
}

#[test]
fn datasette_serves_a_full_text_search_of_the_merged_file() {
    let hub = hub_with(UniverseConfig { repos: 300, seed: 44, ..UniverseConfig::default() }, options());
    let dir = TestDir::new();
    let db = dir.path("crawl.sqlite");
    let end = hub.universe().max_id() + 1;
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--probes", "0", "--source", &format!("ids:0..{end}"), "--out"])
        .arg(&db)));
    // A word of one repository's name, to search for.
    let (id, word) = listed_in_db(&db)
        .into_iter()
        .find_map(|r| {
            r.name
                .split(|c: char| !c.is_ascii_alphanumeric())
                .find(|w| w.len() >= 6 && w.chars().all(|c| c.is_ascii_lowercase()))
                .map(|w| (r.id, w.to_string()))
        })
        .expect("a repository with a plain word in its name");
    let meta = dir.path("meta");
    success(&run(octoshard("http://127.0.0.1:9")
        .args(["export", "--db"])
        .arg(&db)
        .args(["--format", "datasette-metadata", "--out"])
        .arg(&meta)));
    let output = std::process::Command::new(service("OCTOSHARD_TEST_DATASETTE"))
        .arg(&db)
        .arg("--metadata")
        .arg(meta.join("metadata.json"))
        .args(["--get", &format!("/crawl/repositories.json?_search={word}&_shape=array&_col=id")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "datasette: {}{text}", String::from_utf8_lossy(&output.stderr));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap();
    assert!(rows.iter().any(|r| r["id"] == id), "searching `{word}` found {rows:?}, not {id}");
    // The facets and descriptions are there for Datasette to show.
    let metadata: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(meta.join("metadata.json")).unwrap()).unwrap();
    let repositories = &metadata["databases"]["crawl"]["tables"]["repositories"];
    assert_eq!(repositories["facets"], serde_json::json!(["language", "license", "archived", "fork"]));
    assert_eq!(repositories["fts_table"], "repositories_fts");
}

#[test]
fn parquet_files_read_back_in_pyarrow_and_duckdb_with_their_types_and_values() {
    let hub = hub_with(UniverseConfig { repos: 250, seed: 45, ..UniverseConfig::default() }, options());
    let dir = TestDir::new();
    let db = dir.path("x.sqlite");
    crawl(&hub, &db, None);
    let out = dir.path("parquet");
    success(&run(octoshard("http://127.0.0.1:9")
        .args(["export", "--db"])
        .arg(&db)
        .args(["--format", "parquet", "--out"])
        .arg(&out)));
    let script = r#"
import json, sys, pyarrow.parquet as pq, duckdb
out = sys.argv[1]
result = {}
for table in sys.argv[2:]:
    t = pq.read_table(f"{out}/{table}.parquet")
    result[table] = {"rows": t.num_rows, "types": {f.name: str(f.type) for f in t.schema}}
r = pq.read_table(f"{out}/repositories.parquet").to_pylist()
result["sample"] = [[x["id"], x["full_name"], x["fork"], x["created_at"].isoformat()] for x in sorted(r, key=lambda x: x["id"])[:3]]
result["duckdb"] = duckdb.sql(f"SELECT count(*), sum(CASE WHEN merged_at IS NOT NULL THEN 1 ELSE 0 END) FROM '{out}/pull_requests.parquet'").fetchall()[0]
print(json.dumps(result))
"#;
    let output = std::process::Command::new(service("OCTOSHARD_TEST_PYTHON"))
        .args(["-c", script])
        .arg(&out)
        .args(TABLES)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    for table in TABLES {
        assert_eq!(result[table]["rows"], count(&db, &format!("SELECT count(*) FROM {table}")), "{table}");
    }
    let types = &result["repositories"]["types"];
    assert_eq!(types["created_at"], "timestamp[us, tz=UTC]");
    assert_eq!(types["fork"], "bool");
    assert_eq!(types["stargazers_count"], "int64");
    assert_eq!(types["full_name"], "string");
    assert!(types["topics"].as_str().unwrap().contains("json"), "{types}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut statement =
        conn.prepare("SELECT id, full_name, fork, created_at FROM repositories ORDER BY id LIMIT 3").unwrap();
    let want: Vec<serde_json::Value> = statement
        .query_map([], |row| {
            let created: String = row.get(3)?;
            Ok(serde_json::json!([
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
                created.replace('Z', "+00:00")
            ]))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(result["sample"], serde_json::Value::Array(want));
    let merged = count(&db, "SELECT count(*) FROM pull_requests WHERE merged_at IS NOT NULL");
    assert_eq!(result["duckdb"], serde_json::json!([count(&db, "SELECT count(*) FROM pull_requests"), merged]));
}
