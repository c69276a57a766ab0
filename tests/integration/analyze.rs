//! `octoshard analyze`: every crawled repository gets the category and score the documented rules
//! give (recomputed here from the repositories table and the printed default rules), re-runs
//! analyse only what changed, a rules file replaces the rules and a bad one is refused in one
//! line, and the LLM analyzer against a fake OpenAI-compatible endpoint on 127.0.0.1: batches cut
//! to the context size, a malformed answer retried then failed, a timeout, the cost cap.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::deep::rows;
use crate::util::*;

/// A database crawled (with detail) from a simulated GitHub of `repos` repositories.
fn crawled(dir: &TestDir, repos: usize) -> PathBuf {
    let hub = hub(repos, options());
    let db = dir.path("repos.sqlite");
    run_all(&hub, &db, 2, &["--no-pacing"]);
    db
}

/// `octoshard analyze --db DB ARGS...`, without any LLM setting from the environment.
fn analyze(db: &Path, args: &[&str]) -> Output {
    run(analyze_command(db).args(args))
}

fn analyze_command(db: &Path) -> std::process::Command {
    let mut command = octoshard("http://127.0.0.1:9");
    for name in ["OCTOSHARD_LLM_URL", "OCTOSHARD_LLM_MODEL", "OCTOSHARD_LLM_KEY"] {
        command.env_remove(name);
    }
    command.arg("analyze").arg("--db").arg(db);
    command
}

fn sql(db: &Path, statement: &str) {
    rusqlite::Connection::open(db).unwrap().execute_batch(statement).unwrap();
}

/// A repository as the test reads it.
struct Repo {
    id: i64,
    description: Option<String>,
    language: Option<String>,
    topics: Vec<String>,
    stars: i64,
    forks: i64,
    open_issues: i64,
    fork: bool,
    archived: bool,
    license: Option<String>,
    pushed_at: Option<String>,
}

