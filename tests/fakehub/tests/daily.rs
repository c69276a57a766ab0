//! Daily refreshes: `advance_day` (determinism, `advance` unchanged, each
//! kind of change as the ground truth, REST and GraphQL see it), compare,
//! count-only commit history and its cost, and the `/_fakehub/` controls.

mod common;

use common::{Conn, get, graphql, walk};
use fakehub::compare::{CompareStatus, FileStatus};
use fakehub::{Advance, DayChanges, FakeHub, Options, Repo, Timestamp, Universe, UniverseConfig};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashSet};

fn config(repos: usize) -> UniverseConfig {
    UniverseConfig { deleted_fraction: 0.03, ..UniverseConfig::new(repos, 1) }
}

fn day() -> DayChanges {
    DayChanges { pushed: 0.05, starred: 0.05, renamed: 0.03, described: 0.03, deleted: 0.02, created: 60 }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3))
}

/// Everything a crawl could see: the repositories, every id and every deep datum.
fn everything(u: &Universe) -> String {
    let mut text = serde_json::to_string(u.repos()).expect("json");
    text += &format!("{:?}", u.all_ids());
    for r in u.repos() {
        if let Some(d) = u.deep(r.id) {
            text += &format!("{d:?}");
        }
    }
    text
}

fn sorted_unique(ids: &[u64]) -> bool {
    ids.windows(2).all(|w| w[0] < w[1])
}

fn within(t: Timestamp, old: Timestamp, new: Timestamp) -> bool {
    old < t && t <= new
}

#[test]
fn advance_is_unchanged_and_is_advance_day_with_pushes_only() {
    // The fingerprint of the data was taken with the code before `advance_day` existed.
    let run = |u: &Universe, day_form: bool| {
        let mut text = String::new();
        for (d, f, s) in [(1, 0.1, 1), (3, 0.3, 2), (0, 0.2, 3), (2, 1.0, 4)] {
            let a = if day_form {
                u.advance_day(d, &DayChanges { pushed: f, ..DayChanges::default() }, s)
            } else {
                u.advance(d, f, s)
            };
            assert!(a.starred.is_empty() && a.renamed.is_empty() && a.described.is_empty());
            assert!(a.deleted.is_empty() && a.created.is_empty());
            assert_eq!(a.changed, a.pushed);
            // The ids reported are left out: a drawn repository with nothing to change (empty,
            // issues disabled) is no longer reported; the data is what it always was.
            text += &format!("{:?}\n", a.now);
        }
        text += &serde_json::to_string(u.repos()).expect("json");
        for r in u.repos() {
            if let Some(d) = u.deep(r.id) {
                text += &format!("{d:?}");
            }
        }
        format!("{:016x} {}", fnv(text.as_bytes()), text.len())
    };
    let cfg = UniverseConfig { deleted_fraction: 0.03, ..UniverseConfig::new(1500, 5) };
    let old = run(&Universe::generate(&cfg), false);
    assert_eq!(old, "4a9388c5d6e264f6 27474421", "advance() gives the data it always gave");
    assert_eq!(run(&Universe::generate(&cfg), true), old);
}

#[test]
fn the_same_sequence_gives_the_same_days() {
    let (a, b) = (Universe::generate(&config(1200)), Universe::generate(&config(1200)));
    // Different laziness: `a` generates all deep data first.
    for r in a.repos() {
        a.deep(r.id);
    }
    let other = DayChanges { pushed: 0.2, starred: 0.1, renamed: 0.1, described: 0.1, deleted: 0.05, created: 25 };
    for (days, changes, seed) in [(1, day(), 1), (2, other, 2), (0, day(), 3), (1, day(), 1)] {
        let (x, y) = (a.advance_day(days, &changes, seed), b.advance_day(days, &changes, seed));
        assert_eq!(x, y);
    }
    assert_eq!(fnv(everything(&a).as_bytes()), fnv(everything(&b).as_bytes()));
    let c = Universe::generate(&config(1200));
    let x = c.advance_day(1, &day(), 99);
    let y = Universe::generate(&config(1200)).advance_day(1, &day(), 1);
    assert_ne!(x, y, "another seed, another day");
}

