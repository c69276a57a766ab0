//! GraphQL end to end: octoshard's own queries, variables, aliases and
//! fragments, every connection with cursor paging, GitHub's errors, the cost
//! formula as charged, the node limit, the timeout knob, `advance` and
//! determinism, checked against the universe's truth.

mod common;

use common::graphql;
use fakehub::deep::{Deep, State};
use fakehub::{FakeHub, Options, Repo, Universe, UniverseConfig};
use serde_json::{Value, json};
use std::sync::Arc;

const FIELDS: &str = "id databaseId nameWithOwner name owner { login } description
      primaryLanguage { name }
      repositoryTopics(first: 20) { nodes { topic { name } } }
      stargazerCount forkCount watchers { totalCount } issues(states: OPEN) { totalCount }
      licenseInfo { spdxId key }
      defaultBranchRef { name }
      isFork isArchived diskUsage createdAt updatedAt pushedAt";

fn detail_query() -> String {
    format!(
        "query($ids: [ID!]!) {{\n  rateLimit {{ cost remaining resetAt limit }}\n  nodes(ids: $ids) {{\n    __typename\n    ... on Repository {{\n      {FIELDS}\n    }}\n  }}\n}}"
    )
}

const CALIBRATE: &str = "query($ids: [ID!]!) {\n  rateLimit { cost remaining resetAt limit }\n  nodes(ids: $ids) {\n    ... on Repository { databaseId createdAt }\n  }\n}";

fn start(options: Options) -> FakeHub {
    let cfg = UniverseConfig { deleted_fraction: 0.03, ..UniverseConfig::new(2000, 1) };
    FakeHub::start(Universe::generate(&cfg), options)
}

fn find(hub: &FakeHub, pred: impl Fn(&Repo, &Deep) -> bool) -> (Repo, Arc<Deep>) {
    let u = hub.universe();
    u.repos()
        .iter()
        .filter(|r| !r.deleted)
        .find_map(|r| u.deep(r.id).filter(|d| pred(r, d)).map(|d| (r.clone(), d)))
        .expect("a matching repository")
}

fn ask(hub: &FakeHub, query: &str, variables: Value) -> Value {
    let resp = graphql(hub, "t", &json!({"query": query, "variables": variables}));
    assert_eq!(resp.status, 200);
    resp.json()
}

