//! GraphQL accounts end to end: `repositoryOwner(login:)`, `user(login:)`,
//! `organization(login:)`, their `repositories` and `starredRepositories`
//! connections checked against the universe's truth (`Universe::owned_by`,
//! `Universe::starred_at`), GitHub's default orders, paging with cursors,
//! lookups that find nothing, errors and the cost.

mod common;

use common::graphql;
use fakehub::{FakeHub, Options, Owner, OwnerType, Repo, Universe, UniverseConfig};
use serde_json::{Value, json};

fn hub() -> FakeHub {
    let cfg =
        UniverseConfig { repos: 20_000, seed: 1, hidden_fraction: 0.3, deleted_fraction: 0.03, ..Default::default() };
    FakeHub::start(Universe::generate(&cfg), Options::default())
}

fn ask(hub: &FakeHub, query: &str, variables: Value) -> Value {
    let resp = graphql(hub, "t", &json!({"query": query, "variables": variables}));
    assert_eq!(resp.status, 200);
    resp.json()
}

fn ids(repos: &[&Repo]) -> Vec<u64> {
    repos.iter().map(|r| r.id).collect()
}

const REPOS_PAGE: &str = "query($login: String!, $after: String, $order: RepositoryOrder) {
  repositoryOwner(login: $login) {
    __typename login
    repositories(first: 100, after: $after, orderBy: $order) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      nodes { databaseId nameWithOwner }
      edges { cursor node { databaseId } }
    }
  }
}";

/// Every page of `repositoryOwner(login:).repositories`: (database ids, totalCount per page).
fn walk_repositories(hub: &FakeHub, login: &str, order: Value) -> (Vec<u64>, Vec<u64>) {
    let (mut out, mut totals, mut after) = (Vec::new(), Vec::new(), Value::Null);
    loop {
        let body = ask(hub, REPOS_PAGE, json!({"login": login, "after": after, "order": order}));
        assert!(body.get("errors").is_none(), "{body}");
        let conn = &body["data"]["repositoryOwner"]["repositories"];
        let nodes = conn["nodes"].as_array().expect("nodes");
        let edges = conn["edges"].as_array().expect("edges");
        assert_eq!(nodes.len(), edges.len());
        for (node, edge) in nodes.iter().zip(edges) {
            assert_eq!(node["databaseId"], edge["node"]["databaseId"]);
        }
        let info = &conn["pageInfo"];
        assert_eq!(info["hasPreviousPage"], json!(!after.is_null()));
        if let Some(last) = edges.last() {
            assert_eq!(info["endCursor"], last["cursor"]);
            assert_eq!(info["startCursor"], edges[0]["cursor"]);
        }
        out.extend(nodes.iter().map(|n| n["databaseId"].as_u64().expect("id")));
        totals.push(conn["totalCount"].as_u64().expect("totalCount"));
        if info["hasNextPage"] != json!(true) {
            return (out, totals);
        }
        after = info["endCursor"].clone();
    }
}

fn by_created(repos: &[&Repo]) -> Vec<u64> {
    let mut sorted = repos.to_vec();
    sorted.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    ids(&sorted)
}

