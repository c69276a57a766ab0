//! End-to-end tests of the owner listings (`/users/{u}/repos`,
//! `/orgs/{o}/repos`), `/users/{u}/starred`, and GraphQL repository lookups
//! by name.

mod common;

use common::{get, graphql, link, links, walk};
use fakehub::{FakeHub, Options, OwnerType, Repo, Universe, UniverseConfig};
use serde_json::{Value, json};

fn hub() -> FakeHub {
    let cfg =
        UniverseConfig { repos: 20_000, seed: 1, hidden_fraction: 0.3, deleted_fraction: 0.03, ..Default::default() };
    FakeHub::start(Universe::generate(&cfg), Options::default())
}

const AUTH: (&str, &str) = ("Authorization", "token t");

fn ids_of(pages: &[Value]) -> Vec<u64> {
    pages.iter().flat_map(|p| p.as_array().expect("array").iter().map(|r| r["id"].as_u64().expect("id"))).collect()
}

fn ids(repos: &[&Repo]) -> Vec<u64> {
    repos.iter().map(|r| r.id).collect()
}

#[test]
fn owner_listings_walk_exactly_owned_by() {
    let hub = hub();
    let (u, base) = (hub.universe(), hub.url());
    let (org, count) = u.owners_by_repo_count(OwnerType::Organization)[0];
    assert!(count >= 150, "{count}");
    let owned = u.owned_by(&org.login);
    assert_eq!(owned.len(), count);
    assert!(owned.iter().any(|r| r.fork), "forks are listed");

    // /users/{org}/repos works for organizations; default sort full_name ascending.
    let (pages, responses) = walk(&hub, &format!("/users/{}/repos?per_page=100", org.login), &[AUTH]);
    assert_eq!(ids_of(&pages), ids(&owned));
    assert_eq!(pages.len(), count.div_ceil(100));
    let last_page = count.div_ceil(100);
    let user_url = |page: usize| format!("{base}/user/{}/repos?per_page=100&page={page}", org.id);
    assert_eq!(links(&responses[0]), [("next".to_string(), user_url(2)), ("last".to_string(), user_url(last_page))]);
    let last = responses.last().expect("pages");
    assert_eq!(links(last), [("prev".to_string(), user_url(last_page - 1)), ("first".to_string(), user_url(1))]);
    let item = &pages[0][0];
    assert_eq!(item["full_name"], json!(owned[0].full_name));
    assert_eq!(item["owner"]["type"], json!("Organization"));
    assert!(item["stargazers_count"].is_u64() && item.get("subscribers_count").is_none());

    // /orgs/{org}/repos: GitHub's default is sort=created, descending (= id descending here).
    let (pages, responses) = walk(&hub, &format!("/orgs/{}/repos", org.login.to_uppercase()), &[AUTH]);
    let mut by_created = owned.clone();
    by_created.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
    assert_eq!(ids_of(&pages), ids(&by_created));
    assert_eq!(pages.len(), count.div_ceil(30), "per_page defaults to 30");
    let next = link(&responses[0], "next").expect("next");
    assert_eq!(next, format!("{base}/organizations/{}/repos?page=2", org.id));
    let (pages, _) = walk(&hub, &format!("/orgs/{}/repos?sort=full_name&per_page=100", org.login), &[AUTH]);
    assert_eq!(ids_of(&pages), ids(&owned));
    let (pages, _) = walk(&hub, &format!("/orgs/{}/repos?type=forks&per_page=100", org.login), &[AUTH]);
    let forks: Vec<u64> = by_created.iter().filter(|r| r.fork).map(|r| r.id).collect();
    assert_eq!(ids_of(&pages), forks);

    // A user: default per_page 30; /orgs/{user} and unknown owners are 404.
    let (user, user_count) = u.owners_by_repo_count(OwnerType::User)[1];
    let (pages, _) = walk(&hub, &format!("/users/{}/repos", user.login), &[AUTH]);
    assert_eq!(ids_of(&pages), ids(&u.owned_by(&user.login)));
    assert_eq!(pages.len(), user_count.div_ceil(30));
    assert_eq!(get(&hub, &format!("/orgs/{}/repos", user.login), &[]).status, 404);
    assert_eq!(get(&hub, "/users/no-such-user-xyz/repos", &[]).status, 404);
    assert_eq!(get(&hub, &format!("/organizations/{}/repos", user.id), &[]).status, 404);
    let member = get(&hub, &format!("/users/{}/repos?type=member", user.login), &[AUTH]);
    assert_eq!((member.status, member.json()), (200, json!([])));
    assert!(member.header("link").is_none());
    let beyond = get(&hub, &format!("/users/{}/repos?page=999", user.login), &[AUTH]);
    assert_eq!((beyond.status, beyond.json()), (200, json!([])));
    let stats = hub.stats();
    assert!(
        stats.route("GET /user/{account_id}/repos") > 0
            && stats.route("GET /organizations/{organization_id}/repos") > 0
    );
}

