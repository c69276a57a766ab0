//! End-to-end tests of the fake server through a tiny raw HTTP/1.1 client
//! (std::net only), so what is tested is exactly what goes over the wire.

mod common;

use common::{Conn, Resp, get, graphql};
use fakehub::{AppOptions, FakeHub, Options, SecondaryCause, Universe, UniverseConfig};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn universe(repos: usize, deleted: f64) -> Universe {
    Universe::generate(&UniverseConfig {
        repos,
        seed: 7,
        hidden_fraction: 0.3,
        deleted_fraction: deleted,
        ..Default::default()
    })
}

const QUERY: &str = "query($ids: [ID!]!) { rateLimit { cost remaining } nodes(ids: $ids) { ... on Repository { nameWithOwner databaseId stargazerCount } } }";

#[test]
fn paging_walks_every_public_id_once_via_link_headers() {
    let hub = FakeHub::start(universe(3000, 0.05), Options::default());
    let base = hub.url();
    let mut conn = Conn::open(&hub);
    let mut next = Some(format!("{base}/repositories"));
    let (mut seen, mut pages, mut short, mut empty) = (Vec::new(), 0, 0, 0);
    while let Some(url) = next.take() {
        let path = url.strip_prefix(&base).expect("link points at the fake");
        let resp = conn.send("GET", path, &[("Authorization", "token t")], b"").expect("page");
        assert_eq!(resp.status, 200);
        assert!(resp.header("etag").is_some_and(|e| e.starts_with("W/\"")));
        assert!(resp.header("content-type").is_some_and(|c| c.starts_with("application/json")));
        let page = resp.json();
        let page = page.as_array().expect("array");
        pages += 1;
        short += usize::from(page.len() < 100);
        empty += usize::from(page.is_empty());
        for repo in page {
            assert!(repo.get("stargazers_count").is_none() && repo.get("language").is_none());
            assert_eq!(repo["private"], json!(false));
            assert!(repo["owner"]["login"].is_string());
            seen.push(repo["id"].as_u64().expect("id"));
        }
        let link = resp.header("link").expect("link header").to_string();
        assert!(link.contains(&format!("<{base}/repositories{{?since}}>; rel=\"first\"")));
        next = link
            .split(", ")
            .find(|part| part.ends_with("rel=\"next\""))
            .map(|part| part.trim_start_matches('<').split('>').next().unwrap_or_default().to_string());
    }
    let truth: Vec<u64> = hub.universe().repos().iter().map(|r| r.id).collect();
    assert_eq!(seen, truth, "every public id exactly once, ascending");
    assert!(short > pages / 2, "most pages are short ({short}/{pages})");
    assert!(empty >= 1, "some page is empty");
    assert_eq!(hub.stats().route("GET /repositories"), pages as u64);
}

#[test]
fn listing_since_semantics() {
    let hub = FakeHub::start(universe(500, 0.0), Options::default());
    let a = get(&hub, "/repositories", &[]);
    let b = get(&hub, "/repositories?since=0&per_page=5", &[]);
    assert_eq!(a.body, b.body, "missing since = 0, per_page ignored");
    let bad = get(&hub, "/repositories?since=abc", &[]);
    assert_eq!(bad.status, 422);
    assert_eq!(bad.json()["message"], "Validation Failed");
    let end = get(&hub, &format!("/repositories?since={}", hub.universe().max_id()), &[]);
    assert_eq!(end.json(), json!([]));
    assert!(!end.header("link").unwrap_or_default().contains("rel=\"next\""));
}

