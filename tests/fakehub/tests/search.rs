//! End-to-end tests of `GET /search/repositories`: pages, `Link`, the
//! 1000-result cap, fork exclusion, sorting, the search budget, and splitting a
//! large query by creation date into slices of at most 1000.

mod common;

use common::{Conn, get, link, links, walk};
use fakehub::{FakeHub, Options, OwnerType, Repo, Timestamp, Universe, UniverseConfig};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn hub(repos: usize, options: Options) -> FakeHub {
    let cfg = UniverseConfig { repos, seed: 7, hidden_fraction: 0.3, deleted_fraction: 0.03, ..Default::default() };
    FakeHub::start(Universe::generate(&cfg), options)
}

fn roomy() -> Options {
    Options { search_limit: 100_000, ..Options::with_tokens(["t"]) }
}

const AUTH: (&str, &str) = ("Authorization", "token t");

fn ids(items: &Value) -> Vec<u64> {
    items.as_array().expect("items").iter().map(|r| r["id"].as_u64().expect("id")).collect()
}

fn truth_ids(repos: &[&Repo]) -> Vec<u64> {
    repos.iter().map(|r| r.id).collect()
}

#[test]
fn pages_links_and_the_1000_cap() {
    let hub = hub(3000, roomy());
    let base = hub.url();
    let truth = hub.universe().search("is:public").expect("valid");
    assert!(truth.len() > 2000, "{}", truth.len());
    assert!(truth.iter().all(|r| !r.fork && !r.deleted));

    let first = get(&hub, "/search/repositories?q=is%3Apublic&per_page=100", &[AUTH]);
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-ratelimit-resource"), Some("search"));
    let body = first.json();
    assert_eq!(body["total_count"], json!(truth.len()), "the true count, beyond 1000");
    assert_eq!(body["incomplete_results"], json!(false));
    assert_eq!(ids(&body["items"]), truth_ids(&truth[..100]), "best match = id ascending");
    let item = &body["items"][0];
    assert_eq!(item["score"], json!(1.0));
    assert_eq!(item["full_name"], json!(truth[0].full_name));
    assert_eq!(item["stargazers_count"], json!(truth[0].stargazers_count));
    assert!(item["created_at"].is_string() && item["owner"]["login"].is_string() && item["topics"].is_array());
    assert!(item.get("subscribers_count").is_none() && item.get("network_count").is_none());
    let url = |page: usize| format!("{base}/search/repositories?q=is%3Apublic&per_page=100&page={page}");
    assert_eq!(links(&first), [("next".to_string(), url(2)), ("last".to_string(), url(10))]);

    let tenth = get(&hub, "/search/repositories?q=is%3Apublic&per_page=100&page=10", &[AUTH]);
    assert_eq!(ids(&tenth.json()["items"]), truth_ids(&truth[900..1000]));
    assert_eq!(links(&tenth), [("prev".to_string(), url(9)), ("first".to_string(), url(1))]);
    let beyond = get(&hub, "/search/repositories?q=is%3Apublic&per_page=100&page=11", &[AUTH]);
    assert_eq!(beyond.status, 422);
    assert_eq!(beyond.json()["message"], json!("Only the first 1000 search results are available"));
    assert_eq!(beyond.json()["documentation_url"], json!("https://docs.github.com/v3/search/"));

    // per_page 30 (the default): 34 pages, the last one short; per_page 7: 143 pages.
    let p34 = get(&hub, "/search/repositories?q=is:public&page=34", &[AUTH]);
    assert_eq!(ids(&p34.json()["items"]), truth_ids(&truth[990..1000]));
    assert!(link(&p34, "next").is_none() && link(&p34, "last").is_none());
    assert_eq!(get(&hub, "/search/repositories?q=is:public&page=35", &[AUTH]).status, 422);
    let p2 = get(&hub, "/search/repositories?q=is:public&page=2", &[AUTH]);
    assert_eq!(
        link(&p2, "last").as_deref(),
        Some(format!("{base}/search/repositories?q=is%3Apublic&page=34").as_str())
    );
    let p143 = get(&hub, "/search/repositories?q=is:public&per_page=7&page=143", &[AUTH]);
    assert_eq!(ids(&p143.json()["items"]), truth_ids(&truth[994..1000]));
    assert_eq!(get(&hub, "/search/repositories?q=is:public&per_page=7&page=144", &[AUTH]).status, 422);

    // A small result: one page, no Link; walking a mid-sized one gives exactly the truth.
    let owners = hub.universe().owners_by_repo_count(OwnerType::User);
    let owner = &owners.iter().find(|(_, n)| (3..=30).contains(n)).expect("a small owner").0.login;
    let small = get(&hub, &format!("/search/repositories?q=user:{owner}+fork:true"), &[AUTH]);
    let small_truth = hub.universe().search(&format!("user:{owner} fork:true")).expect("valid");
    assert!(small_truth.len() <= 30);
    assert_eq!(ids(&small.json()["items"]), truth_ids(&small_truth));
    assert!(small.header("link").is_none());
    let q = "language:javascript+created:2012-01-01..2019-12-31";
    let (pages, _) = walk(&hub, &format!("/search/repositories?q={q}&per_page=50"), &[AUTH]);
    let walked: Vec<u64> = pages.iter().flat_map(|p| ids(&p["items"])).collect();
    let expected = hub.universe().search("language:JavaScript created:2012-01-01..2019-12-31").expect("valid");
    assert!(expected.len() > 100 && expected.len() < 1000, "{}", expected.len());
    assert_eq!(walked, truth_ids(&expected));
}

