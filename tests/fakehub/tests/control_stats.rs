//! `GET /_fakehub/stats` (budget units and counters for benchmarks) and
//! `/_fakehub/truth?deep=1` (issue and pull request counts per repository),
//! and the endpoints peers such as Perceval walk, end to end over HTTP.

mod common;

use common::{get, graphql};
use fakehub::{FakeHub, Options, Universe, UniverseConfig};
use serde_json::{Value, json};

fn hub() -> FakeHub {
    FakeHub::start(Universe::generate(&UniverseConfig::new(500, 9)), Options::default())
}

const AUTH: &[(&str, &str)] = &[("authorization", "token t")];

#[test]
fn stats_count_units_server_side() {
    let hub = hub();
    let stats = |hub: &FakeHub| get(hub, "/_fakehub/stats", &[]).json();
    let before = stats(&hub);
    assert_eq!(before["units"], json!({"core": 0, "search": 0, "graphql": 0}));
    assert_eq!(get(&hub, "/repositories", AUTH).status, 200);
    let repo = hub.universe().repos().iter().find(|r| !r.deleted).expect("a live repository").clone();
    assert_eq!(get(&hub, &format!("/repos/{}", repo.full_name), AUTH).status, 200);
    assert_eq!(get(&hub, "/rate_limit", AUTH).status, 200);
    let q = json!({"query": "query { rateLimit { cost } viewer { login } }"});
    let _ = graphql(&hub, "t", &q);
    let after = stats(&hub);
    assert_eq!(after["units"]["core"], json!(2), "/rate_limit is free: {after}");
    assert_eq!(after["units"]["graphql"], json!(hub.stats().graphql_points));
    assert_eq!(after["by_route"]["GET /repos/{owner}/{name}"], json!(1));
    assert_eq!(after["requests"], json!(hub.stats().requests));
    assert_eq!(after["by_status"]["200"].as_u64(), hub.stats().by_status.get(&200).copied());
    assert_eq!(stats(&hub)["requests"], after["requests"], "controls are not counted");
}

#[test]
fn truth_with_deep_counts_and_the_conversation_endpoints() {
    let hub = hub();
    let truth = get(&hub, "/_fakehub/truth?deep=1", &[]).json();
    let u = hub.universe();
    let repos = truth["repos"].as_array().expect("repos");
    assert_eq!(repos.len(), u.repos().len());
    let mut busiest: Option<(usize, String)> = None;
    for (t, r) in repos.iter().zip(u.repos()) {
        let (issues, pulls) = if r.deleted {
            (0, 0)
        } else {
            let d = u.deep(r.id).expect("deep");
            (d.issues.len(), d.pulls.len())
        };
        assert_eq!((t["issues"].as_u64(), t["pulls"].as_u64()), (Some(issues as u64), Some(pulls as u64)));
        if busiest.as_ref().is_none_or(|b| b.0 < issues + pulls) {
            busiest = Some((issues + pulls, r.full_name.clone()));
        }
    }
    assert!(get(&hub, "/_fakehub/truth", &[]).json()["repos"][0].get("issues").is_none(), "only when asked");
    // An issue list's comment counts are what the comment endpoints list.
    let (_, name) = busiest.expect("a repository");
    let page = get(&hub, &format!("/repos/{name}/issues?state=all&per_page=100"), AUTH).json();
    let mut checked = 0;
    for item in page.as_array().expect("issues").iter().filter(|i| i["comments"].as_u64() > Some(0)).take(5) {
        let n = item["number"].as_u64().expect("number");
        let comments = get(&hub, &format!("/repos/{name}/issues/{n}/comments?per_page=100"), AUTH).json();
        assert_eq!(comments.as_array().map(|c| c.len() as u64), item["comments"].as_u64());
        assert_eq!(item["reactions"]["total_count"], json!(0));
        let user = comments[0]["user"]["login"].as_str().expect("login").to_string();
        let profile = get(&hub, &format!("/users/{user}"), AUTH);
        assert_eq!(profile.status, 200, "{user}");
        assert_eq!(profile.json()["login"], Value::String(user.clone()));
        assert_eq!(get(&hub, &format!("/users/{user}/orgs"), AUTH).json(), json!([]));
        checked += 1;
    }
    assert!(checked > 0);
    let pull = page.as_array().expect("issues").iter().find(|i| i.get("pull_request").is_some()).expect("a pull");
    let n = pull["number"].as_u64().expect("number");
    let full = get(&hub, &format!("/repos/{name}/pulls/{n}"), AUTH).json();
    let count = |path: &str| get(&hub, &format!("/repos/{name}/pulls/{n}/{path}?per_page=100"), AUTH).json();
    assert_eq!(count("reviews").as_array().map(|a| a.len() as u64), full["review_comments"].as_u64());
    assert_eq!(count("comments").as_array().map(|a| a.len() as u64), full["review_comments"].as_u64());
    assert_eq!(count("commits").as_array().map(|a| a.len() as u64), full["commits"].as_u64().map(|c| c.min(250)));
    let stats = get(&hub, "/_fakehub/stats", &[]).json();
    assert_eq!(stats["by_route"]["GET /repos/{owner}/{name}/pulls/{number}/reviews"], json!(1));
}