#[test]
fn octoshard_queries_are_answered_as_before() {
    let hub = start(Options::default());
    let u = hub.universe();
    let repos: Vec<&Repo> = u.repos().iter().take(100).collect();
    let ids: Vec<&str> = repos.iter().map(|r| r.node_id.as_str()).collect();
    let body = ask(&hub, &detail_query(), json!({"ids": ids}));
    assert_eq!(body["data"]["rateLimit"]["cost"], json!(1), "100 ids x repositoryTopics(first: 20) = 1 point");
    assert_eq!(body["data"]["rateLimit"]["remaining"], json!(4999));
    assert!(body["data"]["rateLimit"]["resetAt"].is_string() && body["data"]["rateLimit"]["limit"] == json!(5000));
    let nodes = body["data"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 100);
    let mut errors = 0;
    for (i, (node, repo)) in nodes.iter().zip(&repos).enumerate() {
        if repo.deleted {
            assert!(node.is_null());
            errors += 1;
            let error = body["errors"].as_array().and_then(|e| e.iter().find(|e| e["path"] == json!(["nodes", i])));
            assert_eq!(error.map(|e| e["type"].clone()), Some(json!("NOT_FOUND")));
            continue;
        }
        assert_eq!(node["__typename"], "Repository");
        assert_eq!(node["id"], json!(repo.node_id));
        assert_eq!(node["databaseId"], json!(repo.id));
        assert_eq!(node["nameWithOwner"], json!(repo.full_name));
        assert_eq!(node["owner"], json!({"login": repo.owner_login()}));
        let topics: Vec<&str> = node["repositoryTopics"]["nodes"]
            .as_array()
            .expect("topics")
            .iter()
            .filter_map(|t| t["topic"]["name"].as_str())
            .collect();
        assert_eq!(topics, repo.topics);
        assert_eq!(node["watchers"]["totalCount"], json!(repo.subscribers_count));
        assert_eq!(node["stargazerCount"], json!(repo.stargazers_count));
        assert_eq!(node["defaultBranchRef"].is_null(), repo.is_empty());
        assert_eq!(node["pushedAt"], json!(repo.pushed_at.to_string()));
        assert_eq!(node["licenseInfo"]["spdxId"], json!(repo.license.map(|l| l.spdx_id)));
        assert_eq!(node.as_object().map(|o| o.len()), Some(21), "exactly the fields asked for");
    }
    assert_eq!(body["errors"].as_array().map_or(0, Vec::len), errors);
    assert_eq!(u.deep_generated(), 0, "the detail query generates no deep data");
    // Open issues alone (not pull requests), consistent with the deep data.
    let mut differs = 0;
    for (node, repo) in nodes.iter().zip(&repos).filter(|(_, r)| !r.deleted) {
        let deep = u.deep(repo.id).expect("deep");
        assert_eq!(node["issues"]["totalCount"], json!(deep.open_issues()));
        assert_eq!(deep.open_issues() + deep.open_pulls(), repo.open_issues_count as usize);
        differs += usize::from(deep.open_pulls() > 0);
        if let Some(head) = deep.head() {
            assert_eq!(node["pushedAt"], json!(head.committer.date.to_string()));
        }
    }
    assert!(differs > 0, "some repositories have open pull requests");
    // The planner's timeline query.
    let body = ask(&hub, CALIBRATE, json!({"ids": ids}));
    let first = repos.iter().position(|r| !r.deleted).expect("live");
    assert_eq!(
        body["data"]["nodes"][first],
        json!({"databaseId": repos[first].id, "createdAt": repos[first].created_at.to_string()})
    );
    // Lookups by name (octoshard's names query), with odd characters.
    let mut text = String::from("query {\n  rateLimit { cost remaining resetAt limit }\n");
    for (i, r) in repos.iter().take(3).enumerate() {
        text.push_str(&format!(
            "  r{i}: repository(owner: {}, name: {}) {{ {FIELDS} }}\n",
            json!(r.owner_login()),
            json!(r.name())
        ));
    }
    text.push_str("  r3: repository(owner: \"a-b\", name: \"we\\\"ird\") { id }\n}");
    let body = ask(&hub, &text, Value::Null);
    for (i, r) in repos.iter().take(3).enumerate() {
        assert_eq!(body["data"][format!("r{i}")]["databaseId"], if r.deleted { Value::Null } else { json!(r.id) });
    }
    assert!(body["data"]["r3"].is_null());
    assert!(
        body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .any(|e| e["message"] == "Could not resolve to a Repository with the name 'a-b/we\"ird'.")
    );
    assert_eq!(body["data"]["rateLimit"]["cost"], json!(1));
}

#[test]
fn variables_aliases_fragments_and_typename() {
    let hub = start(Options::default());
    let (repo, deep) =
        find(&hub, |_, d| d.issues.len() > 3 && d.pulls.len() > 3 && d.issues.iter().any(|i| i.author.is_some()));
    let query = "query Deep($owner: String!, $name: String!, $n: Int = 3, $withPulls: Boolean!) {
      repo: repository(owner: $owner, name: $name) {
        __typename
        ...Basics
        opened: issues(first: $n, orderBy: {field: CREATED_AT, direction: ASC}) { nodes { ...IssueBits } }
        prs: pullRequests(first: 2) @include(if: $withPulls) { nodes { number author { __typename login ... on User { databaseId } } } }
        skipped: pullRequests(first: 2) @skip(if: $withPulls) { totalCount }
      }
    }
    fragment Basics on Repository { nameWithOwner databaseId owner { __typename login } }
    fragment IssueBits on Issue { __typename number title alias: title author { login ... on User { databaseId } } }";
    let body = ask(&hub, query, json!({"owner": repo.owner_login(), "name": repo.name(), "withPulls": true}));
    assert!(body.get("errors").is_none(), "{body}");
    let r = &body["data"]["repo"];
    assert_eq!(r["__typename"], "Repository");
    assert_eq!(r["nameWithOwner"], json!(repo.full_name));
    assert_eq!(r["owner"]["__typename"], json!(repo.owner_type.as_str()));
    assert!(r.get("skipped").is_none());
    let issues = r["opened"]["nodes"].as_array().expect("issues");
    assert_eq!(issues.len(), 3);
    for (node, truth) in issues.iter().zip(&deep.issues) {
        assert_eq!(node["__typename"], "Issue");
        assert_eq!(node["number"], json!(truth.number));
        assert_eq!(node["alias"], node["title"]);
        match &truth.author {
            Some(a) => assert_eq!(node["author"], json!({"login": a.login, "databaseId": a.id})),
            None => assert!(node["author"].is_null(), "deleted accounts are null in GraphQL"),
        }
    }
    assert_eq!(r["prs"]["nodes"].as_array().map(Vec::len), Some(2));
    // The named operation is picked by operationName among several.
    let two = "query A { rateLimit { cost } } query B { rateLimit { limit } }";
    let resp = graphql(&hub, "t", &json!({"query": two, "operationName": "B"})).json();
    assert_eq!(resp["data"], json!({"rateLimit": {"limit": 5000}}));
    let resp = graphql(&hub, "t", &json!({"query": two})).json();
    assert_eq!(resp["errors"][0]["message"], "An operation name is required");
    // Variables as a JSON string are accepted too (some clients send that).
    let resp =
        graphql(&hub, "t", &json!({"query": CALIBRATE, "variables": json!({"ids": [repo.node_id]}).to_string()}))
            .json();
    assert_eq!(resp["data"]["nodes"][0]["databaseId"], json!(repo.id));
}