#[test]
fn each_kind_does_what_it_says() {
    let u = Universe::generate(&config(3000));
    let before: Vec<Repo> = u.repos().to_vec();
    let (old_now, old_max, old_ids) = (u.now(), u.max_id(), u.all_ids().len());
    let a = u.advance_day(1, &day(), 3);
    assert_eq!(a.now.0, old_now.0 + 86_400);
    assert_eq!((u.now(), u.advances()), (a.now, 1));
    for list in [&a.changed, &a.pushed, &a.starred, &a.renamed, &a.described, &a.deleted, &a.created] {
        assert!(sorted_unique(list));
    }
    let mut union: Vec<u64> =
        [&a.pushed, &a.starred, &a.renamed, &a.described].into_iter().flatten().copied().collect();
    union.sort_unstable();
    union.dedup();
    assert_eq!(a.changed, union);
    assert!(a.deleted.iter().all(|id| a.changed.binary_search(id).is_err()));
    let visible = before.iter().filter(|r| !r.deleted).count();
    for (kind, list, fraction) in [
        ("pushed", &a.pushed, 0.05),
        ("starred", &a.starred, 0.05),
        ("renamed", &a.renamed, 0.03),
        ("described", &a.described, 0.03),
        ("deleted", &a.deleted, 0.02),
    ] {
        let share = list.len() as f64 / visible as f64;
        assert!(share > fraction * 0.5 && share < fraction * 1.6, "{kind}: {} of {visible}", list.len());
    }
    let has = |list: &[u64], id: u64| list.binary_search(&id).is_ok();
    for old in &before {
        let new = u.get(old.id).expect("still listed");
        assert_eq!(
            (new.node_id.as_str(), new.owner_id, new.created_at),
            (old.node_id.as_str(), old.owner_id, old.created_at)
        );
        if old.deleted {
            assert!(new.deleted);
            continue;
        }
        if has(&a.deleted, old.id) {
            assert!(new.deleted && u.deep(old.id).is_none() && u.visible(old.id).is_none());
            assert!(!u.owned_by(old.owner_login()).iter().any(|r| r.id == old.id));
            continue;
        }
        if !has(&a.changed, old.id) {
            assert_eq!(serde_json::to_string(new).ok(), serde_json::to_string(old).ok(), "unchanged {}", old.id);
            continue;
        }
        let only_issues = old.is_empty() && a.changed.binary_search(&old.id).is_ok() && {
            [&a.starred, &a.renamed, &a.described].iter().all(|l| !has(l, old.id))
        };
        if !only_issues {
            assert!(within(new.updated_at, old_now, a.now), "updated_at of {} moved", old.id);
        }
        if has(&a.starred, old.id) {
            assert_ne!(new.stargazers_count, old.stargazers_count);
            assert_eq!(new.watchers_count, new.stargazers_count);
        } else {
            assert_eq!(new.stargazers_count, old.stargazers_count);
        }
        if has(&a.renamed, old.id) {
            assert_ne!(new.name().to_lowercase(), old.name().to_lowercase());
            assert_eq!(new.owner_login(), old.owner_login());
            assert_eq!(u.by_full_name(&new.full_name).map(|r| r.id), Some(old.id));
            assert!(u.by_full_name(&old.full_name).is_none());
            assert_eq!(u.renamed_from(old.owner_login(), old.name()).map(|r| r.id), Some(old.id));
            assert!(u.owned_by(old.owner_login()).iter().any(|r| r.id == old.id && r.full_name == new.full_name));
        } else {
            assert_eq!(new.full_name, old.full_name);
        }
        if has(&a.described, old.id) {
            assert_ne!(new.description, old.description);
        } else {
            assert_eq!(new.description, old.description);
        }
        if has(&a.pushed, old.id) {
            // An empty repository gets issues but no commits.
            assert!(old.is_empty() || within(new.pushed_at, old_now, a.now));
        } else {
            assert_eq!(new.pushed_at, old.pushed_at);
        }
    }
    // Created: above the old highest id, created within the day, in order, visible everywhere.
    assert_eq!(a.created.len(), 60);
    assert!(a.created[0] > old_max && u.max_id() >= *a.created.last().unwrap_or(&0));
    assert!(u.all_ids().len() >= old_ids + 60);
    assert!(u.repos().windows(2).all(|w| w[0].id < w[1].id && w[0].created_at < w[1].created_at));
    let names: HashSet<String> = u.repos().iter().map(|r| r.full_name.to_lowercase()).collect();
    assert_eq!(names.len(), u.repos().len(), "full names stay unique");
    let mut empty = 0;
    for &id in &a.created {
        let r = u.visible(id).expect("created and visible");
        assert!(within(r.created_at, old_now, a.now) && r.pushed_at >= r.created_at && r.updated_at <= a.now);
        assert_eq!(u.by_full_name(&r.full_name).map(|x| x.id), Some(id));
        assert!(u.owned_by(r.owner_login()).iter().any(|x| x.id == id));
        let d = u.deep(id).expect("deep data");
        let inside = |t: Timestamp| r.created_at <= t && t <= a.now;
        assert!(d.issues.iter().all(|i| inside(i.created_at) && inside(i.updated_at)));
        assert!(d.pulls.iter().all(|p| inside(p.created_at) && inside(p.updated_at)));
        assert!(d.runs.iter().all(|x| inside(x.created_at) && inside(x.updated_at)));
        assert!(d.commits.iter().all(|c| inside(c.committer.date) && inside(c.author.date)));
        assert_eq!(d.open_issues() + d.open_pulls(), r.open_issues_count as usize);
        match d.head() {
            Some(head) => assert_eq!(head.committer.date, r.pushed_at),
            None => empty += 1,
        }
    }
    assert!(empty < 30, "most new repositories have commits: {empty} empty");
    let first = u.get(a.created[0]).expect("first created");
    let date = first.created_at.to_string()[..10].to_string();
    let found: HashSet<u64> =
        u.search(&format!("created:>={date} fork:true")).expect("search").iter().map(|r| r.id).collect();
    assert!(a.created.iter().all(|id| found.contains(id)), "search finds the new repositories");
    let all: HashSet<u64> = u.search("fork:true").expect("search").iter().map(|r| r.id).collect();
    assert!(a.deleted.iter().all(|id| !all.contains(id)), "deleted ones are gone from search");
    let starred: HashSet<u64> = u.owners().iter().flat_map(|o| u.starred_by(&o.login)).map(|r| r.id).collect();
    assert!(a.deleted.iter().all(|id| !starred.contains(id)), "and from users' stars");
    // A later push to a created repository keeps its history.
    let later = u.advance_day(1, &DayChanges { pushed: 1.0, ..DayChanges::default() }, 4);
    let created_and_pushed = a.created.iter().filter(|id| later.pushed.contains(id)).count();
    assert!(created_and_pushed > 30);
}