#[test]
fn repo_endpoint_and_not_found() {
    let hub = FakeHub::start(universe(2000, 0.05), Options::default());
    let u = hub.universe();
    let live = u.repos().iter().find(|r| !r.deleted && r.license.is_some()).expect("a live repo");
    let resp = get(&hub, &format!("/repos/{}", live.full_name.to_ascii_uppercase()), &[]);
    assert_eq!(resp.status, 200);
    let body = resp.json();
    assert_eq!(body["id"], json!(live.id));
    assert_eq!(body["node_id"], json!(live.node_id));
    assert_eq!(body["full_name"], json!(live.full_name));
    assert_eq!(body["stargazers_count"], json!(live.stargazers_count));
    assert_eq!(body["watchers_count"], body["stargazers_count"]);
    assert_eq!(body["created_at"], json!(live.created_at.to_string()));
    assert_eq!(body["visibility"], "public");
    assert!(body["license"]["spdx_id"].is_string());
    assert!(body["url"].as_str().is_some_and(|s| s.starts_with(&hub.url())));

    let deleted = u.repos().iter().find(|r| r.deleted).expect("a deleted repo");
    let gone = get(&hub, &format!("/repos/{}", deleted.full_name), &[]);
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.json(),
        json!({"message":"Not Found","documentation_url":"https://docs.github.com/rest/repos/repos#get-a-repository","status":"404"})
    );
    assert_eq!(get(&hub, "/repos/nobody/nothing", &[]).status, 404);
    let unknown = get(&hub, "/no/such/route", &[]);
    assert_eq!(unknown.status, 404);
    assert!(unknown.header("x-ratelimit-limit").is_some() && unknown.header("x-github-request-id").is_some());
}

#[test]
fn not_modified_is_free() {
    let hub = FakeHub::start(universe(300, 0.0), Options::with_tokens(["t1"]));
    let repo = &hub.universe().repos()[0];
    let path = format!("/repos/{}", repo.full_name);
    let auth = ("Authorization", "Bearer t1");
    let first = get(&hub, &path, &[auth]);
    assert_eq!(first.status, 200);
    let etag = first.header("etag").expect("etag").to_string();
    let remaining = first.num("x-ratelimit-remaining");
    let second = get(&hub, &path, &[auth, ("If-None-Match", &etag)]);
    assert_eq!(second.status, 304);
    assert!(second.body.is_empty());
    assert_eq!(second.num("x-ratelimit-remaining"), remaining, "304 is not charged");
    assert_eq!(second.header("etag"), Some(etag.as_str()));
    let third = get(&hub, &path, &[auth, ("If-None-Match", "W/\"other\"")]);
    assert_eq!(third.status, 200);
    assert_eq!(third.num("x-ratelimit-remaining"), remaining - 1);
    assert_eq!(hub.stats().not_modified, 1);
    assert_eq!(hub.stats().by_token.get("token0"), Some(&3));
}

#[test]
fn exhausted_budget_gives_403_and_counts_a_violation() {
    let options = Options { core_limit: 3, window: Duration::from_secs(1), ..Options::with_tokens(["a", "b"]) };
    let hub = FakeHub::start(universe(300, 0.0), options);
    let auth = ("Authorization", "token b");
    for expected in [2, 1, 0] {
        let resp = get(&hub, "/repositories", &[auth]);
        assert_eq!(resp.status, 200);
        assert_eq!(resp.num("x-ratelimit-remaining"), expected);
        assert_eq!(resp.header("x-ratelimit-resource"), Some("core"));
    }
    let limit = get(&hub, "/rate_limit", &[auth]);
    assert_eq!(limit.status, 200);
    assert_eq!(limit.json()["resources"]["core"]["used"], json!(3));
    let denied = get(&hub, "/repositories", &[auth]);
    assert_eq!(denied.status, 403);
    assert_eq!(denied.num("x-ratelimit-remaining"), 0);
    assert_eq!(denied.json()["message"], "API rate limit exceeded for user ID 2.");
    let stats = hub.stats();
    assert_eq!(stats.primary_violations, 1);
    assert_eq!(stats.status(403), 1);
    // Token a has its own budget; a bad token is refused.
    assert_eq!(get(&hub, "/repositories", &[("Authorization", "token a")]).status, 200);
    assert_eq!(get(&hub, "/repositories", &[("Authorization", "token nope")]).status, 401);
    // A new window starts after the advertised reset second.
    let reset = denied.num("x-ratelimit-reset");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs_f64();
    // Wait for the later of the two windows (token b's may end a second after a's).
    let latest = stats.windows.iter().map(|w| w.reset).max().unwrap_or(reset);
    std::thread::sleep(Duration::from_secs_f64((latest as f64 - now).max(0.0) + 0.05));
    let again = get(&hub, "/repositories", &[auth]);
    assert_eq!(again.status, 200);
    assert_eq!(again.num("x-ratelimit-remaining"), 2);
}