fn repositories(db: &Path) -> Vec<Repo> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT id, description, language, topics, stargazers_count, forks_count, open_issues_count, fork,
                    archived, license, pushed_at FROM repositories ORDER BY id",
        )
        .unwrap();
    statement
        .query_map([], |row| {
            let topics: Option<String> = row.get(3)?;
            Ok(Repo {
                id: row.get(0)?,
                description: row.get(1)?,
                language: row.get(2)?,
                topics: topics.map(|t| serde_json::from_str(&t).unwrap()).unwrap_or_default(),
                stars: row.get::<_, Option<i64>>(4)?.unwrap_or(0),
                forks: row.get::<_, Option<i64>>(5)?.unwrap_or(0),
                open_issues: row.get::<_, Option<i64>>(6)?.unwrap_or(0),
                fork: row.get::<_, Option<bool>>(7)?.unwrap_or(false),
                archived: row.get::<_, Option<bool>>(8)?.unwrap_or(false),
                license: row.get(9)?,
                pushed_at: row.get(10)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn epoch_day(rfc3339: &str) -> i64 {
    let at = humantime::parse_rfc3339(rfc3339).unwrap();
    (at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 86_400) as i64
}

/// The reference day: the date of the newest fetched_at.
fn reference_day(db: &Path) -> i64 {
    let newest = rows(db, "SELECT max(fetched_at) FROM repositories").into_iter().next().unwrap();
    epoch_day(&format!("{}T00:00:00Z", &newest[..10]))
}

/// The default score, as docs/ANALYZE.md states it.
fn expected_score(r: &Repo, reference: i64) -> f64 {
    let log = |n: i64, full: f64| ((n as f64 + 1.0).log10() / (full + 1.0).log10()).min(1.0);
    let flag = |on: bool| if on { 1.0 } else { 0.0 };
    let activity = match r.pushed_at.as_deref().map(|p| reference - epoch_day(p)) {
        None => 0.0,
        Some(d) if d <= 90 => 1.0,
        Some(d) if d >= 730 => 0.0,
        Some(d) => (730 - d) as f64 / 640.0,
    };
    let described = r.description.as_deref().is_some_and(|d| !d.trim().is_empty());
    let issues = (1.0 - r.open_issues as f64 / (r.stars as f64 + 1.0)).max(0.0);
    30.0 * log(r.stars, 10_000.0)
        + 10.0 * log(r.forks, 1_000.0)
        + 25.0 * activity
        + 10.0 * flag(r.license.is_some())
        + 5.0 * flag(described)
        + 5.0 * flag(!r.topics.is_empty())
        + 5.0 * flag(!r.archived)
        + 5.0 * flag(!r.fork)
        + 5.0 * issues
}

/// The category the printed rules give: topics, then whole-word description keywords, then the
/// language, each pass over the categories in order.
fn expected_category(rules: &serde_yaml::Value, r: &Repo) -> String {
    let categories = rules["categories"].as_sequence().unwrap();
    let list = |c: &serde_yaml::Value, key: &str| -> Vec<String> {
        c[key].as_sequence().map(|s| s.iter().map(|v| v.as_str().unwrap().to_lowercase()).collect()).unwrap_or_default()
    };
    let name = |c: &serde_yaml::Value| c["name"].as_str().unwrap().to_string();
    let topics: Vec<String> = r.topics.iter().map(|t| t.to_lowercase()).collect();
    if let Some(c) = categories.iter().find(|c| list(c, "topics").iter().any(|t| topics.contains(t))) {
        return name(c);
    }
    let description = r.description.as_deref().unwrap_or("").to_lowercase();
    let words = |k: &str| {
        description.match_indices(k).any(|(at, _)| {
            let before = description[..at].chars().next_back().is_some_and(char::is_alphanumeric);
            let after = description[at + k.len()..].chars().next().is_some_and(char::is_alphanumeric);
            !before && !after
        })
    };
    if let Some(c) = categories.iter().find(|c| list(c, "keywords").iter().any(|k| words(k))) {
        return name(c);
    }
    let language = r.language.as_deref().unwrap_or("").to_lowercase();
    if let Some(c) = categories.iter().find(|c| list(c, "languages").contains(&language)) {
        return name(c);
    }
    rules["fallback"].as_str().unwrap().to_string()
}

fn default_rules() -> (String, serde_yaml::Value) {
    let output = run(octoshard("http://127.0.0.1:9").args(["analyze", "--print-default-rules"]));
    success(&output);
    let text = stdout(&output);
    let value = serde_yaml::from_str(&text).unwrap();
    (text, value)
}

/// `(category, score, signals)` of every `rules` row, by repository id.
fn analysed(db: &Path, analyzer: &str) -> BTreeMap<i64, (String, f64, Value, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut statement = conn
        .prepare("SELECT repo_id, category, score, signals, fetched_at FROM analyzed_repositories WHERE analyzer = ?1")
        .unwrap();
    statement
        .query_map([analyzer], |row| {
            let signals: String = row.get(3)?;
            Ok((row.get(0)?, (row.get(1)?, row.get(2)?, serde_json::from_str(&signals).unwrap(), row.get(4)?)))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Sets hand-checked repositories into the first five rows; returns their ids.
fn hand_checked(db: &Path) -> Vec<i64> {
    let ids: Vec<i64> = repositories(db).iter().take(5).map(|r| r.id).collect();
    let newest = rows(db, "SELECT max(fetched_at) FROM repositories").into_iter().next().unwrap();
    let set = |id: i64, fields: &str| sql(db, &format!("UPDATE repositories SET {fields} WHERE id = {id}"));
    let all = "stargazers_count = 0, forks_count = 0, open_issues_count = 0, license = NULL, archived = 0, fork = 0, pushed_at = NULL";
    for id in &ids {
        set(*id, all);
    }
    set(
        ids[0],
        &format!(
            "topics = '[\"react\",\"awesome-list\"]', description = 'A web thing', language = 'Kotlin',
             stargazers_count = 99, forks_count = 9, license = 'MIT', pushed_at = '{newest}'"
        ),
    );
    set(ids[1], "topics = '[]', description = 'A tiny web app for friends', language = 'Kotlin'");
    set(ids[2], "topics = NULL, description = NULL, language = 'Kotlin'");
    set(ids[3], "topics = '[]', description = 'Uses webpack and rustc', language = 'Rust'");
    set(
        ids[4],
        "topics = '[\"Security\"]', description = '', language = NULL, archived = 1, fork = 1, open_issues_count = 5",
    );
    ids
}

#[test]
fn every_repository_gets_the_documented_category_and_score() {
    let dir = TestDir::new();
    let db = crawled(&dir, 300);
    let ids = hand_checked(&db);
    let text = success(&analyze(&db, &[]));
    let total = repositories(&db).len();
    assert!(text.contains(&format!("{total} repositories, {total} analysed, 0 unchanged")), "{text}");

    let got = analysed(&db, "rules");
    assert_eq!(got.len(), total);
    let (_, rules) = default_rules();
    let reference = reference_day(&db);
    let mut by_category: BTreeMap<String, usize> = BTreeMap::new();
    for repo in repositories(&db) {
        let (category, score, signals, _) = &got[&repo.id];
        assert_eq!(category, &expected_category(&rules, &repo), "category of {}", repo.id);
        assert!((score - expected_score(&repo, reference)).abs() < 0.006, "score of {}: {score}", repo.id);
        let points: f64 = signals["score"].as_object().unwrap().values().map(|c| c["points"].as_f64().unwrap()).sum();
        assert!((points - score).abs() < 0.05, "the signals add up to the score of {}", repo.id);
        *by_category.entry(category.clone()).or_default() += 1;
    }
    assert!(by_category.len() >= 6, "a crawl spreads over the categories: {by_category:?}");

    // The hand-checked cases.
    let case = |i: usize| &got[&ids[i]];
    assert_eq!(case(0).0, "documentation");
    assert_eq!(case(0).2["category"], json!({"by": "topic", "value": "awesome-list"}));
    // 30 log10(100)/log10(10001) + 10 log10(10)/log10(1001) + 25 + 10 + 5 + 5 + 5 + 5 + 5
    assert_eq!(case(0).1, 78.33);
    assert_eq!(case(1).2["category"], json!({"by": "keyword", "value": "web"}));
    assert_eq!(case(2).2["category"], json!({"by": "language", "value": "Kotlin"}));
    assert_eq!((case(2).0.as_str(), case(2).1), ("mobile", 15.0));
    assert_eq!(case(3).2["category"], json!({"by": "fallback", "value": ""}));
    assert_eq!(case(3).0, "other");
    // Archived fork, no stars, 5 open issues, a blank description: only the topic earns points.
    assert_eq!((case(4).0.as_str(), case(4).1), ("security", 5.0));
    assert_eq!(case(4).2["score"]["activity"], json!({"input": null, "value": 0.0, "points": 0.0}));
}

#[test]
fn a_re_run_analyses_only_what_changed() {
    let dir = TestDir::new();
    let db = crawled(&dir, 200);
    let summary = dir.path("step-summary.md");
    success(&run(analyze_command(&db).env("GITHUB_STEP_SUMMARY", &summary)));
    let first = rows(&db, "SELECT * FROM analyzed_repositories");
    let total = first.len();
    let table = std::fs::read_to_string(&summary).unwrap();
    assert!(table.starts_with("### octoshard analyze (rules)"), "{table}");
    assert!(table.contains(&format!(" | {total} | {total} | 0 | 0 | 0 | 0 |")), "{table}");

    let text = success(&analyze(&db, &[]));
    assert!(text.contains(&format!("0 analysed, {total} unchanged")), "{text}");
    assert_eq!(rows(&db, "SELECT * FROM analyzed_repositories"), first, "nothing rewritten, not even fetched_at");

    let id = repositories(&db)[10].id;
    let before = analysed(&db, "rules");
    sql(&db, &format!("UPDATE repositories SET stargazers_count = stargazers_count + 5000 WHERE id = {id}"));
    std::thread::sleep(Duration::from_millis(5));
    let text = success(&analyze(&db, &[]));
    assert!(text.contains(&format!("1 analysed, {} unchanged", total - 1)), "{text}");
    let after = analysed(&db, "rules");
    for (repo, row) in &after {
        if *repo == id {
            assert!(row.1 > before[repo].1, "more stars, a higher score");
            assert!(row.3 > before[repo].3, "re-analysed: a newer fetched_at");
        } else {
            assert_eq!(row, &before[repo], "repository {repo} untouched");
        }
    }

    // A repository no longer in the database loses its analysis.
    sql(&db, &format!("DELETE FROM repositories WHERE id = {id}"));
    let text = success(&analyze(&db, &[]));
    assert!(text.contains("1 stale analyses removed"), "{text}");
    assert_eq!(analysed(&db, "rules").len(), total - 1);
}

#[test]
fn a_rules_file_replaces_the_built_in_rules() {
    let dir = TestDir::new();
    let db = crawled(&dir, 150);
    success(&analyze(&db, &[]));
    let total = repositories(&db).len();

    // The printed default rules are the default rules: same version, nothing to redo.
    let (text, _) = default_rules();
    let printed = dir.write("default.yaml", &text);
    let out = success(&analyze(&db, &["--rules", printed.to_str().unwrap()]));
    assert!(out.contains(&format!("0 analysed, {total} unchanged")), "{out}");

    let custom = dir.write(
        "custom.yaml",
        "categories:\n  - name: popular-js\n    languages: [JavaScript]\nfallback: misc\n\
         score:\n  stars: 1\n  forks: 0\n  activity: 0\n  license: 0\n  description: 0\n  topics: 0\n  not_archived: 0\n  not_fork: 0\n  issues: 0\n",
    );
    let out = success(&analyze(&db, &["--rules", custom.to_str().unwrap()]));
    assert!(out.contains(&format!("{total} analysed, 0 unchanged")), "a changed rule set analyses everything: {out}");
    let got = analysed(&db, "rules");
    for repo in repositories(&db) {
        let (category, score, _, _) = &got[&repo.id];
        let want = if repo.language.as_deref() == Some("JavaScript") { "popular-js" } else { "misc" };
        assert_eq!(category, want);
        let stars = 100.0 * ((repo.stars as f64 + 1.0).log10() / 10_001f64.log10()).min(1.0);
        assert!((score - stars).abs() < 0.006, "{score} vs {stars}");
    }
    let version = rows(&db, "SELECT DISTINCT analyzer_version FROM analyzed_repositories");
    assert_eq!(version.len(), 1);
    assert!(version.iter().next().unwrap().starts_with("rules-1+"));
}

#[test]
fn analyses_merge_and_export_like_every_table() {
    let dir = TestDir::new();
    let db = crawled(&dir, 60);
    success(&analyze(&db, &[]));
    let stored = rows(&db, "SELECT * FROM analyzed_repositories");

    let merged = dir.path("merged.sqlite");
    success(&run(octoshard("http://127.0.0.1:9").arg("merge").arg("--out").arg(&merged).arg(&db)));
    assert_eq!(rows(&merged, "SELECT * FROM analyzed_repositories"), stored, "merge keeps every analysis");
    let text = success(&analyze(&merged, &[]));
    assert!(text.contains(&format!("0 analysed, {} unchanged", stored.len())), "{text}");

    let out = dir.path("jsonl");
    success(&run(octoshard("http://127.0.0.1:9")
        .args(["export", "--format", "jsonl", "--tables", "analyzed_repositories", "--db"])
        .arg(&db)
        .arg("--out")
        .arg(&out)));
    let text = std::fs::read_to_string(out.join("analyzed_repositories.jsonl")).unwrap();
    assert_eq!(text.lines().count(), stored.len());
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert!(first["signals"]["score"]["stars"]["points"].is_number(), "signals export as JSON: {first}");
}

#[test]
fn bad_input_is_refused_in_one_line_with_exit_2() {
    let dir = TestDir::new();
    let db = crawled(&dir, 20);
    let bad = dir.write("bad.yaml", "categories:\n  - name: web\n    topic: [react]\n");
    let text = fails_with(&analyze(&db, &["--rules", bad.to_str().unwrap()]), 2);
    assert_eq!(text.trim().lines().count(), 1, "{text}");
    assert!(text.contains("bad.yaml") && text.contains("unknown field `topic`"), "{text}");
    let missing = dir.path("nope.yaml");
    let text = fails_with(&analyze(&db, &["--rules", missing.to_str().unwrap()]), 2);
    assert!(text.contains("nope.yaml") && text.contains("cannot read it"), "{text}");

    let text = fails_with(&analyze(&dir.path("none.sqlite"), &[]), 2);
    assert!(text.contains("no such file"), "{text}");
    let foreign = dir.path("foreign.sqlite");
    sql(&foreign, "CREATE TABLE x (y)");
    let text = fails_with(&analyze(&foreign, &[]), 2);
    assert!(text.contains("not an octoshard database"), "{text}");
    let text = fails_with(&run(octoshard("http://127.0.0.1:9").arg("analyze")), 2);
    assert!(text.contains("--db"), "{text}");
    let text = fails_with(&analyze(&db, &["--llm"]), 2);
    assert!(text.contains("--llm-url"), "{text}");
    let text = fails_with(&run(analyze_command(&db).args(["--llm", "--llm-url", "ftp://x", "--llm-model", "m"])), 2);
    assert!(text.contains("http(s)"), "{text}");
    let text = fails_with(
        &run(analyze_command(&db).env("OCTOSHARD_LLM_KEY", "").args([
            "--llm",
            "--llm-url",
            "http://127.0.0.1:9/v1",
            "--llm-model",
            "m",
        ])),
        2,
    );
    assert!(text.contains("OCTOSHARD_LLM_KEY is set but empty"), "{text}");
    assert_eq!(rows(&db, "SELECT count(*) FROM analyzed_repositories"), BTreeSet::from(["0".to_string()]));
}

/// One request the fake endpoint received.
struct Seen {
    authorization: String,
    system: String,
    lines: Vec<String>,
    ids: Vec<i64>,
}

/// What the fake endpoint answers to request number `index` (from 0) about `ids`.
struct Reply {
    delay: Duration,
    content: String,
    usage: Option<(u64, u64)>,
}

type Handler = Arc<dyn Fn(usize, &[i64]) -> Reply + Send + Sync>;

/// An OpenAI-shaped chat completions endpoint on 127.0.0.1, one thread per connection.
struct FakeLlm {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeLlm {
    fn start(handler: Handler) -> FakeLlm {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (seen, handler) = (shared.clone(), handler.clone());
                std::thread::spawn(move || serve(stream, &seen, &*handler));
            }
        });
        FakeLlm { url, seen }
    }

    fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn serve(mut stream: TcpStream, seen: &Mutex<Vec<Seen>>, handler: &(dyn Fn(usize, &[i64]) -> Reply + Send + Sync)) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    assert!(request_line.starts_with("POST /v1/chat/completions "), "{request_line}");
    let (mut length, mut authorization) = (0, String::new());
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap(),
            "authorization" => authorization = value.trim().to_string(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let request: Value = serde_json::from_slice(&body).unwrap();
    let system = request["messages"][0]["content"].as_str().unwrap().to_string();
    let lines: Vec<String> = request["messages"][1]["content"].as_str().unwrap().lines().map(str::to_string).collect();
    let ids: Vec<i64> =
        lines.iter().map(|l| serde_json::from_str::<Value>(l).unwrap()["id"].as_i64().unwrap()).collect();
    let index = {
        let mut seen = seen.lock().unwrap();
        seen.push(Seen { authorization, system, lines, ids: ids.clone() });
        seen.len() - 1
    };
    let reply = handler(index, &ids);
    std::thread::sleep(reply.delay);
    let mut answer = json!({"id": "chatcmpl-1", "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.content}, "finish_reason": "stop"}]});
    if let Some((prompt, completion)) = reply.usage {
        answer["usage"] =
            json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion});
    }
    let text = answer.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
        text.len()
    );
}

/// A valid answer: every id `web`, scored by its id.
fn good(ids: &[i64]) -> String {
    let answers: Vec<Value> = ids.iter().map(|id| json!({"id": id, "category": "web", "score": id % 101})).collect();
    Value::Array(answers).to_string()
}

fn reply(content: String, usage: Option<(u64, u64)>) -> Reply {
    Reply { delay: Duration::ZERO, content, usage }
}

const CONTEXT: u64 = 1500;
const KEY: &str = "sk-octoshard-test-key-0123456789";

fn analyze_llm(db: &Path, llm: &FakeLlm, extra: &[&str]) -> Output {
    let context = CONTEXT.to_string();
    run(analyze_command(db)
        .env("OCTOSHARD_LLM_KEY", KEY)
        .env("OCTOSHARD_LLM_URL", &llm.url)
        .args([
            "-v",
            "--llm",
            "--llm-model",
            "fake-model",
            "--llm-context-tokens",
            &context,
            "--llm-retry-delay",
            "1ms",
        ])
        .args(extra))
}

/// The documented estimate of a request: (instructions + lines + newlines) / 4, rounded up, plus
/// 24 framing tokens and 24 per repository for the answer.
fn estimate(system: &str, lines: &[&String]) -> u64 {
    let chars = system.chars().count() + lines.iter().map(|l| l.chars().count()).sum::<usize>() + lines.len() - 1;
    (chars as u64).div_ceil(4) + 24 + 24 * lines.len() as u64
}

#[test]
fn the_llm_analyzer_sends_batches_that_fill_the_context() {
    let dir = TestDir::new();
    let db = crawled(&dir, 120);
    let llm = FakeLlm::start(Arc::new(|_, ids| reply(good(ids), Some((900, 100)))));
    let text = success(&analyze_llm(&db, &llm, &[]));
    assert!(!text.contains(KEY), "the key is never logged:\n{text}");

    let seen = llm.seen.lock().unwrap();
    let total = repositories(&db).len();
    let sent: Vec<i64> = seen.iter().flat_map(|s| s.ids.clone()).collect();
    let all: Vec<i64> = repositories(&db).iter().map(|r| r.id).collect();
    assert_eq!(sent, all, "every repository once, in id order");
    // The batch count the greedy cut gives: each batch fits, and the next line would not.
    let lines: Vec<&String> = seen.iter().flat_map(|s| &s.lines).collect();
    let system = &seen[0].system;
    let mut expected = 0;
    let mut start = 0;
    while start < lines.len() {
        let mut end = start + 1;
        while end < lines.len() && end - start < 100 && estimate(system, &lines[start..=end]) <= CONTEXT {
            end += 1;
        }
        expected += 1;
        start = end;
    }
    assert!(expected > 3, "the test's context holds several batches");
    assert_eq!(seen.len(), expected, "one request per batch");
    for s in seen.iter() {
        assert!(estimate(&s.system, &s.lines.iter().collect::<Vec<_>>()) <= CONTEXT);
        assert_eq!(s.authorization, format!("Bearer {KEY}"));
        assert!(s.system.contains("- web: ") && s.system.contains("- other: "), "{}", s.system);
    }
    assert!(
        text.contains(&format!(
            "{total} analysed, 0 unchanged, 0 failed, 0 not sent; {expected} requests, {} tokens",
            expected * 1000
        )),
        "{text}"
    );
    drop(seen);

    let got = analysed(&db, "llm");
    assert_eq!(got.len(), total);
    for (id, (category, score, signals, _)) in &got {
        assert_eq!((category.as_str(), *score), ("web", (id % 101) as f64));
        assert_eq!(signals["model"], "fake-model");
    }
    assert_eq!(
        rows(&db, "SELECT DISTINCT analyzer_version FROM analyzed_repositories"),
        BTreeSet::from(["llm-1:fake-model".to_string()])
    );

    // Nothing changed: nothing is sent.
    let text = success(&analyze_llm(&db, &llm, &[]));
    assert!(text.contains(&format!("0 analysed, {total} unchanged")), "{text}");
    assert_eq!(llm.requests(), expected);
}

#[test]
fn a_malformed_answer_is_asked_again_once_then_its_batch_fails() {
    let dir = TestDir::new();
    let db = crawled(&dir, 80);
    let llm = FakeLlm::start(Arc::new(|index, ids| {
        if index < 2 { reply("Sure! Here are the categories: web, web".into(), None) } else { reply(good(ids), None) }
    }));
    let text = fails_with(&analyze_llm(&db, &llm, &[]), 1);
    let seen = llm.seen.lock().unwrap();
    assert_eq!(seen[0].ids, seen[1].ids, "the same batch asked again");
    let first = seen[0].ids.len();
    assert!(seen.len() >= 3, "the other batches are sent after the failed one");
    assert_eq!(seen.iter().skip(2).map(|s| s.ids.len()).sum::<usize>(), repositories(&db).len() - first);
    assert!(text.contains(&format!("{first} repositories failed and 0 were not sent")), "{text}");
    assert!(text.contains("answer rejected twice"), "{text}");
    assert_eq!(analysed(&db, "llm").len(), repositories(&db).len() - first);
    assert!(seen[0].ids.iter().all(|id| !analysed(&db, "llm").contains_key(id)));
}

#[test]
fn an_endpoint_that_times_out_fails_the_run() {
    let dir = TestDir::new();
    let db = crawled(&dir, 30);
    let llm = FakeLlm::start(Arc::new(|_, ids| Reply { delay: Duration::from_secs(5), ..reply(good(ids), None) }));
    let started = Instant::now();
    let text = fails_with(&analyze_llm(&db, &llm, &["--llm-timeout", "300ms", "--llm-retries", "1"]), 1);
    assert!(started.elapsed() < Duration::from_secs(4), "gave up at the timeout");
    assert!(text.contains("timed out (after 2 attempt(s))"), "{text}");
    assert_eq!(llm.requests(), 2, "one try and one retry, then nothing more is sent");
    assert!(analysed(&db, "llm").is_empty());
}

#[test]
fn the_cost_cap_stops_sending() {
    let dir = TestDir::new();
    let db = crawled(&dir, 80);
    let llm = FakeLlm::start(Arc::new(|_, ids| reply(good(ids), Some((6000, 4000)))));
    let text = fails_with(&analyze_llm(&db, &llm, &["--llm-max-tokens", "10000"]), 1);
    assert_eq!(llm.requests(), 1, "the first batch spent the cap");
    let first = llm.seen.lock().unwrap()[0].ids.len();
    let rest = repositories(&db).len() - first;
    assert!(text.contains(&format!("0 repositories failed and {rest} were not sent")), "{text}");
    assert!(text.contains("the cost cap of 10000 tokens is reached (10000 spent"), "{text}");
    assert_eq!(analysed(&db, "llm").len(), first);
}