fn ask(hub: &FakeHub, query: &str, variables: Value) -> Value {
    let resp = graphql(hub, "t", &json!({"query": query, "variables": variables}));
    assert_eq!(resp.status, 200);
    resp.json()
}

#[test]
fn renamed_repositories_redirect_and_resolve_by_node_id() {
    let hub = FakeHub::start(Universe::generate(&config(2000)), Options::default());
    let before: Vec<Repo> = hub.universe().repos().to_vec();
    let a = hub.advance_day(1, &DayChanges { renamed: 0.05, ..DayChanges::default() }, 4);
    assert!(a.renamed.len() > 30 && a.changed == a.renamed);
    let id = a.renamed[0];
    let old = before.iter().find(|r| r.id == id).expect("old");
    let new = hub.universe().get(id).expect("new").clone();
    let location = format!("{}/repositories/{id}", hub.url());

    let moved = get(&hub, &format!("/repos/{}", old.full_name.to_uppercase()), &[]);
    assert_eq!(moved.status, 301);
    assert_eq!(moved.header("location"), Some(location.as_str()));
    assert_eq!(moved.json()["message"], "Moved Permanently");
    assert_eq!(moved.json()["url"], json!(location));
    let followed = get(&hub, &format!("/repositories/{id}"), &[]);
    assert_eq!(followed.status, 200);
    assert_eq!(
        (followed.json()["full_name"].clone(), followed.json()["node_id"].clone()),
        (json!(new.full_name), json!(old.node_id))
    );
    let direct = get(&hub, &format!("/repos/{}", new.full_name), &[]);
    assert_eq!((direct.status, direct.json()["id"].clone()), (200, json!(id)));
    // Deep paths redirect with their rest and query.
    let issues = get(&hub, &format!("/repos/{}/issues?state=all&per_page=5", old.full_name), &[]);
    assert_eq!(issues.status, 301);
    assert_eq!(issues.header("location"), Some(format!("{location}/issues?state=all&per_page=5").as_str()));
    let commits = get(&hub, &format!("/repos/{}/commits?per_page=1", new.full_name), &[]);
    assert!(commits.status == 200 || (new.is_empty() && commits.status == 409));
    // Unknown names stay 404.
    assert_eq!(get(&hub, &format!("/repos/{}/no-such-name-x", old.owner_login()), &[]).status, 404);

    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Repository { databaseId nameWithOwner name } } }";
    let body = ask(&hub, q, json!({"ids": [old.node_id]}));
    assert_eq!(body["data"]["nodes"][0]["nameWithOwner"], json!(new.full_name));
    assert_eq!(body["data"]["nodes"][0]["name"], json!(new.name()));
    let by_name = "query($o: String!, $n: String!, $f: Boolean!) { repository(owner: $o, name: $n, followRenames: $f) { databaseId nameWithOwner } }";
    let vars = |follow: bool| json!({"o": old.owner_login(), "n": old.name(), "f": follow});
    let body = ask(&hub, by_name, vars(true));
    assert_eq!(body["data"]["repository"], json!({"databaseId": id, "nameWithOwner": new.full_name}));
    let body = ask(&hub, by_name, vars(false));
    assert_eq!(body["data"]["repository"], Value::Null);
    assert_eq!(body["errors"][0]["type"], "NOT_FOUND");

    let (pages, _) = walk(&hub, &format!("/users/{}/repos?per_page=100", old.owner_login()), &[]);
    let listed: Vec<&str> =
        pages.iter().flat_map(|p| p.as_array().into_iter().flatten()).filter_map(|r| r["full_name"].as_str()).collect();
    assert!(listed.contains(&new.full_name.as_str()) && !listed.contains(&old.full_name.as_str()));
}