#[test]
fn anonymous_budget_is_shared() {
    let options = Options { anonymous_limit: 2, ..Options::default() };
    let hub = FakeHub::start(universe(100, 0.0), options);
    assert_eq!(get(&hub, "/repositories", &[]).status, 200);
    assert_eq!(get(&hub, "/repositories", &[]).num("x-ratelimit-remaining"), 0);
    let denied = get(&hub, "/repositories", &[]);
    assert_eq!(denied.status, 403);
    assert!(denied.json()["message"].as_str().is_some_and(|m| m.starts_with("API rate limit exceeded for 127.0.0.1.")));
    assert_eq!(hub.stats().by_token.get("anonymous"), Some(&3));
}

#[test]
fn graphql_partial_data_and_errors() {
    let hub = FakeHub::start(universe(1000, 0.05), Options { graphql_limit: 4, ..Options::default() });
    let u = hub.universe();
    let live = u.repos().iter().find(|r| !r.deleted).expect("live");
    let deleted = u.repos().iter().find(|r| r.deleted).expect("deleted");
    let hidden = u.all_ids().iter().find(|&&id| u.get(id).is_none()).expect("hidden id");
    let ids = json!([live.node_id, deleted.node_id, fakehub::ids::repo_node_id(*hidden), "garbage"]);
    let resp = graphql(&hub, "t", &json!({"query": QUERY, "variables": {"ids": ids}}));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-ratelimit-resource"), Some("graphql"));
    let body = resp.json();
    let nodes = body["data"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 4);
    assert_eq!(nodes[0]["nameWithOwner"], json!(live.full_name));
    assert_eq!(nodes[0]["databaseId"], json!(live.id));
    assert_eq!(nodes[0]["stargazerCount"], json!(live.stargazers_count));
    assert!(nodes[1].is_null() && nodes[2].is_null() && nodes[3].is_null());
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 3);
    assert_eq!(errors[0]["type"], "NOT_FOUND");
    assert_eq!(errors[0]["path"], json!(["nodes", 1]));
    assert_eq!(
        errors[0]["message"],
        json!(format!("Could not resolve to a node with the global id of '{}'", deleted.node_id))
    );
    assert_eq!(body["data"]["rateLimit"]["remaining"], json!(3));

    let many: Vec<String> = u.repos().iter().take(101).map(|r| r.node_id.clone()).collect();
    let too_many = graphql(&hub, "t", &json!({"query": QUERY, "variables": {"ids": many}})).json();
    assert!(too_many["data"].is_null());
    assert_eq!(too_many["errors"][0]["type"], "EXCESSIVE_PAGINATION");

    let bad = Conn::open(&hub).send("POST", "/graphql", &[("Authorization", "bearer t")], b"{nope").expect("resp");
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["message"], "Problems parsing JSON");
    let anonymous = Conn::open(&hub).send("POST", "/graphql", &[], b"{}").expect("resp");
    assert_eq!(anonymous.status, 401);

    // Budget of 4: three used above; one left, then RATE_LIMITED with HTTP 200.
    assert_eq!(graphql(&hub, "t", &json!({"query": QUERY, "variables": {"ids": []}})).status, 200);
    let limited = graphql(&hub, "t", &json!({"query": QUERY, "variables": {"ids": []}}));
    assert_eq!(limited.status, 200);
    assert_eq!(limited.json()["errors"][0]["type"], "RATE_LIMITED");
    assert_eq!(limited.num("x-ratelimit-remaining"), 0);
    let stats = hub.stats();
    assert_eq!(stats.primary_violations, 1);
    assert_eq!(stats.graphql_points, 4);
}