/// Walk a connection page by page; `extract` takes the connection from the answer.
fn walk_connection(hub: &FakeHub, query: &str, vars: Value, extract: impl Fn(&Value) -> Value) -> (Vec<Value>, u64) {
    let mut after = Value::Null;
    let mut out = Vec::new();
    let mut total = 0;
    loop {
        let mut v = vars.clone();
        v["after"] = after.clone();
        let body = ask(hub, query, v);
        assert!(body.get("errors").is_none(), "{body}");
        let conn = extract(&body["data"]);
        total = conn["totalCount"].as_u64().unwrap_or(total);
        let nodes = conn["nodes"].as_array().cloned().unwrap_or_default();
        out.extend(nodes);
        if conn["pageInfo"]["hasNextPage"] != json!(true) {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    (out, total)
}

#[test]
fn issues_and_pull_requests_page_by_cursor() {
    let hub = start(Options::default());
    let (repo, deep) = find(&hub, |_, d| d.issues.len() > 120 && d.pulls.len() > 60);
    let query = "query($owner: String!, $name: String!, $after: String) {
      repository(owner: $owner, name: $name) {
        issues(first: 37, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
          totalCount pageInfo { hasNextPage endCursor }
          nodes { id databaseId number title state stateReason author { login ... on User { databaseId } }
                  createdAt updatedAt closedAt labels(first: 4) { totalCount nodes { name } } comments { totalCount } }
        }
      }
    }";
    let vars = json!({"owner": repo.owner_login(), "name": repo.name()});
    let (nodes, total) = walk_connection(&hub, query, vars.clone(), |d| d["repository"]["issues"].clone());
    assert_eq!(total as usize, deep.issues.len());
    let mut truth: Vec<_> = deep.issues.iter().collect();
    truth.sort_by_key(|i| (i.updated_at, i.number));
    truth.reverse();
    assert_eq!(
        nodes.iter().map(|n| n["number"].as_u64().unwrap_or(0)).collect::<Vec<_>>(),
        truth.iter().map(|i| u64::from(i.number)).collect::<Vec<_>>()
    );
    for (node, i) in nodes.iter().zip(&truth) {
        assert_eq!(node["databaseId"], json!(i.id));
        assert_eq!(node["state"], json!(if i.state == State::Open { "OPEN" } else { "CLOSED" }));
        assert_eq!(node["stateReason"], json!(i.state_reason.map(|r| r.graphql())));
        assert_eq!(node["closedAt"], json!(i.closed_at.map(|t| t.to_string())));
        assert_eq!(node["labels"]["totalCount"], json!(i.labels.len()));
        assert_eq!(node["comments"]["totalCount"], json!(i.comments));
    }
    // filterBy since, states; backwards with last/before; edges carry cursors.
    let since = truth[truth.len() / 3].updated_at;
    let q = "query($o: String!, $n: String!, $since: DateTime, $after: String) { repository(owner: $o, name: $n) {
        issues(first: 100, after: $after, filterBy: {since: $since}, states: [OPEN, CLOSED]) { totalCount pageInfo { hasNextPage endCursor } nodes { number updatedAt } } } }";
    let (recent, total) =
        walk_connection(&hub, q, json!({"o": repo.owner_login(), "n": repo.name(), "since": since.to_string()}), |d| {
            d["repository"]["issues"].clone()
        });
    let want = deep.issues.iter().filter(|i| i.updated_at >= since).count();
    assert_eq!((recent.len(), total as usize), (want, want));
    let q = "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { closed: issues(states: CLOSED) { totalCount } open: issues(states: OPEN) { totalCount }
        tail: issues(last: 3) { edges { cursor node { number } } pageInfo { hasPreviousPage startCursor } } } }";
    let body = ask(&hub, q, json!({"o": repo.owner_login(), "n": repo.name()}));
    let r = &body["data"]["repository"];
    assert_eq!(r["closed"]["totalCount"], json!(deep.issues.len() - deep.open_issues()));
    assert_eq!(r["open"]["totalCount"], json!(deep.open_issues()));
    let tail: Vec<u64> =
        r["tail"]["edges"].as_array().expect("edges").iter().filter_map(|e| e["node"]["number"].as_u64()).collect();
    let last3: Vec<u64> = deep.issues[deep.issues.len() - 3..].iter().map(|i| u64::from(i.number)).collect();
    assert_eq!(tail, last3, "default order is created ascending");
    assert_eq!(r["tail"]["pageInfo"]["hasPreviousPage"], json!(true));
    let before = r["tail"]["pageInfo"]["startCursor"].clone();
    let q = "query($o: String!, $n: String!, $b: String) { repository(owner: $o, name: $n) { issues(last: 2, before: $b) { nodes { number } } } }";
    let body = ask(&hub, q, json!({"o": repo.owner_login(), "n": repo.name(), "b": before}));
    let prev: Vec<u64> = body["data"]["repository"]["issues"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["number"].as_u64())
        .collect();
    assert_eq!(
        prev,
        deep.issues[deep.issues.len() - 5..deep.issues.len() - 3]
            .iter()
            .map(|i| u64::from(i.number))
            .collect::<Vec<_>>()
    );

    // Pull requests: all states, merged ones, heads.
    let q = "query($owner: String!, $name: String!, $after: String) { repository(owner: $owner, name: $name) {
        pullRequests(first: 50, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) { totalCount pageInfo { hasNextPage endCursor }
          nodes { id databaseId number state isDraft createdAt updatedAt closedAt mergedAt mergeCommit { oid } baseRefName headRefName
                  headRepository { databaseId } author { login } labels(first: 5) { nodes { name } } additions deletions changedFiles
                  comments { totalCount } reviews { totalCount } } } } }";
    let (pulls, total) = walk_connection(&hub, q, vars, |d| d["repository"]["pullRequests"].clone());
    assert_eq!(total as usize, deep.pulls.len());
    let mut truth: Vec<_> = deep.pulls.iter().collect();
    truth.sort_by_key(|p| std::cmp::Reverse((p.created_at, p.number)));
    for (node, p) in pulls.iter().zip(&truth) {
        assert_eq!(node["number"], json!(p.number));
        assert_eq!(node["databaseId"], json!(p.id));
        assert_eq!(node["state"], json!(p.graphql_state()));
        assert_eq!(node["mergeCommit"], p.merge_commit_sha.as_ref().map_or(Value::Null, |s| json!({"oid": s})));
        assert_eq!(node["headRepository"], p.head_repo_id.map_or(Value::Null, |id| json!({"databaseId": id})));
        assert_eq!(
            (node["additions"].as_u64(), node["changedFiles"].as_u64()),
            (Some(p.additions.into()), Some(p.changed_files.into()))
        );
        assert_eq!(node["reviews"]["totalCount"], json!(p.review_count));
        assert_eq!(node["author"].is_null(), p.author.is_none());
    }
    let q = "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { merged: pullRequests(states: MERGED) { totalCount } open: pullRequests(states: [OPEN]) { totalCount } } }";
    let body = ask(&hub, q, json!({"o": repo.owner_login(), "n": repo.name()}));
    assert_eq!(
        body["data"]["repository"]["merged"]["totalCount"],
        json!(deep.pulls.iter().filter(|p| p.merged()).count())
    );
    assert_eq!(body["data"]["repository"]["open"]["totalCount"], json!(deep.open_pulls()));
}