#[test]
fn deleted_and_created_repositories_everywhere() {
    let hub = FakeHub::start(Universe::generate(&config(2000)), Options::default());
    let (old_now, old_max) = (hub.universe().now(), hub.universe().max_id());
    let a = hub.advance_day(1, &DayChanges { deleted: 0.02, created: 40, ..DayChanges::default() }, 5);
    assert!(a.deleted.len() > 10 && a.changed.is_empty());
    let u = hub.universe();

    let gone = u.get(a.deleted[0]).expect("listed").clone();
    assert_eq!(get(&hub, &format!("/repos/{}", gone.full_name), &[]).status, 404);
    assert_eq!(get(&hub, &format!("/repositories/{}", gone.id), &[]).status, 404);
    assert_eq!(get(&hub, &format!("/repos/{}/commits", gone.full_name), &[]).status, 404);
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Repository { databaseId nameWithOwner createdAt } } }";
    let body = ask(&hub, q, json!({"ids": [gone.node_id]}));
    assert_eq!(body["data"]["nodes"][0], Value::Null);
    assert_eq!(body["errors"][0]["type"], "NOT_FOUND");
    let (pages, _) = walk(&hub, &format!("/users/{}/repos?per_page=100", gone.owner_login()), &[]);
    assert!(pages.iter().flat_map(|p| p.as_array().into_iter().flatten()).all(|r| r["id"] != json!(gone.id)));

    // Created: /repositories lists them above the old highest id.
    let (pages, _) = walk(&hub, &format!("/repositories?since={old_max}"), &[]);
    let listed: Vec<u64> =
        pages.iter().flat_map(|p| p.as_array().into_iter().flatten()).filter_map(|r| r["id"].as_u64()).collect();
    assert_eq!(listed, a.created);
    let nodes: Vec<&str> = a.created.iter().filter_map(|&id| u.get(id)).map(|r| r.node_id.as_str()).collect();
    let body = ask(&hub, q, json!({"ids": nodes}));
    assert!(body.get("errors").is_none(), "{body}");
    for (node, &id) in body["data"]["nodes"].as_array().expect("nodes").iter().zip(&a.created) {
        assert_eq!(node["databaseId"], json!(id));
        let created = node["createdAt"].as_str().expect("createdAt");
        assert!(created > old_now.to_string().as_str() && created <= a.now.to_string().as_str());
    }
    let fresh = u.get(a.created[0]).expect("created").clone();
    let by_name = "query($o: String!, $n: String!) { repository(owner: $o, name: $n) { databaseId } }";
    let body = ask(&hub, by_name, json!({"o": fresh.owner_login(), "n": fresh.name()}));
    assert_eq!(body["data"]["repository"]["databaseId"], json!(fresh.id));
    let repo = get(&hub, &format!("/repos/{}", fresh.full_name), &[]);
    assert_eq!((repo.status, repo.json()["created_at"].clone()), (200, json!(fresh.created_at.to_string())));
    let date = fresh.created_at.to_string()[..10].to_string();
    let (pages, _) = walk(&hub, &format!("/search/repositories?q=created:%3E%3D{date}+fork:true&per_page=100"), &[]);
    let found: HashSet<u64> = pages
        .iter()
        .flat_map(|p| p["items"].as_array().into_iter().flatten())
        .filter_map(|r| r["id"].as_u64())
        .collect();
    assert!(a.created.iter().all(|id| found.contains(id)));
    let (pages, _) = walk(&hub, &format!("/users/{}/repos?per_page=100", fresh.owner_login()), &[]);
    assert!(pages.iter().flat_map(|p| p.as_array().into_iter().flatten()).any(|r| r["id"] == json!(fresh.id)));
}