#[test]
fn secondary_limit_on_concurrency_and_retry_after() {
    let options =
        Options { max_concurrency: 2, latency: Duration::from_millis(300), retry_after_secs: 1, ..Options::default() };
    let hub = FakeHub::start(universe(100, 0.0), options);
    let statuses: Vec<(u16, Option<String>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..5)
            .map(|_| {
                s.spawn(|| {
                    let r = get(&hub, "/repositories", &[("Authorization", "token x")]);
                    (r.status, r.header("retry-after").map(String::from))
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("thread")).collect()
    });
    let refused: Vec<_> = statuses.iter().filter(|(s, _)| *s == 403).collect();
    assert!(!refused.is_empty(), "{statuses:?}");
    assert!(refused.iter().all(|(_, retry)| retry.as_deref() == Some("1")));
    let stats = hub.stats();
    assert!(stats.concurrency_violations >= 1);
    assert!(stats.max_in_flight >= 3);
    // The refusals of concurrent requests are logged in the order their threads get the lock, so
    // under load a retry-after refusal can be logged first: any of them is the concurrency one.
    assert!(
        stats.secondary_responses.iter().any(|r| r.cause == SecondaryCause::Concurrency),
        "{:?}",
        stats.secondary_responses
    );
    // Coming back before retry-after elapsed is a violation too.
    hub.set_options(Options { latency: Duration::ZERO, ..hub.options() });
    let early = get(&hub, "/repositories", &[("Authorization", "token x")]);
    assert_eq!(early.status, 403);
    assert!(early.json()["message"].as_str().is_some_and(|m| m.contains("secondary rate limit")));
    let stats = hub.stats();
    assert!(stats.retry_after_violations >= 1);
    // The log says who was refused, when, and for how long.
    let first = &stats.secondary_responses[0];
    assert_eq!((first.token.as_str(), first.status, first.retry_after), ("token0", 403, 1));
    let last = stats.secondary_responses.last().expect("logged");
    assert_eq!(last.cause, SecondaryCause::RetryAfterViolation);
    assert!(last.at >= first.at && last.at < first.at + Duration::from_secs(first.retry_after));
    assert_eq!(stats.max_in_flight_by_token.get("token0").copied(), Some(stats.max_in_flight));
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(get(&hub, "/repositories", &[("Authorization", "token x")]).status, 200);
}

#[test]
fn injected_faults() {
    let hub = FakeHub::start(universe(200, 0.0), Options { fault_reset: 1.0, ..Options::default() });
    let mut conn = Conn::open(&hub);
    assert!(conn.send("GET", "/repositories", &[], b"").is_err(), "connection dropped");
    assert_eq!(get(&hub, "/rate_limit", &[]).status, 200, "rate_limit is never faulted");

    hub.set_options(Options { fault_truncate: 1.0, ..Options::default() });
    let mut conn = Conn::open(&hub);
    assert!(conn.send("GET", "/repositories", &[], b"").is_err(), "body shorter than Content-Length");

    hub.set_options(Options { fault_malformed: 1.0, ..Options::default() });
    let resp = get(&hub, "/repositories", &[]);
    assert_eq!(resp.status, 200);
    assert!(serde_json::from_slice::<Value>(&resp.body).is_err());

    hub.set_options(Options { fault_5xx: 1.0, anonymous_limit: 1000, ..Options::default() });
    assert!([500, 502, 503].contains(&get(&hub, "/repositories", &[]).status));

    hub.set_options(Options { fault_secondary: 1.0, retry_after_secs: 0, anonymous_limit: 1000, ..Options::default() });
    let statuses: Vec<u16> = (0..2).map(|_| get(&hub, "/repositories", &[]).status).collect();
    assert_eq!(statuses, [403, 429]);

    let stats = hub.stats();
    assert_eq!((stats.faults_reset, stats.faults_truncate, stats.faults_malformed), (1, 1, 1));
    assert_eq!((stats.faults_5xx, stats.faults_secondary), (1, 2));

    // Same seed, same faults.
    let run = |seed| {
        hub.set_options(Options { fault_5xx: 0.5, seed, anonymous_limit: 1000, ..Options::default() });
        hub.reset_limits();
        (0..20).map(|_| get(&hub, "/repositories?since=0", &[]).status).collect::<Vec<_>>()
    };
    let a = run(11);
    hub.set_options(Options { seed: 12, ..Options::default() });
    let b = run(11);
    assert_eq!(a, b);
    assert!(a.contains(&200) && a.iter().any(|s| *s >= 500));
}

#[test]
fn keep_alive_close_and_bad_requests() {
    let hub = FakeHub::start(universe(100, 0.0), Options::default());
    let mut conn = Conn::open(&hub);
    for _ in 0..3 {
        assert_eq!(conn.send("GET", "/rate_limit", &[], b"").expect("keep-alive").status, 200);
    }
    let closing = conn.send("GET", "/rate_limit", &[("Connection", "close")], b"").expect("resp");
    assert_eq!(closing.header("connection"), Some("close"));
    assert!(conn.send("GET", "/rate_limit", &[], b"").is_err(), "server closed the connection");

    let mut raw = TcpStream::connect(hub.url().trim_start_matches("http://")).expect("connect");
    raw.write_all(b"NONSENSE\r\n\r\n").expect("write");
    let mut text = String::new();
    let _ = raw.read_to_string(&mut text);
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    assert_eq!(get(&hub, "/rate_limit", &[]).status, 200, "still serving");

    let ids: BTreeSet<u64> = hub.universe().repos().iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), 100);
    let url = hub.url();
    drop(hub);
    assert!(TcpStream::connect(url.trim_start_matches("http://")).is_err(), "stopped on drop");
}