#[test]
fn commit_history_pages_by_cursor() {
    let hub = start(Options::default());
    let (repo, deep) = find(&hub, |_, d| d.commits.len() > 130);
    let query = "query($owner: String!, $name: String!, $after: String) { repository(owner: $owner, name: $name) {
        defaultBranchRef { name target { __typename ... on Commit { oid committedDate
          history(first: 60, after: $after) { totalCount pageInfo { hasNextPage endCursor }
            nodes { oid messageHeadline message committedDate authoredDate
                    author { name email date user { login databaseId } } committer { name email date user { login databaseId } } } } } } } } }";
    let vars = json!({"owner": repo.owner_login(), "name": repo.name()});
    let (nodes, total) = walk_connection(&hub, query, vars.clone(), |d| {
        d["repository"]["defaultBranchRef"]["target"]["history"].clone()
    });
    assert_eq!(total as usize, deep.commits.len());
    assert_eq!(nodes.len(), deep.commits.len());
    for (node, c) in nodes.iter().zip(&deep.commits) {
        assert_eq!(node["oid"], json!(c.sha));
        assert_eq!(node["messageHeadline"], json!(c.headline()));
        assert_eq!(node["message"], json!(c.message));
        assert_eq!(node["committedDate"], json!(c.committer.date.to_string()));
        assert_eq!(node["author"]["email"], json!(c.author.email));
        assert_eq!(
            node["author"]["user"],
            c.author_account.as_ref().map_or(Value::Null, |a| json!({"login": a.login, "databaseId": a.id}))
        );
        assert_eq!(node["committer"]["user"].is_null(), c.committer_account.is_none());
    }
    let body = ask(&hub, query, vars);
    let target = &body["data"]["repository"]["defaultBranchRef"]["target"];
    assert_eq!(target["__typename"], "Commit");
    assert_eq!(target["oid"], json!(deep.commits[0].sha));
    // since/until narrow the history (committed date, inclusive).
    let (a, b) = (deep.commits[90].committer.date, deep.commits[10].committer.date);
    let q = "query($o: String!, $n: String!, $since: GitTimestamp, $until: GitTimestamp) { repository(owner: $o, name: $n) {
        defaultBranchRef { target { ... on Commit { history(first: 100, since: $since, until: $until) { totalCount nodes { oid } } } } } } }";
    let body = ask(
        &hub,
        q,
        json!({"o": repo.owner_login(), "n": repo.name(), "since": a.to_string(), "until": b.to_string()}),
    );
    let want = deep.commits.iter().filter(|c| c.committer.date >= a && c.committer.date <= b).count();
    assert_eq!(body["data"]["repository"]["defaultBranchRef"]["target"]["history"]["totalCount"], json!(want));
}