/// (status, ahead, behind, total, commit shas, files) of a REST compare.
fn rest_compare(hub: &FakeHub, path: &str) -> (u16, Value) {
    let resp = get(hub, path, &[]);
    let body = if resp.body.is_empty() { Value::Null } else { resp.json() };
    (resp.status, body)
}

#[test]
fn compare_matches_the_commits_and_their_files() {
    let hub = FakeHub::start(Universe::generate(&config(500)), Options::default());
    let u = hub.universe();
    let repo = u
        .repos()
        .iter()
        .find(|r| !r.deleted && u.deep(r.id).is_some_and(|d| d.commits.len() >= 3))
        .expect("a repository with commits")
        .clone();
    let old = u.deep(repo.id).expect("deep");
    let a = hub.advance_day(1, &DayChanges { pushed: 1.0, ..DayChanges::default() }, 6);
    assert!(a.pushed.contains(&repo.id));
    let new = u.deep(repo.id).expect("deep");
    let fresh = new.commits.len() - old.commits.len();
    assert!(fresh >= 1);
    let (old_head, new_head) = (old.commits[0].sha.clone(), new.commits[0].sha.clone());

    let used = |hub: &FakeHub| hub.stats().by_route.get("GET /repos/{owner}/{name}/compare/{basehead}").copied();
    let (status, body) = rest_compare(&hub, &format!("/repos/{}/compare/{old_head}...{new_head}", repo.full_name));
    assert_eq!(status, 200);
    assert_eq!(used(&hub), Some(1), "a core request like the others");
    assert_eq!(
        (body["status"].clone(), body["ahead_by"].clone(), body["behind_by"].clone(), body["total_commits"].clone()),
        (json!("ahead"), json!(fresh), json!(0), json!(fresh))
    );
    let shas: Vec<&str> =
        body["commits"].as_array().expect("commits").iter().filter_map(|c| c["sha"].as_str()).collect();
    let want: Vec<&str> = new.commits[..fresh].iter().rev().map(|c| c.sha.as_str()).collect();
    assert_eq!(shas, want, "the new commits, oldest first");
    assert_eq!(body["base_commit"]["sha"], json!(old_head));
    assert_eq!(body["merge_base_commit"]["sha"], json!(old_head));
    // Files: one entry per path the commits changed (added-then-removed ones left out, as git does).
    let mut net: BTreeMap<String, (bool, bool, u32, u32)> = BTreeMap::new();
    for c in new.commits[..fresh].iter().rev() {
        let files = u.commit_files(repo.id, &c.sha).expect("files");
        assert!((1..=4).contains(&files.len()));
        for f in files {
            let e = net.entry(f.filename.clone()).or_insert((f.status != FileStatus::Added, true, 0, 0));
            e.1 = f.status != FileStatus::Removed;
            e.2 += f.additions;
            e.3 += f.deletions;
        }
    }
    let files = body["files"].as_array().expect("files");
    let got: Vec<(String, String)> = files
        .iter()
        .map(|f| (f["filename"].as_str().unwrap_or("").to_string(), f["status"].as_str().unwrap_or("").to_string()))
        .collect();
    let expected: Vec<(String, String)> = net
        .iter()
        .filter_map(|(name, (existed, exists, _, _))| {
            let status = match (existed, exists) {
                (true, true) => "modified",
                (false, true) => "added",
                (true, false) => "removed",
                (false, false) => return None,
            };
            Some((name.clone(), status.to_string()))
        })
        .collect();
    assert_eq!(got, expected);
    for f in files {
        let (a, d) = (f["additions"].as_u64().unwrap_or(0), f["deletions"].as_u64().unwrap_or(0));
        assert_eq!(f["changes"].as_u64(), Some(a + d));
        assert_eq!(f["sha"].as_str().map(str::len), Some(40));
        if f["status"] == "modified" {
            let (_, _, na, nd) = net[f["filename"].as_str().unwrap_or("")];
            assert_eq!((a, d), (u64::from(na), u64::from(nd)));
        }
    }
    let truth = u.compare(repo.id, &old_head, &new_head).expect("truth");
    assert_eq!((truth.status, truth.ahead_by, truth.files.len()), (CompareStatus::Ahead, fresh, files.len()));

    // The other way round, by branch name and short sha, by id: behind, nothing to show.
    let short = &old_head[..7];
    let (status, body) =
        rest_compare(&hub, &format!("/repositories/{}/compare/{}...{short}", repo.id, repo.default_branch));
    assert_eq!(status, 200);
    assert_eq!(
        (body["status"].clone(), body["ahead_by"].clone(), body["behind_by"].clone()),
        (json!("behind"), json!(0), json!(fresh))
    );
    assert_eq!(
        (body["commits"].clone(), body["files"].clone(), body["total_commits"].clone()),
        (json!([]), json!([]), json!(0))
    );
    let (status, body) = rest_compare(&hub, &format!("/repos/{}/compare/{new_head}...{new_head}", repo.full_name));
    assert_eq!((status, body["status"].clone(), body["total_commits"].clone()), (200, json!("identical"), json!(0)));
    // Unknown commits, bad forms, deleted repositories: 404.
    for bad in [
        format!("0000000...{new_head}"),
        format!("{old_head}..{new_head}"),
        old_head.clone(),
        format!("{old_head}...nope"),
    ] {
        assert_eq!(rest_compare(&hub, &format!("/repos/{}/compare/{bad}", repo.full_name)).0, 404, "{bad}");
    }
    let deleted = u.repos().iter().find(|r| r.deleted).expect("a deleted repository");
    assert_eq!(rest_compare(&hub, &format!("/repositories/{}/compare/main...main", deleted.id)).0, 404);

    // Long comparisons: the newest 250 commits without paging, pages from the oldest with.
    let long = u
        .repos()
        .iter()
        .filter(|r| !r.deleted)
        .find_map(|r| u.deep(r.id).filter(|d| d.commits.len() > 270).map(|d| (r.clone(), d)));
    let (long, deep) = long.expect("a repository with more than 270 commits");
    let n = deep.commits.len();
    let first = &deep.commits[n - 1].sha;
    let path = format!("/repos/{}/compare/{first}...{}", long.full_name, long.default_branch);
    let (status, body) = rest_compare(&hub, &path);
    assert_eq!((status, body["total_commits"].clone()), (200, json!(n - 1)));
    let commits = body["commits"].as_array().expect("commits");
    assert_eq!(commits.len(), 250);
    assert_eq!(commits[249]["sha"], json!(deep.commits[0].sha), "the last one is the newest");
    assert!(body["files"].as_array().is_some_and(|f| !f.is_empty() && f.len() <= 300));
    let resp = get(&hub, &format!("{path}?per_page=100&page=2"), &[]);
    let body = resp.json();
    let shas: Vec<&str> =
        body["commits"].as_array().expect("commits").iter().filter_map(|c| c["sha"].as_str()).collect();
    let want: Vec<&str> = (0..n - 1).rev().skip(100).take(100).map(|i| deep.commits[i].sha.as_str()).collect();
    assert_eq!(shas, want, "page 2 from the oldest");
    assert_eq!(body["files"], json!([]), "files on page 1 only");
    assert!(common::link(&resp, "next").is_some() && common::link(&resp, "prev").is_some());

    // Faults apply as to every endpoint.
    hub.set_options(Options { fault_5xx: 1.0, ..Options::default() });
    assert!(get(&hub, &format!("/repos/{}/compare/{old_head}...{new_head}", repo.full_name), &[]).status >= 500);
}