#[test]
fn bad_credentials_and_any_token_mode() {
    let hub = FakeHub::start(universe(50, 0.0), Options::default());
    assert_eq!(get(&hub, "/repositories", &[("Authorization", "Basic abc")]).status, 401);
    assert_eq!(get(&hub, "/repositories", &[("Authorization", "token ")]).status, 401);
    let ok = get(&hub, "/repositories", &[("Authorization", "token anything")]);
    assert_eq!(ok.status, 200);
    assert_eq!(ok.num("x-ratelimit-limit"), 5000);
    let started = Instant::now();
    let limits = get(&hub, "/rate_limit", &[("Authorization", "token anything")]).json();
    assert_eq!(limits["resources"]["graphql"]["limit"], json!(5000));
    assert_eq!(limits["rate"]["used"], json!(1));
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn binary_prints_url_and_rejects_bad_arguments() {
    use std::process::{Command, Stdio};
    let exe = env!("CARGO_BIN_EXE_fakehub");
    let bad = Command::new(exe).arg("--repos").arg("many").output().expect("run fakehub");
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&bad.stderr).lines().count(), 1);

    let truth = std::env::temp_dir().join(format!("fakehub-truth-{}.json", std::process::id()));
    let mut child = Command::new(exe)
        .args(["--repos", "300", "--seed", "3", "--deleted-fraction", "0.1", "--truth"])
        .arg(&truth)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn fakehub");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout");
    BufReader::new(stdout).read_line(&mut line).expect("url line");
    let url = line.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let mut conn = TcpStream::connect(url.trim_start_matches("http://")).expect("connect");
    conn.write_all(b"GET /rate_limit HTTP/1.1\r\nConnection: close\r\n\r\n").expect("write");
    let mut text = String::new();
    let _ = conn.read_to_string(&mut text);
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let truth_json: Value = serde_json::from_slice(&std::fs::read(&truth).expect("truth file")).expect("json");
    let _ = std::fs::remove_file(&truth);
    let expected = Universe::generate(&UniverseConfig {
        repos: 300,
        seed: 3,
        hidden_fraction: 0.3,
        deleted_fraction: 0.1,
        ..Default::default()
    });
    assert_eq!(truth_json["max_id"], json!(expected.max_id()));
    assert_eq!(truth_json["repos"].as_array().map(Vec::len), Some(300));
    assert_eq!(truth_json["repos"][5]["full_name"], json!(expected.repos()[5].full_name));
}