#[test]
fn forks_sorting_and_validation() {
    let hub = hub(3000, roomy());
    let total = |q: &str| -> u64 {
        let resp = get(&hub, &format!("/search/repositories?q={q}&per_page=1"), &[AUTH]);
        assert_eq!(resp.status, 200, "{q}");
        resp.json()["total_count"].as_u64().expect("count")
    };
    let (public, all, forks) = (total("stars:>=0"), total("stars:>=0+fork:true"), total("stars:>=0+fork:only"));
    assert_eq!(public + forks, all, "forks are excluded unless asked for");
    assert!(forks > 100);
    let only = get(&hub, "/search/repositories?q=fork:only&per_page=100", &[AUTH]).json();
    assert!(only["items"].as_array().expect("items").iter().all(|r| r["fork"] == json!(true)));
    let deleted = hub.universe().repos().iter().filter(|r| r.deleted).count() as u64;
    assert_eq!(all + deleted, hub.universe().repos().len() as u64, "deleted repositories never match");

    // sort=stars desc (default order) and asc, ties by id ascending.
    let mut truth = hub.universe().search("language:python").expect("valid");
    let desc = get(&hub, "/search/repositories?q=language:Python&sort=stars&per_page=100", &[AUTH]).json();
    truth.sort_by(|a, b| b.stargazers_count.cmp(&a.stargazers_count).then(a.id.cmp(&b.id)));
    assert_eq!(ids(&desc["items"]), truth_ids(&truth[..100.min(truth.len())]));
    let asc = get(&hub, "/search/repositories?q=language:Python&sort=stars&order=asc&per_page=100", &[AUTH]).json();
    truth.sort_by(|a, b| a.stargazers_count.cmp(&b.stargazers_count).then(a.id.cmp(&b.id)));
    assert_eq!(ids(&asc["items"]), truth_ids(&truth[..100.min(truth.len())]));

    for (q, code) in
        [("", "missing"), ("foo:bar", "invalid"), ("stars:>x", "invalid"), ("user:no-such-one-xyz", "invalid")]
    {
        let path =
            if q.is_empty() { "/search/repositories".to_string() } else { format!("/search/repositories?q={q}") };
        let resp = get(&hub, &path, &[AUTH]);
        assert_eq!(resp.status, 422, "{q}");
        let body = resp.json();
        assert_eq!(body["message"], json!("Validation Failed"));
        assert_eq!(body["errors"][0]["code"], json!(code), "{q}");
        assert_eq!(body["errors"][0]["field"], json!("q"));
    }
    assert_eq!(hub.stats().route("GET /search/repositories"), 10);
}

#[test]
fn search_has_its_own_budget_and_counts_violations() {
    let options = Options { search_limit: 3, core_limit: 50, ..Options::with_tokens(["t"]) };
    let hub = hub(500, options);
    let started = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    for expected in [2, 1, 0] {
        let resp = get(&hub, "/search/repositories?q=stars:>1", &[AUTH]);
        assert_eq!(resp.status, 200);
        assert_eq!(
            (resp.header("x-ratelimit-resource"), resp.num("x-ratelimit-remaining")),
            (Some("search"), expected)
        );
        assert_eq!(resp.num("x-ratelimit-limit"), 3);
        let reset = resp.num("x-ratelimit-reset");
        assert!((started + 59..=started + 62).contains(&reset), "a one-minute window: {reset} vs {started}");
    }
    let denied = get(&hub, "/search/repositories?q=stars:>1", &[AUTH]);
    assert_eq!(denied.status, 403);
    assert_eq!(denied.header("x-ratelimit-resource"), Some("search"));
    assert_eq!(denied.json()["message"], json!("API rate limit exceeded for user ID 1."));
    let core = get(&hub, "/repositories", &[AUTH]);
    assert_eq!(
        (core.status, core.header("x-ratelimit-resource"), core.num("x-ratelimit-remaining")),
        (200, Some("core"), 49)
    );
    let limits = get(&hub, "/rate_limit", &[AUTH]).json();
    assert_eq!(limits["resources"]["search"]["used"], json!(3));
    let stats = hub.stats();
    assert_eq!(stats.primary_violations, 1);
    let windows = stats.windows_of("token0", "search");
    assert_eq!(windows.len(), 1);
    assert_eq!((windows[0].used, windows[0].limit), (3, 3));
    // Anonymous callers get 10 searches.
    let anonymous = get(&hub, "/search/repositories?q=stars:>1", &[]);
    assert_eq!((anonymous.status, anonymous.num("x-ratelimit-limit")), (200, 10));
}