#[test]
fn starred_walks_exactly_starred_by() {
    let hub = hub();
    let (u, base) = (hub.universe(), hub.url());
    let (user, count) = u.users_by_stars_given()[0];
    assert!(count >= 250, "{count}");
    let starred = u.starred_by(&user.login);
    let (pages, responses) = walk(&hub, &format!("/users/{}/starred?per_page=100", user.login), &[AUTH]);
    assert_eq!(ids_of(&pages), ids(&starred));
    assert_eq!(
        link(&responses[0], "last"),
        Some(format!("{base}/user/{}/starred?per_page=100&page={}", user.id, count.div_ceil(100)))
    );
    let (pages, _) = walk(&hub, &format!("/users/{}/starred", user.login), &[AUTH]);
    assert_eq!(pages.len(), count.div_ceil(30));

    // The star+json media type adds starred_at; direction=asc reverses the time order.
    let accept = ("Accept", "application/vnd.github.star+json");
    let page = get(&hub, &format!("/users/{}/starred?per_page=5", user.login), &[accept]).json();
    let truth = u.starred_at(&user.login);
    for (item, (repo, at)) in page.as_array().expect("array").iter().zip(&truth) {
        assert_eq!(item["starred_at"], json!(at.to_string()));
        assert_eq!(item["repo"]["id"], json!(repo.id));
    }
    let (pages, _) = walk(&hub, &format!("/users/{}/starred?direction=asc&per_page=100", user.login), &[AUTH]);
    let mut oldest_first = truth.clone();
    oldest_first.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.id.cmp(&b.0.id)));
    assert_eq!(ids_of(&pages), oldest_first.iter().map(|(r, _)| r.id).collect::<Vec<_>>());

    let org = &u.owners_by_repo_count(OwnerType::Organization)[0].0.login;
    let none = get(&hub, &format!("/users/{org}/starred"), &[AUTH]);
    assert_eq!((none.status, none.json()), (200, json!([])));
    assert_eq!(get(&hub, "/users/no-such-user-xyz/starred", &[]).status, 404);
}

#[test]
fn graphql_repository_aliases_keep_the_found_ones() {
    let cfg =
        UniverseConfig { repos: 1000, seed: 7, hidden_fraction: 0.3, deleted_fraction: 0.05, ..Default::default() };
    let hub = FakeHub::start(Universe::generate(&cfg), Options { graphql_limit: 10, ..Options::default() });
    let u = hub.universe();
    let live: Vec<&Repo> = u.repos().iter().filter(|r| !r.deleted).take(2).collect();
    let deleted = u.repos().iter().find(|r| r.deleted).expect("deleted");
    let query = format!(
        "query($o: String!) {{\n  rateLimit {{ cost remaining resetAt limit }}\n  r0: repository(owner: \"{}\", name: \"{}\") {{ nameWithOwner databaseId stargazerCount }}\n  r1: repository(owner: \"{}\", name: \"{}\") {{ nameWithOwner }}\n  r2: repository(owner: \"nobody\", name: \"na\\\"me\") {{ nameWithOwner }}\n  r3: repository(owner: $o, name: \"{}\") {{ nameWithOwner }}\n}}",
        live[0].owner_login().to_uppercase(),
        live[0].name(),
        deleted.owner_login(),
        deleted.name(),
        live[1].name().to_lowercase()
    );
    let resp = graphql(&hub, "t", &json!({"query": query, "variables": {"o": live[1].owner_login()}}));
    assert_eq!(resp.status, 200);
    let body = resp.json();
    let data = &body["data"];
    assert_eq!(data["r0"]["nameWithOwner"], json!(live[0].full_name));
    assert_eq!(data["r0"]["databaseId"], json!(live[0].id));
    assert_eq!(data["r0"]["stargazerCount"], json!(live[0].stargazers_count));
    assert_eq!(data["r3"]["nameWithOwner"], json!(live[1].full_name));
    assert!(data["r1"].is_null() && data["r2"].is_null());
    assert_eq!(data["rateLimit"]["cost"], json!(1));
    assert_eq!(data["rateLimit"]["remaining"], json!(9));
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0]["type"], json!("NOT_FOUND"));
    assert_eq!(errors[0]["path"], json!(["r1"]));
    assert_eq!(
        errors[0]["message"],
        json!(format!("Could not resolve to a Repository with the name '{}'.", deleted.full_name))
    );
    assert_eq!(errors[1]["message"], json!("Could not resolve to a Repository with the name 'nobody/na\"me'."));
    assert_eq!(errors[1]["locations"], json!([{"line": 5, "column": 3}]));

    // 149 lookups are fine (GitHub documents no cap; one point buys 149 when each pages one
    // connection); more than fakehub's stand-in for GitHub's timeout (500) are refused.
    let many = |n: usize| -> String {
        let fields: Vec<String> = (0..n)
            .map(|i| {
                let r = &u.repos()[i];
                format!("a{i}: repository(owner: \"{}\", name: \"{}\") {{ id }}", r.owner_login(), r.name())
            })
            .collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let packed = graphql(&hub, "t", &json!({"query": many(149)})).json();
    let data = packed["data"].as_object().expect("data");
    assert_eq!(data.len(), 149);
    let missing = u.repos()[..149].iter().filter(|r| r.deleted).count();
    assert_eq!(packed["errors"].as_array().map_or(0, Vec::len), missing);
    assert_eq!(data["a0"].is_null(), u.repos()[0].deleted);
    let refused = graphql(&hub, "t", &json!({"query": many(501)})).json();
    assert!(refused["data"].is_null());
    assert!(refused["errors"][0]["message"].as_str().is_some_and(|m| m.contains("501")));
    // A lookup without a name is a validation error (no data).
    let invalid = graphql(&hub, "t", &json!({"query": "{ r: repository(owner: \"x\") { id } }"})).json();
    assert!(invalid.get("data").is_none());
    assert_eq!(invalid["errors"][0]["message"], json!("Field 'repository' is missing required arguments: name"));
    let stats = hub.stats();
    assert_eq!(stats.graphql_points, 4);
    assert_eq!(stats.graphql_nodes, 4 + 149 + 501 + 1);
}