#[test]
fn budget_windows_are_recorded() {
    let options = Options { core_limit: 3, window: Duration::from_secs(1), ..Options::with_tokens(["a", "b"]) };
    let hub = FakeHub::start(universe(100, 0.0), options);
    let (a, b) = (("Authorization", "token a"), ("Authorization", "token b"));
    let first = get(&hub, "/repositories", &[a]);
    let etag = first.header("etag").expect("etag").to_string();
    assert_eq!(get(&hub, "/repositories", &[a, ("If-None-Match", &etag)]).status, 304, "free");
    for _ in 0..3 {
        get(&hub, "/repositories", &[a]);
    }
    get(&hub, "/repositories", &[b]);
    get(&hub, "/rate_limit", &[b]);
    let stats = hub.stats();
    assert_eq!(stats.primary_violations, 1);
    let of_a = stats.windows_of("token0", "core");
    assert_eq!(of_a.len(), 1);
    assert_eq!((of_a[0].used, of_a[0].limit), (3, 3));
    let reset = first.num("x-ratelimit-reset");
    assert_eq!(of_a[0].reset, reset);
    assert_eq!(stats.windows_of("token1", "core")[0].used, 1);
    assert_eq!(stats.windows.len(), 2, "no window for /rate_limit or other resources");
    // After the reset second the window reads as closed, then a new one opens.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs_f64();
    // Wait for the later of the two windows (token b's may end a second after a's).
    let latest = stats.windows.iter().map(|w| w.reset).max().unwrap_or(reset);
    std::thread::sleep(Duration::from_secs_f64((latest as f64 - now).max(0.0) + 0.05));
    assert!(hub.stats().windows.iter().all(|w| w.closed));
    get(&hub, "/repositories", &[a]);
    let stats = hub.stats();
    let of_a = stats.windows_of("token0", "core");
    let summary: Vec<(u32, bool)> = of_a.iter().map(|w| (w.used, w.closed)).collect();
    assert_eq!(summary, [(3, true), (1, false)]);
    assert!(of_a[1].reset > of_a[0].reset);
    hub.reset_stats();
    assert_eq!(hub.stats().windows.len(), 2, "running windows survive reset_stats");
    hub.reset_limits();
    assert!(hub.stats().windows.iter().all(|w| w.closed), "reset_limits ends them");
}