#[test]
fn node_ids_resolve_to_issues_pull_requests_and_users() {
    let hub = start(Options::default());
    let (repo, deep) = find(&hub, |_, d| !d.issues.is_empty() && !d.pulls.is_empty() && d.issues[0].author.is_some());
    let issue = &deep.issues[0];
    let pull = &deep.pulls[0];
    let issue_node = fakehub::ids::issue_node_id(issue.id);
    let pull_node = fakehub::ids::pull_node_id(pull.id);
    let user = issue.author.clone().expect("author");
    let q = "query($ids: [ID!]!, $one: ID!) { nodes(ids: $ids) { __typename ... on Issue { number title } ... on PullRequest { number state } ... on User { login databaseId } ... on Repository { nameWithOwner } }
       single: node(id: $one) { id ... on Issue { databaseId } } }";
    let ids = json!([issue_node, pull_node, fakehub::ids::user_node_id(user.id), repo.node_id, "bogus"]);
    let body = ask(&hub, q, json!({"ids": ids, "one": issue_node}));
    let nodes = &body["data"]["nodes"];
    assert_eq!(nodes[0], json!({"__typename": "Issue", "number": issue.number, "title": issue.title}));
    assert_eq!(nodes[1], json!({"__typename": "PullRequest", "number": pull.number, "state": pull.graphql_state()}));
    assert_eq!(nodes[2], json!({"__typename": "User", "login": user.login, "databaseId": user.id}));
    assert_eq!(nodes[3], json!({"__typename": "Repository", "nameWithOwner": repo.full_name}));
    assert!(nodes[4].is_null());
    assert_eq!(body["errors"][0]["path"], json!(["nodes", 4]));
    assert_eq!(body["errors"][0]["message"], "Could not resolve to a node with the global id of 'bogus'");
    assert_eq!(body["data"]["single"], json!({"id": issue_node, "databaseId": issue.id}));
}