#[test]
fn repositories_page_through_exactly_owned_by() {
    let hub = hub();
    let u = hub.universe();
    let (org, count) = u.owners_by_repo_count(OwnerType::Organization)[0];
    assert!(count >= 150, "{count}");
    let owned = u.owned_by(&org.login);
    // No orderBy: oldest first (CREATED_AT ascending), every page's totalCount the whole set.
    let (got, totals) = walk_repositories(&hub, &org.login.to_uppercase(), Value::Null);
    assert_eq!(got, by_created(&owned));
    assert_eq!(totals.len(), count.div_ceil(100));
    assert!(totals.iter().all(|&t| t == count as u64));
    // NAME ascending is owned_by's own order (the REST user listing's).
    let (got, _) = walk_repositories(&hub, &org.login, json!({"field": "NAME", "direction": "ASC"}));
    assert_eq!(got, ids(&owned));
    // STARGAZERS descending, ties by id.
    let (got, _) = walk_repositories(&hub, &org.login, json!({"field": "STARGAZERS", "direction": "DESC"}));
    let mut by_stars = owned.clone();
    by_stars.sort_by(|a, b| b.stargazers_count.cmp(&a.stargazers_count).then(a.id.cmp(&b.id)));
    assert_eq!(got, ids(&by_stars));

    // A user, through `user(login:)` and `... on User`.
    let (user, user_count) = u.owners_by_repo_count(OwnerType::User)[0];
    let query = "query($login: String!) { user(login: $login) { __typename login databaseId
        repositories(first: 100, orderBy: {field: CREATED_AT, direction: DESC}) { totalCount nodes { databaseId } } } }";
    let body = ask(&hub, query, json!({"login": user.login}));
    let data = &body["data"]["user"];
    assert_eq!((data["__typename"].clone(), data["databaseId"].clone()), (json!("User"), json!(user.id)));
    assert_eq!(data["repositories"]["totalCount"], json!(user_count));
    let mut newest_first = by_created(&u.owned_by(&user.login));
    newest_first.reverse();
    let got: Vec<u64> = data["repositories"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["databaseId"].as_u64().expect("id"))
        .collect();
    // Reversing the ascending order flips ties too; compare as created-time sequences.
    assert_eq!(got.len(), user_count.min(100));
    let created = |id: u64| u.get(id).expect("repo").created_at;
    let want: Vec<_> = newest_first.iter().take(100).map(|&id| created(id)).collect();
    assert_eq!(got.iter().map(|&id| created(id)).collect::<Vec<_>>(), want);
}

#[test]
fn repositories_filter_and_page_backwards() {
    let hub = hub();
    let u = hub.universe();
    let (org, count) = u.owners_by_repo_count(OwnerType::Organization)[0];
    let owned = by_created(&u.owned_by(&org.login));
    let forks: Vec<u64> = owned.iter().copied().filter(|&id| u.get(id).expect("repo").fork).collect();
    let query = "query($login: String!) {
      forks: organization(login: $login) { repositories(first: 100, isFork: true) { totalCount nodes { databaseId } } }
      sources: repositoryOwner(login: $login) { repositories(isFork: false) { totalCount } }
      private: repositoryOwner(login: $login) { repositories(first: 10, privacy: PRIVATE) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }
      public: repositoryOwner(login: $login) { repositories(privacy: PUBLIC, ownerAffiliations: [OWNER, COLLABORATOR]) { totalCount } }
      owner: repositoryOwner(login: $login) { repositories(ownerAffiliations: OWNER) { totalCount } }
      collaborator: repositoryOwner(login: $login) { repositories(ownerAffiliations: [COLLABORATOR, ORGANIZATION_MEMBER]) { totalCount } }
      tail: repositoryOwner(login: $login) { repositories(last: 3) { nodes { databaseId } pageInfo { hasNextPage hasPreviousPage } } }
    }";
    let body = ask(&hub, query, json!({"login": org.login}));
    assert!(body.get("errors").is_none(), "{body}");
    let d = &body["data"];
    assert!(!forks.is_empty());
    assert_eq!(d["forks"]["repositories"]["totalCount"], json!(forks.len()));
    let got: Vec<u64> = d["forks"]["repositories"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["databaseId"].as_u64())
        .collect();
    assert_eq!(got, forks.iter().copied().take(100).collect::<Vec<_>>());
    assert_eq!(d["sources"]["repositories"]["totalCount"], json!(count - forks.len()));
    let private = &d["private"]["repositories"];
    assert_eq!(private, &json!({"totalCount": 0, "nodes": [], "pageInfo": {"hasNextPage": false, "endCursor": null}}));
    assert_eq!(d["public"]["repositories"]["totalCount"], json!(count));
    assert_eq!(d["owner"]["repositories"]["totalCount"], json!(count));
    assert_eq!(d["collaborator"]["repositories"]["totalCount"], json!(0));
    let tail: Vec<u64> = d["tail"]["repositories"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["databaseId"].as_u64())
        .collect();
    assert_eq!(tail, owned[count - 3..].to_vec());
    assert_eq!(d["tail"]["repositories"]["pageInfo"], json!({"hasNextPage": false, "hasPreviousPage": true}));

    // `before` the 11th item with `last: 5` gives items 6-10.
    let first = ask(
        &hub,
        "query($l: String!) { repositoryOwner(login: $l) { repositories(first: 11) { edges { cursor } } } }",
        json!({"l": org.login}),
    );
    let cursor = first["data"]["repositoryOwner"]["repositories"]["edges"][10]["cursor"].clone();
    let query = "query($l: String!, $c: String) { repositoryOwner(login: $l) { repositories(last: 5, before: $c) { nodes { databaseId } } } }";
    let body = ask(&hub, query, json!({"l": org.login, "c": cursor}));
    let got: Vec<u64> = body["data"]["repositoryOwner"]["repositories"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["databaseId"].as_u64())
        .collect();
    assert_eq!(got, owned[5..10].to_vec());
}