/// `created:A..B` over epoch seconds.
fn created(lo: i64, hi: i64) -> String {
    format!("created:{}..{}", Timestamp(lo), Timestamp(hi))
}

#[test]
fn created_bisection_splits_a_large_query_into_slices() {
    let hub = hub(30_000, roomy());
    let u = hub.universe();
    let truth = u.search("is:public").expect("valid");
    assert!(truth.len() > 24_000, "{}", truth.len());
    let mut conn = Conn::open(&hub);
    let mut count = |lo: i64, hi: i64| -> (u64, Duration) {
        let q = format!("is:public {}", created(lo, hi)).replace(' ', "+");
        let started = Instant::now();
        let resp = conn.send("GET", &format!("/search/repositories?q={q}&per_page=1"), &[AUTH], b"").expect("count");
        assert_eq!(resp.status, 200);
        (resp.json()["total_count"].as_u64().expect("count"), started.elapsed())
    };
    let (first, last) = (truth[0].created_at.0, truth[truth.len() - 1].created_at.0);
    let (all, full_scan) = count(first, last);
    assert_eq!(all, truth.len() as u64);
    let mut stack = vec![(first, last, all)];
    let mut slices = Vec::new();
    let mut slowest = Duration::ZERO;
    while let Some((lo, hi, n)) = stack.pop() {
        if n <= 1000 {
            slices.push((lo, hi, n));
            continue;
        }
        let mid = lo + (hi - lo) / 2;
        let (left, t1) = count(lo, mid);
        let (right, t2) = count(mid + 1, hi);
        slowest = slowest.max(t1).max(t2);
        assert_eq!(left + right, n, "slices partition the query");
        stack.extend([(mid + 1, hi, right), (lo, mid, left)]);
    }
    assert!(slices.len() >= 25, "{}", slices.len());
    assert_eq!(slices.iter().map(|s| s.2).sum::<u64>(), truth.len() as u64);
    // Walk a few slices completely: each gives exactly its part of the truth.
    for &(lo, hi, n) in slices.iter().step_by(slices.len() / 3) {
        let q = format!("is:public {}", created(lo, hi)).replace(' ', "+");
        let (pages, _) = walk(&hub, &format!("/search/repositories?q={q}&per_page=100"), &[AUTH]);
        let walked: Vec<u64> = pages.iter().flat_map(|p| ids(&p["items"])).collect();
        let part: Vec<u64> =
            truth.iter().filter(|r| lo <= r.created_at.0 && r.created_at.0 <= hi).map(|r| r.id).collect();
        assert_eq!(walked.len() as u64, n);
        assert_eq!(walked, part);
    }
    eprintln!("30k universe: full-range count {full_scan:?}, slowest slice count {slowest:?}, {} slices", slices.len());
    let limit = if cfg!(debug_assertions) { Duration::from_millis(250) } else { Duration::from_millis(10) };
    assert!(full_scan < limit && slowest < limit, "{full_scan:?} {slowest:?}");
}

/// `cargo test -p fakehub --release --test search -- --ignored --nocapture`
#[test]
#[ignore = "100k universe; meaningful in release builds"]
fn search_is_fast_on_100k() {
    let hub = hub(100_000, roomy());
    let _ = hub.universe().search("x");
    let mut conn = Conn::open(&hub);
    let mut worst = Duration::ZERO;
    for q in [
        "is:public&per_page=100",
        "fork:true&sort=stars&per_page=100",
        "language:javascript+cli&sort=updated&order=asc&per_page=100&page=5",
        "created:2015-01-01..2016-06-30+stars:>0&per_page=100",
        "tool&per_page=100",
    ] {
        let started = Instant::now();
        let resp = conn.send("GET", &format!("/search/repositories?q={q}"), &[AUTH], b"").expect("search");
        let took = started.elapsed();
        assert_eq!(resp.status, 200, "{q}");
        eprintln!("{q}: {took:?} ({} matches)", resp.json()["total_count"]);
        worst = worst.max(took);
    }
    if !cfg!(debug_assertions) {
        assert!(worst < Duration::from_millis(10), "{worst:?}");
    }
}