#[test]
fn errors_like_github() {
    let hub = start(Options::default());
    let (repo, _) = find(&hub, |_, d| d.issues.len() > 5);
    let o = json!({"o": repo.owner_login(), "n": repo.name()});
    // Unknown field: a validation error, no data.
    let body = ask(&hub, "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { stars } }", o.clone());
    assert!(body.get("data").is_none());
    assert_eq!(body["errors"][0]["message"], "Field 'stars' doesn't exist on type 'Repository'");
    assert_eq!(body["errors"][0]["extensions"]["code"], "undefinedField");
    assert_eq!(body["errors"][0]["path"], json!(["query", "repository", "stars"]));
    // Items without first/last: the connection's object is null, with GitHub's message.
    let body = ask(
        &hub,
        "query($o: String!, $n: String!) { rateLimit { cost } repository(owner: $o, name: $n) { name issues { nodes { number } } } }",
        o.clone(),
    );
    assert!(body["data"]["repository"].is_null());
    assert!(body["data"]["rateLimit"].is_object());
    assert_eq!(body["errors"][0]["type"], "MISSING_PAGINATION_BOUNDARIES");
    assert_eq!(
        body["errors"][0]["message"],
        "You must provide a `first` or `last` value to properly paginate the `issues` connection."
    );
    assert_eq!(body["errors"][0]["path"], json!(["repository", "issues"]));
    // first: 101.
    let body = ask(
        &hub,
        "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { issues(first: 101) { nodes { number } } } }",
        o.clone(),
    );
    assert_eq!(body["errors"][0]["type"], "EXCESSIVE_PAGINATION");
    assert_eq!(
        body["errors"][0]["message"],
        "Requesting 101 records on the `issues` connection exceeds the `first` limit of 100 records."
    );
    // Nested: a bad labels(first:) nulls the issue, not the repository.
    let body = ask(
        &hub,
        "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { name issues(first: 2) { nodes { number labels(last: 500) { totalCount } } } } }",
        o.clone(),
    );
    assert_eq!(body["data"]["repository"]["issues"]["nodes"], json!([null, null]));
    assert_eq!(body["errors"][0]["path"], json!(["repository", "issues", "nodes", 0, "labels"]));
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("`last` limit of 100")));
    // A bad cursor.
    let body = ask(
        &hub,
        "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { issues(first: 1, after: \"nope\") { nodes { number } } } }",
        o.clone(),
    );
    assert_eq!(body["errors"][0]["type"], "INVALID_CURSOR_ARGUMENTS");
    // More than 100 ids.
    let many: Vec<&str> = hub.universe().repos().iter().take(101).map(|r| r.node_id.as_str()).collect();
    let body = ask(&hub, CALIBRATE, json!({"ids": many}));
    assert!(body["data"].is_null());
    assert_eq!(body["errors"][0]["message"], "You may not provide more than 100 node ids; you provided 101.");
    // Over 500,000 possible nodes.
    let ids: Vec<&str> = many[..100].to_vec();
    let huge = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Repository { issues(first: 100) { nodes { labels(first: 100) { nodes { name } } } } } } }";
    let body = ask(&hub, huge, json!({"ids": ids}));
    assert!(body["data"].is_null());
    assert_eq!(body["errors"][0]["type"], "MAX_NODE_LIMIT_EXCEEDED");
    assert_eq!(
        body["errors"][0]["message"],
        "This query requests up to 1,010,100 possible nodes which exceeds the maximum limit of 500,000."
    );
    // Variables: missing, wrong type, undeclared, unused; syntax errors.
    let body = ask(&hub, CALIBRATE, json!({}));
    assert_eq!(body["errors"][0]["message"], "Variable $ids of type [ID!]! was provided invalid value");
    let body = ask(
        &hub,
        "query($n: Int!) { repository(owner: \"a\", name: \"b\") { issues(first: $n) { totalCount } } }",
        json!({"n": "ten"}),
    );
    assert_eq!(body["errors"][0]["message"], "Variable $n of type Int! was provided invalid value");
    let body = ask(&hub, "{ repository(owner: $o, name: \"b\") { id } }", json!({"o": "x"}));
    assert_eq!(body["errors"][0]["message"], "Variable $o is used by anonymous query but not declared");
    let body = ask(&hub, "{ repository(owner: \"a\", name: \"b\") { id ", Value::Null);
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.starts_with("Parse error")));
    assert!(body.get("data").is_none());
    let body = ask(&hub, "{ repository(owner: \"a\", name: \"b\") { owner } }", Value::Null);
    assert!(body["errors"][0]["message"].as_str().is_some_and(|m| m.contains("must have selections")));
    let body = ask(
        &hub,
        "{ repository(owner: \"a\", name: \"b\") { issues(first: 1, sort: NEWEST) { totalCount } } }",
        Value::Null,
    );
    assert_eq!(body["errors"][0]["message"], "Field 'issues' doesn't accept argument 'sort'");
    let body = ask(&hub, "{ repository(owner: \"a\", name: \"b\") { ... on Issue { number } } }", Value::Null);
    assert_eq!(body["errors"][0]["message"], "Fragment on Issue can't be spread inside Repository");
    let stats = hub.stats();
    assert_eq!(stats.graphql_points, 14, "each of these 14 queries costs 1 (refused or tiny)");
}