#[test]
fn repository_nodes_resolve_like_nodes_by_id() {
    let hub = hub();
    let u = hub.universe();
    let (org, _) = u.owners_by_repo_count(OwnerType::Organization)[1];
    const FIELDS: &str = "id databaseId nameWithOwner name owner { __typename login } description
      primaryLanguage { name } repositoryTopics(first: 20) { nodes { topic { name } } }
      stargazerCount forkCount watchers { totalCount } issues(states: OPEN) { totalCount }
      licenseInfo { spdxId } defaultBranchRef { name } isFork isArchived diskUsage createdAt updatedAt pushedAt";
    let query = format!(
        "query($l: String!) {{ repositoryOwner(login: $l) {{ repositories(first: 30) {{ nodes {{ {FIELDS} }} }} }} }}"
    );
    let listed = ask(&hub, &query, json!({"l": org.login}));
    let listed = listed["data"]["repositoryOwner"]["repositories"]["nodes"].as_array().expect("nodes").clone();
    let node_ids: Vec<Value> = listed.iter().map(|n| n["id"].clone()).collect();
    let query = format!("query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Repository {{ {FIELDS} }} }} }}");
    let by_id = ask(&hub, &query, json!({"ids": node_ids}));
    assert_eq!(by_id["data"]["nodes"], Value::Array(listed.clone()));
    assert!(listed.iter().all(|n| n["owner"] == json!({"__typename": "Organization", "login": org.login})));

    // A repository's owner has the same connection.
    let repo = u.owned_by(&org.login)[0];
    let query = "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { owner { ... on Organization { repositories { totalCount } } } } }";
    let body = ask(&hub, query, json!({"o": repo.owner_login(), "n": repo.name()}));
    assert_eq!(body["data"]["repository"]["owner"]["repositories"]["totalCount"], json!(u.owned_by(&org.login).len()));
}