#[test]
fn count_only_history_works_and_costs_one_point() {
    let hub = FakeHub::start(Universe::generate(&config(1000)), Options::default());
    let query = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Repository { databaseId nameWithOwner pushedAt updatedAt stargazerCount forkCount isArchived description defaultBranchRef { target { ... on Commit { oid history { totalCount } } } } } } }";
    let check = |hub: &FakeHub| -> u64 {
        let u = hub.universe();
        let repos: Vec<&Repo> = u.repos().iter().filter(|r| !r.deleted).take(100).collect();
        let ids: Vec<&str> = repos.iter().map(|r| r.node_id.as_str()).collect();
        let before = hub.stats().graphql_points;
        let resp = graphql(hub, "t", &json!({"query": query, "variables": {"ids": ids}}));
        assert_eq!(resp.status, 200);
        let body = resp.json();
        assert!(body.get("errors").is_none(), "{body}");
        for (node, r) in body["data"]["nodes"].as_array().expect("nodes").iter().zip(&repos) {
            assert_eq!(node["databaseId"], json!(r.id));
            match u.deep(r.id).filter(|d| !d.commits.is_empty()) {
                Some(d) => {
                    assert_eq!(node["defaultBranchRef"]["target"]["oid"], json!(d.commits[0].sha));
                    assert_eq!(node["defaultBranchRef"]["target"]["history"]["totalCount"], json!(d.commits.len()));
                }
                None => assert_eq!(node["defaultBranchRef"], Value::Null),
            }
        }
        hub.stats().graphql_points - before
    };
    let cost = check(&hub);
    eprintln!("100 repositories with history {{ totalCount }}: {cost} point(s)");
    assert_eq!(cost, 1);
    hub.advance_day(1, &DayChanges { pushed: 0.5, ..DayChanges::default() }, 8);
    assert_eq!(check(&hub), 1, "and after an advance, with the new commits counted");
}