#[test]
fn cost_is_charged_by_githubs_formula() {
    let hub = start(Options { graphql_limit: 300, ..Options::default() });
    let u = hub.universe();
    let ids: Vec<&str> = u.repos().iter().filter(|r| !r.deleted).take(100).map(|r| r.node_id.as_str()).collect();
    // 100 ids x issues(first: 100) x labels(first: 10): 100 + 10,000 = 10,100 requests = 101 points.
    let q = "query($ids: [ID!]!) { rateLimit { cost remaining used } nodes(ids: $ids) { ... on Repository { issues(first: 100) { nodes { number labels(first: 10) { nodes { name } } } } } } }";
    let body = ask(&hub, q, json!({"ids": ids}));
    assert_eq!(body["data"]["rateLimit"], json!({"cost": 101, "remaining": 199, "used": 101}));
    // Only 50 ids: 50 + 5,000 = 5,050 requests = 51 points (50.5 rounds up).
    let body = ask(&hub, q, json!({"ids": &ids[..50]}));
    assert_eq!(body["data"]["rateLimit"]["cost"], json!(51));
    assert_eq!(body["data"]["rateLimit"]["remaining"], json!(148));
    // totalCount-only connections are free: 1 point.
    let free = "query($ids: [ID!]!) { rateLimit { cost } nodes(ids: $ids) { ... on Repository { issues { totalCount } pullRequests(states: OPEN) { totalCount } } } }";
    assert_eq!(ask(&hub, free, json!({"ids": ids}))["data"]["rateLimit"]["cost"], json!(1));
    // 147 left: a 101-point query is refused (RATE_LIMITED, not charged), a 1-point one runs.
    let body = ask(&hub, q, json!({"ids": ids}));
    assert_eq!(body["data"]["rateLimit"]["cost"], json!(101));
    let refused = graphql(&hub, "t", &json!({"query": q, "variables": {"ids": ids}}));
    assert_eq!(refused.json()["errors"][0]["type"], "RATE_LIMITED");
    assert_eq!(refused.num("x-ratelimit-remaining"), 46);
    let stats = hub.stats();
    assert_eq!(stats.graphql_points, 101 + 51 + 1 + 101);
    assert_eq!(stats.graphql_requests, 10_100 + 5_050 + 10_100);
    assert_eq!(stats.primary_violations, 1);
    assert!(stats.graphql_returned > 200);
    assert_eq!(stats.graphql_queries, 4);
}

#[test]
fn the_timeout_knob_forces_smaller_queries() {
    let hub = start(Options { graphql_timeout_nodes: Some(60), ..Options::default() });
    let (repo, _) = find(&hub, |_, d| d.issues.len() > 100);
    let q = "query($o: String!, $n: String!, $k: Int!) { repository(owner: $o, name: $n) { issues(first: $k) { nodes { number } } } }";
    let resp =
        graphql(&hub, "t", &json!({"query": q, "variables": {"o": repo.owner_login(), "n": repo.name(), "k": 100}}));
    let body = resp.json();
    assert!(body["data"].is_null());
    let id = resp.header("x-github-request-id").expect("request id");
    assert_eq!(
        body["errors"][0]["message"],
        json!(format!(
            "Something went wrong while executing your query. This may be the result of a timeout, or it could be a GitHub bug. Please include `{id}` when reporting this issue."
        ))
    );
    let small = ask(&hub, q, json!({"o": repo.owner_login(), "n": repo.name(), "k": 50}));
    assert_eq!(small["data"]["repository"]["issues"]["nodes"].as_array().map(Vec::len), Some(50));
    let stats = hub.stats();
    assert_eq!((stats.graphql_timeouts, stats.graphql_points), (1, 2), "timeouts are charged");
}