#[test]
fn lookups_by_login_answer_like_github() {
    let hub = hub();
    let u = hub.universe();
    let org: &Owner = u.owners_by_repo_count(OwnerType::Organization)[0].0;
    let user: &Owner = u.owners_by_repo_count(OwnerType::User)[0].0;
    let query = "query($org: String!, $user: String!) {
      o: repositoryOwner(login: $org) { __typename login id ... on Organization { databaseId } ... on User { name } }
      u: repositoryOwner(login: $user) { __typename login ... on User { databaseId } ... on Organization { id } }
      nobody: repositoryOwner(login: \"no-such-account-xyz\") { login }
    }";
    let body = ask(&hub, query, json!({"org": org.login, "user": user.login}));
    assert!(body.get("errors").is_none(), "an unknown repositoryOwner is a silent null: {body}");
    let d = &body["data"];
    assert_eq!(
        d["o"],
        json!({"__typename": "Organization", "login": org.login, "id": org.node_id(), "databaseId": org.id})
    );
    assert_eq!(d["u"], json!({"__typename": "User", "login": user.login, "databaseId": user.id}));
    assert!(d["nobody"].is_null());

    // user() on an organization, organization() on a user, both on nobody: null + NOT_FOUND.
    let query = "query($org: String!, $user: String!) {
      asUser: user(login: $org) { login }
      organization(login: $user) { login }
      user(login: \"no-such-account-xyz\") { login }
      fine: organization(login: $org) { __typename login }
    }";
    let body = ask(&hub, query, json!({"org": org.login, "user": user.login}));
    let d = &body["data"];
    assert!(d["asUser"].is_null() && d["organization"].is_null() && d["user"].is_null());
    assert_eq!(d["fine"], json!({"__typename": "Organization", "login": org.login}));
    let errors = body["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 3);
    assert_eq!(errors[0]["type"], json!("NOT_FOUND"));
    assert_eq!(errors[0]["path"], json!(["asUser"]));
    assert_eq!(errors[0]["message"], json!(format!("Could not resolve to a User with the login of '{}'.", org.login)));
    assert_eq!(errors[1]["path"], json!(["organization"]));
    assert_eq!(
        errors[1]["message"],
        json!(format!("Could not resolve to an Organization with the login of '{}'.", user.login))
    );
    assert_eq!(errors[2]["message"], json!("Could not resolve to a User with the login of 'no-such-account-xyz'."));
    assert_eq!(errors[2]["locations"], json!([{"line": 4, "column": 7}]));

    // Organizations by node id too.
    let body = ask(
        &hub,
        "query($id: ID!) { node(id: $id) { __typename ... on Organization { login } } }",
        json!({"id": org.node_id()}),
    );
    assert_eq!(body["data"]["node"], json!({"__typename": "Organization", "login": org.login}));
}

#[test]
fn starred_repositories_match_starred_at() {
    let hub = hub();
    let u = hub.universe();
    let (user, count) = u.users_by_stars_given()[0];
    assert!(count >= 250, "{count}");
    let truth = u.starred_at(&user.login);
    let mut oldest_first = truth.clone();
    oldest_first.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.id.cmp(&b.0.id)));
    let query = "query($l: String!, $after: String, $order: StarOrder) { user(login: $l) {
      starredRepositories(first: 100, after: $after, orderBy: $order) {
        totalCount pageInfo { hasNextPage endCursor }
        edges { cursor starredAt node { databaseId nameWithOwner } }
      } } }";
    for (order, want) in [(Value::Null, &oldest_first), (json!({"field": "STARRED_AT", "direction": "DESC"}), &truth)] {
        let (mut got, mut after) = (Vec::new(), Value::Null);
        loop {
            let body = ask(&hub, query, json!({"l": user.login, "after": after, "order": order}));
            assert!(body.get("errors").is_none(), "{body}");
            let conn = &body["data"]["user"]["starredRepositories"];
            assert_eq!(conn["totalCount"], json!(count));
            for edge in conn["edges"].as_array().expect("edges") {
                got.push((
                    edge["node"]["databaseId"].as_u64().expect("id"),
                    edge["starredAt"].as_str().expect("at").to_string(),
                ));
            }
            if conn["pageInfo"]["hasNextPage"] != json!(true) {
                break;
            }
            after = conn["pageInfo"]["endCursor"].clone();
        }
        let want: Vec<(u64, String)> = want.iter().map(|(r, at)| (r.id, at.to_string())).collect();
        assert_eq!(got, want);
    }
    // Organizations have no starredRepositories: a validation error (no data).
    let org = &u.owners_by_repo_count(OwnerType::Organization)[0].0.login;
    let body = ask(
        &hub,
        "query($l: String!) { organization(login: $l) { starredRepositories { totalCount } } }",
        json!({"l": org}),
    );
    assert!(body.get("data").is_none());
    assert_eq!(body["errors"][0]["message"], json!("Field 'starredRepositories' doesn't exist on type 'Organization'"));
    // A user who starred nothing: an empty connection.
    let idle = u.users_by_stars_given().last().expect("users").0;
    let body = ask(
        &hub,
        "query($l: String!) { user(login: $l) { starredRepositories(first: 5) { totalCount nodes { id } } } }",
        json!({"l": idle.login}),
    );
    assert_eq!(body["data"]["user"]["starredRepositories"], json!({"totalCount": 0, "nodes": []}));
}