/// POST to the hub (an empty body).
fn post(hub: &FakeHub, path: &str) -> (u16, Value) {
    let resp = Conn::open(hub).send("POST", path, &[], b"").expect("response");
    (resp.status, resp.json())
}

#[test]
fn control_endpoints_drive_a_running_server() {
    let hub = FakeHub::start(Universe::generate(&config(2000)), Options::default());
    let twin = Universe::generate(&config(2000));
    let (status, body) = post(
        &hub,
        "/_fakehub/advance?days=1&pushed=0.05&starred=0.01&renamed=0.005&described=0.01&deleted=0.005&created=50&seed=1",
    );
    assert_eq!(status, 200, "{body}");
    let changes =
        DayChanges { pushed: 0.05, starred: 0.01, renamed: 0.005, described: 0.01, deleted: 0.005, created: 50 };
    let want: Advance = twin.advance_day(1, &changes, 1);
    let ids =
        |key: &str| -> Vec<u64> { body[key].as_array().into_iter().flatten().filter_map(Value::as_u64).collect() };
    assert_eq!(body["now"], json!(want.now.to_string()));
    assert_eq!((body["advances"].clone(), body["max_id"].clone()), (json!(1), json!(twin.max_id())));
    for (key, list) in [
        ("changed", &want.changed),
        ("pushed", &want.pushed),
        ("starred", &want.starred),
        ("renamed", &want.renamed),
        ("described", &want.described),
        ("deleted", &want.deleted),
        ("created", &want.created),
    ] {
        assert_eq!(&ids(key), list, "{key}");
    }
    assert_eq!(want.created.len(), 50);
    assert_eq!(post(&hub, "/_fakehub/advance?pushed=2").0, 422);
    assert_eq!(post(&hub, "/_fakehub/advance?days=x").0, 422);
    assert_eq!(hub.universe().advances(), 1, "refused advances change nothing");

    let file = std::env::temp_dir().join(format!("fakehub-daily-truth-{}.json", std::process::id()));
    let (status, body) = post(&hub, &format!("/_fakehub/truth?path={}&detail=1", file.display()));
    assert_eq!(status, 200, "{body}");
    let truth: Value = serde_json::from_slice(&std::fs::read(&file).expect("truth file")).expect("json");
    let _ = std::fs::remove_file(&file);
    let u = hub.universe();
    assert_eq!((truth["max_id"].clone(), truth["now"].clone()), (json!(u.max_id()), json!(u.now().to_string())));
    let repos = truth["repos"].as_array().expect("repos");
    assert_eq!(repos.len(), u.repos().len());
    for (t, r) in repos.iter().zip(u.repos()) {
        assert_eq!(
            (t["id"].clone(), t["full_name"].clone(), t["deleted"].clone()),
            (json!(r.id), json!(r.full_name), json!(r.deleted))
        );
        assert_eq!(
            (t["pushed_at"].clone(), t["stargazers_count"].clone()),
            (json!(r.pushed_at.to_string()), json!(r.stargazers_count))
        );
    }
    let (status, body) = post(&hub, "/_fakehub/truth");
    assert_eq!(status, 200);
    assert_eq!(body["repos"].as_array().map(Vec::len), Some(u.repos().len()));
    assert!(body["repos"][0].get("pushed_at").is_none(), "details only when asked");
    let stats = hub.stats();
    assert_eq!((stats.requests, stats.by_route.len()), (0, 0), "controls are not GitHub requests");
    let renamed: BTreeSet<u64> = want.renamed.iter().copied().collect();
    assert!(
        repos
            .iter()
            .filter(|t| t["id"].as_u64().is_some_and(|id| renamed.contains(&id)))
            .all(|t| { t["full_name"].as_str().and_then(|n| u.by_full_name(n)).is_some() })
    );
}