/// Standard base64 (PEM bodies).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').map(value).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let acc = chunk.iter().fold(0u32, |acc, &d| (acc << 6) | u32::from(d)) << (6 * (4 - chunk.len()));
        out.extend_from_slice(&acc.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// Unpadded base64url.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let acc = chunk.iter().enumerate().fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(acc >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

const APP_ID: u64 = 31337;
const INSTALLATION: u64 = 4242;

fn app_options(ttl: Duration) -> Options {
    let der = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/app-key.pub.der")).expect("public key");
    let app = AppOptions { app_id: APP_ID, installation_id: INSTALLATION, public_key_der: der, token_ttl: ttl };
    Options { app: Some(app), core_limit: 50, ..Options::with_tokens(["pat"]) }
}

/// An RS256 JWT with these claims, signed with the fixture key.
fn jwt(claims: &Value) -> String {
    let pem = include_str!("../../fixtures/app-key.pem");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let key = ring::signature::RsaKeyPair::from_der(&base64_decode(&body)).expect("PKCS#1 key");
    let header = base64url(br#"{"alg":"RS256","typ":"JWT"}"#);
    let input = format!("{header}.{}", base64url(claims.to_string().as_bytes()));
    let mut sig = vec![0; key.public().modulus_len()];
    let rng = ring::rand::SystemRandom::new();
    key.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig).expect("sign");
    format!("{input}.{}", base64url(&sig))
}

fn epoch_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

fn ask_for_token(hub: &FakeHub, installation: u64, jwt: &str) -> Resp {
    let path = format!("/app/installations/{installation}/access_tokens");
    let auth = format!("Bearer {jwt}");
    Conn::open(hub)
        .send("POST", &path, &[("Authorization", &auth), ("Accept", "application/vnd.github+json")], b"")
        .expect("response")
}

#[test]
fn app_jwt_gives_installation_tokens() {
    let hub = FakeHub::start(universe(100, 0.0), app_options(Duration::from_secs(3600)));
    let now = epoch_now();
    let good = jwt(&json!({"iat": now - 60, "exp": now + 540, "iss": APP_ID}));
    let resp = ask_for_token(&hub, INSTALLATION, &good);
    assert_eq!(resp.status, 201, "{:?}", String::from_utf8_lossy(&resp.body));
    let body = resp.json();
    let token = body["token"].as_str().expect("token").to_string();
    assert!(token.starts_with("ghs_") && token.len() == 40 && token[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
    let expires_at = body["expires_at"].as_str().expect("expires_at");
    assert_eq!(expires_at.len(), 20);
    assert!(expires_at.ends_with('Z') && expires_at.as_bytes()[10] == b'T', "{expires_at}");
    assert_eq!(body["permissions"], json!({"metadata": "read", "contents": "read"}));
    assert_eq!(body["repository_selection"], "all");
    // iss as a string works too; each token gets its own label and budget.
    let other =
        ask_for_token(&hub, INSTALLATION, &jwt(&json!({"iat": now, "exp": now + 60, "iss": APP_ID.to_string()})));
    assert_eq!(other.status, 201);
    let other = other.json()["token"].as_str().expect("token").to_string();
    assert_ne!(other, token);

    let auth = format!("token {token}");
    let listed = get(&hub, "/repositories", &[("Authorization", &auth)]);
    assert_eq!(listed.status, 200);
    assert_eq!((listed.num("x-ratelimit-limit"), listed.num("x-ratelimit-remaining")), (50, 49));
    let auth = format!("Bearer {other}");
    assert_eq!(get(&hub, "/repositories", &[("Authorization", &auth)]).num("x-ratelimit-remaining"), 49);

    // Refusals, with GitHub's messages.
    let message = |resp: &Resp| {
        assert_eq!(resp.status, 401);
        resp.json()["message"].as_str().expect("message").to_string()
    };
    const UNDECODABLE: &str = "A JSON web token could not be decoded";
    let mut tampered = good.clone().into_bytes();
    let at = tampered.len() - 5;
    tampered[at] = if tampered[at] == b'x' { b'y' } else { b'x' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    assert_eq!(message(&ask_for_token(&hub, INSTALLATION, &tampered)), UNDECODABLE);
    let wrong_iss = jwt(&json!({"iat": now - 60, "exp": now + 540, "iss": APP_ID + 1}));
    assert_eq!(message(&ask_for_token(&hub, INSTALLATION, &wrong_iss)), UNDECODABLE);
    let name_iss = jwt(&json!({"iat": now - 60, "exp": now + 540, "iss": "my-app"}));
    assert_eq!(message(&ask_for_token(&hub, INSTALLATION, &name_iss)), "'Issuer' claim ('iss') must be an Integer");
    let expired = jwt(&json!({"iat": now - 700, "exp": now - 100, "iss": APP_ID}));
    assert_eq!(
        message(&ask_for_token(&hub, INSTALLATION, &expired)),
        "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
    );
    let too_long = jwt(&json!({"iat": now, "exp": now + 700, "iss": APP_ID}));
    assert_eq!(
        message(&ask_for_token(&hub, INSTALLATION, &too_long)),
        "'Expiration time' claim ('exp') is too far in the future"
    );
    let future = jwt(&json!({"iat": now + 120, "exp": now + 300, "iss": APP_ID}));
    assert!(message(&ask_for_token(&hub, INSTALLATION, &future)).starts_with("'Issued at' claim ('iat')"));
    assert_eq!(message(&ask_for_token(&hub, INSTALLATION, "pat")), UNDECODABLE, "a PAT is no JWT");
    let denied = ask_for_token(&hub, INSTALLATION, &format!("{}.{}", &good[..10], &good[11..]));
    assert_eq!(denied.json()["documentation_url"], "https://docs.github.com/rest");
    // A good JWT for an unknown installation, or on another endpoint.
    assert_eq!(ask_for_token(&hub, INSTALLATION + 1, &good).status, 404);
    let elsewhere = get(&hub, "/repositories", &[("Authorization", &format!("Bearer {good}"))]);
    assert_eq!(message(&elsewhere), "Bad credentials");
    // A ghs_ token the fake did not issue.
    assert_eq!(get(&hub, "/repositories", &[("Authorization", "token ghs_madeup")]).status, 401);

    let stats = hub.stats();
    assert_eq!(stats.app_tokens_issued, 2);
    assert_eq!(stats.app_jwt_rejected, 9);
    assert_eq!(stats.by_token.get("app"), Some(&12));
    assert_eq!(stats.by_token.get("installation0"), Some(&1));
    assert_eq!(stats.by_token.get("installation1"), Some(&1));
    assert_eq!(stats.route("POST /app/installations/{installation_id}/access_tokens"), 11);
    assert_eq!(stats.violations(), 0);
    assert_eq!(stats.expired_token_uses, 0);
    let labels: BTreeSet<&str> = stats.windows.iter().map(|w| w.token.as_str()).collect();
    assert_eq!(labels, BTreeSet::from(["installation0", "installation1"]), "JWT requests are not charged");
}

#[test]
fn expired_installation_token_is_refused_and_counted() {
    let hub = FakeHub::start(universe(50, 0.0), app_options(Duration::from_secs(1)));
    let now = epoch_now();
    let resp = ask_for_token(&hub, INSTALLATION, &jwt(&json!({"iat": now - 60, "exp": now + 300, "iss": APP_ID})));
    assert_eq!(resp.status, 201);
    let token = resp.json()["token"].as_str().expect("token").to_string();
    let auth = format!("token {token}");
    assert_eq!(get(&hub, "/repositories", &[("Authorization", &auth)]).status, 200);
    std::thread::sleep(Duration::from_millis(2050)); // expires_at = ceil(issued + 1 s)
    let late = get(&hub, "/repositories", &[("Authorization", &auth)]);
    assert_eq!(late.status, 401);
    assert_eq!(late.json()["message"], "Bad credentials");
    assert_eq!(get(&hub, "/rate_limit", &[("Authorization", &auth)]).status, 401);
    let stats = hub.stats();
    assert_eq!(stats.expired_token_uses, 2);
    assert_eq!(stats.by_token.get("installation0"), Some(&1));
    assert_eq!(stats.by_token.get("invalid"), Some(&2));
    assert_eq!(stats.violations(), 0);
}

/// `cargo test -p fakehub --release -- --ignored million`
#[test]
#[ignore = "slow in debug builds; run with --release"]
fn million_repos_generate_fast() {
    let started = Instant::now();
    let u = Universe::generate(&UniverseConfig::new(1_000_000, 1));
    let elapsed = started.elapsed();
    assert_eq!(u.repos().len(), 1_000_000);
    if !cfg!(debug_assertions) {
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    }
}