#[test]
fn cost_and_paging_errors() {
    let hub = hub();
    let u = hub.universe();
    let org = &u.owners_by_repo_count(OwnerType::Organization)[0].0.login;
    let one = "query($l: String!) { rateLimit { cost } repositoryOwner(login: $l) { repositories(first: 100) { nodes { id repositoryTopics(first: 20) { nodes { topic { name } } } } } } }";
    let body = ask(&hub, one, json!({"l": org}));
    assert_eq!(body["data"]["rateLimit"]["cost"], json!(1), "1 + 100 requests");
    assert_eq!(body["data"]["repositoryOwner"]["repositories"]["nodes"].as_array().map(Vec::len), Some(100));
    let two = "query($l: String!) { rateLimit { cost }
      a: repositoryOwner(login: $l) { repositories(first: 100) { nodes { id repositoryTopics(first: 20) { nodes { topic { name } } } } } }
      b: repositoryOwner(login: $l) { repositories(first: 100, after: \"Y3Vyc29yOnYyOm85OQ==\") { nodes { id repositoryTopics(first: 20) { nodes { topic { name } } } } } } }";
    let body = ask(&hub, two, json!({"l": org}));
    assert_eq!(body["data"]["rateLimit"]["cost"], json!(2), "202 requests");

    // first: 101 nulls the owner (the connection is non-null) with EXCESSIVE_PAGINATION.
    let body = ask(
        &hub,
        "query($l: String!) { repositoryOwner(login: $l) { login repositories(first: 101) { nodes { id } } } }",
        json!({"l": org}),
    );
    assert!(body["data"]["repositoryOwner"].is_null());
    let error = &body["errors"][0];
    assert_eq!(error["type"], json!("EXCESSIVE_PAGINATION"));
    assert_eq!(error["path"], json!(["repositoryOwner", "repositories"]));
    assert_eq!(
        error["message"],
        json!("Requesting 101 records on the `repositories` connection exceeds the `first` limit of 100 records.")
    );
    let body = ask(
        &hub,
        "query($l: String!) { user(login: $l) { starredRepositories { nodes { id } } } }",
        json!({"l": u.users_by_stars_given()[0].0.login}),
    );
    assert_eq!(body["errors"][0]["type"], json!("MISSING_PAGINATION_BOUNDARIES"));
    assert!(body["data"]["user"].is_null());
    let body = ask(
        &hub,
        "query($l: String!) { repositoryOwner(login: $l) { repositories(first: 5, after: \"nope\") { nodes { id } } } }",
        json!({"l": org}),
    );
    assert_eq!(body["errors"][0]["type"], json!("INVALID_CURSOR_ARGUMENTS"));
    // The viewer's `affiliations` is not served: a validation error, not a silent difference.
    let body = ask(
        &hub,
        "query($l: String!) { repositoryOwner(login: $l) { repositories(affiliations: [OWNER]) { totalCount } } }",
        json!({"l": org}),
    );
    assert!(body.get("data").is_none());
    assert_eq!(body["errors"][0]["extensions"]["code"], json!("argumentNotAccepted"));
    let body = ask(&hub, "{ repositoryOwner { login } }", json!({}));
    assert_eq!(body["errors"][0]["message"], json!("Field 'repositoryOwner' is missing required arguments: login"));
}