#[test]
fn next_format_node_ids_resolve_like_legacy_ones_unless_refused() {
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { ... on Repository { id databaseId nameWithOwner } } }";
    for legacy_only in [false, true] {
        let hub = FakeHub::start(
            Universe::generate(&config(300)),
            Options { legacy_ids_only: legacy_only, ..Options::default() },
        );
        let u = hub.universe();
        let shown = u.repos().iter().find(|r| !r.deleted).expect("a visible repository").clone();
        let hidden = (1..u.max_id()).find(|id| u.get(*id).is_none()).expect("a hidden id");
        let ids: Vec<String> =
            [shown.id, hidden].iter().map(|id| fakehub::ids::next_node_id("Repository", *id).unwrap()).collect();
        let body = ask(&hub, q, json!({"ids": ids}));
        let first = &body["data"]["nodes"][0];
        if legacy_only {
            assert_eq!(first, &Value::Null);
        } else {
            // The canonical id comes back (legacy for fakehub's repositories), as on GitHub.
            assert_eq!(first, &json!({"id": shown.node_id, "databaseId": shown.id, "nameWithOwner": shown.full_name}));
        }
        assert_eq!(body["data"]["nodes"][1], Value::Null);
        let errors = body["errors"].as_array().unwrap();
        assert_eq!(errors.len(), if legacy_only { 2 } else { 1 });
        assert!(errors.iter().all(|e| e["type"] == "NOT_FOUND"));
    }
}