#[test]
fn advance_shows_in_graphql() {
    let hub = start(Options::default());
    let before = hub.universe().now();
    let step = hub.advance(3, 0.3, 11);
    let u = hub.universe();
    let repo = step
        .changed
        .iter()
        .filter_map(|&id| u.get(id))
        .find(|r| r.has_issues && !r.is_empty())
        .expect("changed")
        .clone();
    let deep = u.deep(repo.id).expect("deep");
    let q = "query($o: String!, $n: String!, $since: DateTime) { repository(owner: $o, name: $n) { pushedAt
        issues(first: 100, filterBy: {since: $since}) { totalCount } pullRequests(first: 100, orderBy: {field: UPDATED_AT, direction: DESC}) { nodes { updatedAt } }
        defaultBranchRef { target { ... on Commit { oid history(first: 5, since: $since) { totalCount } } } } } }";
    let body = ask(&hub, q, json!({"o": repo.owner_login(), "n": repo.name(), "since": before.to_string()}));
    let r = &body["data"]["repository"];
    assert_eq!(r["pushedAt"], json!(repo.pushed_at.to_string()));
    assert_eq!(r["defaultBranchRef"]["target"]["oid"], json!(deep.commits[0].sha));
    assert_eq!(r["issues"]["totalCount"], json!(deep.issues.iter().filter(|i| i.updated_at >= before).count()));
    let new_commits = deep.commits.iter().filter(|c| c.committer.date >= before).count();
    assert!(new_commits >= 1);
    assert_eq!(r["defaultBranchRef"]["target"]["history"]["totalCount"], json!(new_commits));
}

#[test]
fn same_seed_same_answers() {
    let (a, b) = (start(Options::default()), start(Options::default()));
    let (repo, _) = find(&a, |_, d| d.issues.len() > 10 && d.commits.len() > 10);
    let q = "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { issues(first: 50) { nodes { id title author { login } updatedAt labels(first: 3) { nodes { name } } } }
        defaultBranchRef { target { ... on Commit { history(first: 20) { nodes { oid message author { email } } } } } } } }";
    let vars = json!({"o": repo.owner_login(), "n": repo.name()});
    assert_eq!(ask(&a, q, vars.clone()), ask(&b, q, vars));
}

#[test]
fn topics_and_labels_page_by_cursor_too() {
    let hub = start(Options::default());
    let u = hub.universe();
    let repo = u.repos().iter().find(|r| !r.deleted && r.topics.len() >= 3).expect("topics").clone();
    let q = "query($o: String!, $n: String!, $after: String) { repository(owner: $o, name: $n) {
        repositoryTopics(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { topic { name } } } } }";
    let (topics, total) = walk_connection(&hub, q, json!({"o": repo.owner_login(), "n": repo.name()}), |d| {
        d["repository"]["repositoryTopics"].clone()
    });
    assert_eq!(total as usize, repo.topics.len());
    assert_eq!(topics.iter().filter_map(|t| t["topic"]["name"].as_str()).collect::<Vec<_>>(), repo.topics);
    let (repo, deep) = find(&hub, |_, d| d.issues.iter().any(|i| i.labels.len() >= 3));
    let issue = deep.issues.iter().find(|i| i.labels.len() >= 3).expect("labelled");
    let q = "query($id: ID!, $after: String) { node(id: $id) { ... on Issue { labels(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { name } } } } }";
    let (labels, total) =
        walk_connection(&hub, q, json!({"id": fakehub::ids::issue_node_id(issue.id)}), |d| d["node"]["labels"].clone());
    assert_eq!(total as usize, issue.labels.len());
    assert_eq!(labels.iter().filter_map(|l| l["name"].as_str()).collect::<Vec<_>>(), issue.labels);
    let _ = repo;
}
