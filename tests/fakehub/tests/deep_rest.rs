//! The deep REST endpoints end to end: issues, pulls, workflow runs,
//! contributors and commits, their shapes, paging and `Link` headers, and
//! GitHub's quirks (410, 409, 204, 404, the ghost user, deleted forks, the
//! 1,000-run cap and `created` slicing), checked against the universe's truth.

mod common;

use common::{get, link, walk};
use fakehub::deep::{Deep, State};
use fakehub::{FakeHub, Options, Repo, Universe, UniverseConfig};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

fn hub() -> FakeHub {
    let cfg = UniverseConfig { deleted_fraction: 0.03, ..UniverseConfig::new(2000, 1) };
    FakeHub::start(Universe::generate(&cfg), Options::default())
}

/// The first live repository whose deep data satisfies `pred`.
fn find(hub: &FakeHub, pred: impl Fn(&Repo, &Deep) -> bool) -> (Repo, Arc<Deep>) {
    let u = hub.universe();
    u.repos()
        .iter()
        .filter(|r| !r.deleted)
        .find_map(|r| u.deep(r.id).filter(|d| pred(r, d)).map(|d| (r.clone(), d)))
        .expect("a matching repository")
}

fn all(pages: &[Value]) -> Vec<Value> {
    pages.iter().flat_map(|p| p.as_array().cloned().unwrap_or_default()).collect()
}

#[test]
fn issues_list_issues_and_pull_requests_with_filters_and_links() {
    let hub = hub();
    let (repo, deep) = find(&hub, |_, d| d.has_issues && d.issues.len() + d.pulls.len() > 250 && !d.pulls.is_empty());
    let path = format!("/repos/{}/issues?state=all&sort=updated&direction=desc&per_page=100", repo.full_name);
    let (pages, responses) = walk(&hub, &path, &[]);
    let items = all(&pages);
    assert_eq!(items.len(), deep.issues.len() + deep.pulls.len());
    assert_eq!(pages.len(), items.len().div_ceil(100));
    // Link: GitHub names the repository by id and keeps the query.
    let next = link(&responses[0], "next").expect("next");
    assert!(next.starts_with(&format!("{}/repositories/{}/issues?", hub.url(), repo.id)), "{next}");
    assert!(next.contains("state=all") && next.contains("sort=updated") && next.contains("page=2"));
    assert!(link(&responses[0], "last").is_some_and(|l| l.contains(&format!("page={}", pages.len()))));
    // Order: updated_at descending, ties by number descending.
    let mut truth: Vec<(String, u32)> = deep
        .issues
        .iter()
        .map(|i| (i.updated_at.to_string(), i.number))
        .chain(deep.pulls.iter().map(|p| (p.updated_at.to_string(), p.number)))
        .collect();
    truth.sort();
    truth.reverse();
    let got: Vec<(String, u32)> = items
        .iter()
        .map(|i| (i["updated_at"].as_str().unwrap_or("").to_string(), i["number"].as_u64().unwrap_or(0) as u32))
        .collect();
    assert_eq!(got, truth);
    for item in &items {
        let number = item["number"].as_u64().expect("number") as u32;
        if let Some(p) = deep.pull(number) {
            assert_eq!(item["id"], json!(p.issue_id));
            assert_eq!(item["pull_request"]["merged_at"], json!(p.merged_at.map(|t| t.to_string())));
            assert!(item["pull_request"]["url"].as_str().is_some_and(|u| u.ends_with(&format!("/pulls/{number}"))));
            assert_eq!(item["draft"], json!(p.draft));
        } else {
            let i = deep.issue(number).expect("an issue");
            assert!(item.get("pull_request").is_none());
            assert_eq!(item["id"], json!(i.id));
            assert_eq!(item["title"], json!(i.title));
            assert_eq!(item["state"], json!(i.state.rest()));
            assert_eq!(item["state_reason"], json!(i.state_reason.map(|r| r.rest())));
            assert_eq!(item["closed_at"], json!(i.closed_at.map(|t| t.to_string())));
            assert_eq!(item["comments"], json!(i.comments));
            let labels: Vec<&str> =
                item["labels"].as_array().expect("labels").iter().filter_map(|l| l["name"].as_str()).collect();
            assert_eq!(labels, i.labels);
            match &i.author {
                Some(a) => assert_eq!(
                    (item["user"]["login"].as_str(), item["user"]["id"].as_u64()),
                    (Some(a.login.as_str()), Some(a.id))
                ),
                None => assert_eq!(
                    (item["user"]["login"].as_str(), item["user"]["id"].as_u64()),
                    (Some("ghost"), Some(10137))
                ),
            }
            assert_eq!(item["user"]["type"], "User");
        }
    }
    // A deleted author is the ghost somewhere in this universe.
    let (ghost_repo, ghost_deep) = find(&hub, |_, d| d.issues.iter().any(|i| i.author.is_none()));
    let ghost = ghost_deep.issues.iter().find(|i| i.author.is_none()).expect("ghost issue");
    let items = all(&walk(&hub, &format!("/repos/{}/issues?state=all&per_page=100", ghost_repo.full_name), &[]).0);
    let item = items.iter().find(|i| i["number"] == json!(ghost.number)).expect("listed");
    assert_eq!(item["user"]["login"], "ghost");

    // Defaults: open only, created descending, 30 per page.
    let first = get(&hub, &format!("/repos/{}/issues", repo.full_name), &[]);
    let open = deep.open_issues() + deep.open_pulls();
    assert_eq!(first.json().as_array().map(Vec::len), Some(open.min(30)));
    assert!(first.json().as_array().expect("list").iter().all(|i| i["state"] == "open"));
    let open_all = all(&walk(&hub, &format!("/repos/{}/issues?per_page=100", repo.full_name), &[]).0);
    assert_eq!(open_all.len(), repo.open_issues_count as usize, "open issues + open pull requests");
    let created: Vec<&str> = open_all.iter().filter_map(|i| i["created_at"].as_str()).collect();
    assert!(created.windows(2).all(|w| w[0] >= w[1]));
    // since = updated at or after; closed; comments ascending.
    let mid = &got[got.len() / 2].0;
    let since =
        all(&walk(&hub, &format!("/repos/{}/issues?state=all&since={mid}&per_page=100", repo.full_name), &[]).0);
    assert_eq!(since.len(), got.iter().filter(|(u, _)| u >= mid).count());
    let closed = all(&walk(
        &hub,
        &format!("/repos/{}/issues?state=closed&sort=comments&direction=asc&per_page=100", repo.full_name),
        &[],
    )
    .0);
    assert_eq!(closed.len(), deep.issues.len() + deep.pulls.len() - open);
    let comments: Vec<u64> = closed.iter().filter_map(|i| i["comments"].as_u64()).collect();
    assert!(comments.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(get(&hub, &format!("/repos/{}/issues?since=yesterday", repo.full_name), &[]).status, 422);
}

#[test]
fn issues_disabled_is_410_but_pull_requests_are_served() {
    let hub = hub();
    let (repo, deep) = find(&hub, |r, d| !d.has_issues && !r.is_empty() && !d.pulls.is_empty());
    let resp = get(&hub, &format!("/repos/{}/issues?state=all", repo.full_name), &[]);
    assert_eq!(resp.status, 410);
    assert_eq!(resp.json()["message"], "Issues are disabled for this repo");
    let pulls = all(&walk(&hub, &format!("/repos/{}/pulls?state=all&per_page=100", repo.full_name), &[]).0);
    assert_eq!(pulls.len(), deep.pulls.len());
}

#[test]
fn pulls_list_and_single_with_heads_and_deleted_forks() {
    let hub = hub();
    let (repo, deep) = find(&hub, |_, d| {
        d.pulls.len() > 120 && d.pulls.iter().any(|p| p.head_repo_id.is_none()) && d.pulls.iter().any(|p| p.merged())
    });
    let (pages, responses) = walk(&hub, &format!("/repos/{}/pulls?state=all&per_page=100", repo.full_name), &[]);
    assert!(link(&responses[0], "next").is_some_and(|l| l.contains(&format!("/repositories/{}/pulls?", repo.id))));
    let pulls = all(&pages);
    assert_eq!(pulls.len(), deep.pulls.len());
    // Default: created descending.
    let numbers: Vec<u64> = pulls.iter().filter_map(|p| p["number"].as_u64()).collect();
    let mut truth: Vec<(String, u64)> =
        deep.pulls.iter().map(|p| (p.created_at.to_string(), u64::from(p.number))).collect();
    truth.sort();
    assert_eq!(numbers, truth.iter().rev().map(|t| t.1).collect::<Vec<_>>());
    for item in &pulls {
        let p = deep.pull(item["number"].as_u64().expect("number") as u32).expect("pull");
        assert_eq!(item["id"], json!(p.id));
        assert!(item.get("additions").is_none() && item.get("changed_files").is_none(), "list form");
        assert_eq!(item["draft"], json!(p.draft));
        assert_eq!(item["merged_at"], json!(p.merged_at.map(|t| t.to_string())));
        assert_eq!(item["merge_commit_sha"], json!(p.merge_commit_sha));
        assert_eq!(item["base"]["ref"], json!(p.base_ref));
        assert_eq!(item["base"]["repo"]["id"], json!(repo.id));
        assert_eq!(item["head"]["ref"], json!(p.head_ref));
        match p.head_repo_id {
            None => assert!(item["head"]["repo"].is_null()),
            Some(id) => assert_eq!(item["head"]["repo"]["id"], json!(id)),
        }
        assert_eq!(item["state"], json!(p.state.rest()));
    }
    // The single pull request has the diff counts.
    let p = deep.pulls.iter().find(|p| p.merged()).expect("merged");
    let one = get(&hub, &format!("/repos/{}/pulls/{}", repo.full_name, p.number), &[]).json();
    assert_eq!(
        (one["additions"].as_u64(), one["deletions"].as_u64()),
        (Some(p.additions.into()), Some(p.deletions.into()))
    );
    assert_eq!(one["changed_files"], json!(p.changed_files));
    assert_eq!(one["merged"], json!(true));
    if let Some(issue) = deep.issues.first() {
        assert_eq!(get(&hub, &format!("/repos/{}/pulls/{}", repo.full_name, issue.number), &[]).status, 404);
    }
    assert_eq!(get(&hub, &format!("/repos/{}/pulls/999999", repo.full_name), &[]).status, 404);
    // sort=updated defaults to ascending (GitHub: desc only for created).
    let updated =
        all(&walk(&hub, &format!("/repos/{}/pulls?state=all&sort=updated&per_page=100", repo.full_name), &[]).0);
    let times: Vec<&str> = updated.iter().filter_map(|p| p["updated_at"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    let open = get(&hub, &format!("/repos/{}/pulls?per_page=100", repo.full_name), &[]).json();
    assert!(open.as_array().expect("list").iter().all(|p| p["state"] == "open"));
    assert_eq!(open.as_array().map(Vec::len), Some(deep.open_pulls().min(100)));
}

#[test]
fn workflow_runs_cap_at_1000_and_slice_by_created() {
    let hub = hub();
    let (repo, deep) = find(&hub, |_, d| d.runs.len() > 1000);
    let base = format!("/repos/{}/actions/runs", repo.full_name);
    let tenth = get(&hub, &format!("{base}?per_page=100&page=10"), &[]);
    let body = tenth.json();
    assert_eq!(body["total_count"], json!(deep.runs.len()));
    assert_eq!(body["workflow_runs"].as_array().map(Vec::len), Some(100));
    let eleventh = get(&hub, &format!("{base}?per_page=100&page=11"), &[]).json();
    assert_eq!(eleventh["total_count"], json!(deep.runs.len()));
    assert_eq!(eleventh["workflow_runs"], json!([]), "past the first 1,000: empty");
    let last = link(&tenth, "last").expect("last");
    assert!(last.ends_with(&format!("page={}", deep.runs.len().div_ceil(100))), "links count from total_count: {last}");
    assert!(last.contains(&format!("/repositories/{}/actions/runs?", repo.id)));
    // Newest first.
    let first = get(&hub, &format!("{base}?per_page=100"), &[]).json();
    let ids: Vec<u64> =
        first["workflow_runs"].as_array().expect("runs").iter().filter_map(|r| r["id"].as_u64()).collect();
    assert_eq!(ids, deep.runs.iter().take(100).map(|r| r.id).collect::<Vec<_>>());
    // Slicing by `created` reaches every run.
    let oldest = deep.runs.last().expect("runs").created_at.0;
    let newest = deep.runs[0].created_at.0;
    let slices = 8;
    let step = (newest - oldest) / slices + 1;
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for k in 0..slices {
        let (lo, hi) = (oldest + k * step, oldest + (k + 1) * step - 1);
        let range = format!("{}..{}", fakehub::Timestamp(lo), fakehub::Timestamp(hi));
        let mut page = 1;
        loop {
            let resp = get(&hub, &format!("{base}?per_page=100&page={page}&created={range}"), &[]).json();
            let runs = resp["workflow_runs"].as_array().cloned().unwrap_or_default();
            if page == 1 {
                let count = resp["total_count"].as_u64().expect("total") as usize;
                assert!(count <= 1000, "slice small enough: {count}");
                total += count;
            }
            for r in &runs {
                let created = r["created_at"].as_str().expect("created");
                assert!(
                    created >= fakehub::Timestamp(lo).to_string().as_str()
                        && created <= fakehub::Timestamp(hi).to_string().as_str()
                );
                seen.insert(r["id"].as_u64().expect("id"));
            }
            if runs.len() < 100 {
                break;
            }
            page += 1;
        }
    }
    assert_eq!(total, deep.runs.len());
    assert_eq!(seen, deep.runs.iter().map(|r| r.id).collect::<BTreeSet<_>>());
    let ge = get(
        &hub,
        &format!("{base}?created=>={}", fakehub::Timestamp(newest).to_string().split('T').next().unwrap_or("")),
        &[],
    )
    .json();
    assert!(ge["total_count"].as_u64().is_some_and(|n| n >= 1));
    assert_eq!(get(&hub, &format!("{base}?created=soon"), &[]).status, 422);
    // Run fields.
    let run = &first["workflow_runs"][0];
    let truth = &deep.runs[0];
    assert_eq!(run["workflow_id"], json!(truth.workflow_id));
    assert_eq!(run["name"], json!(truth.name));
    assert_eq!(run["status"], json!(truth.status.rest()));
    assert_eq!(run["conclusion"], json!(truth.conclusion.map(|c| c.rest())));
    assert_eq!(
        (run["head_sha"].as_str(), run["head_branch"].as_str()),
        (Some(truth.head_sha.as_str()), Some(truth.head_branch.as_str()))
    );
    assert_eq!(run["run_attempt"], json!(truth.run_attempt));
    assert_eq!(run["run_started_at"], json!(truth.run_started_at.to_string()));
    // No runs: total_count 0.
    let (quiet, _) = find(&hub, |_, d| d.runs.is_empty());
    let none = get(&hub, &format!("/repos/{}/actions/runs", quiet.full_name), &[]).json();
    assert_eq!(none, json!({"total_count": 0, "workflow_runs": []}));
}

#[test]
fn contributors_and_commits() {
    let hub = hub();
    let (repo, deep) = find(&hub, |_, d| d.commits.len() > 150 && d.contributors.len() > 1);
    let contributors = all(&walk(&hub, &format!("/repos/{}/contributors?per_page=100", repo.full_name), &[]).0);
    let got: Vec<(String, u64)> = contributors
        .iter()
        .map(|c| (c["login"].as_str().unwrap_or("").to_string(), c["contributions"].as_u64().unwrap_or(0)))
        .collect();
    let truth: Vec<(String, u64)> =
        deep.contributors.iter().map(|c| (c.login.clone(), c.contributions.into())).collect();
    assert_eq!(got, truth);
    assert!(contributors.iter().all(|c| c["type"] == "User" && c["id"].is_u64()));

    let (pages, responses) = walk(&hub, &format!("/repos/{}/commits?per_page=100", repo.full_name), &[]);
    assert!(link(&responses[0], "next").is_some_and(|l| l.contains(&format!("/repositories/{}/commits?", repo.id))));
    let commits = all(&pages);
    let shas: Vec<&str> = commits.iter().filter_map(|c| c["sha"].as_str()).collect();
    assert_eq!(shas, deep.commits.iter().map(|c| c.sha.as_str()).collect::<Vec<_>>());
    for (item, c) in commits.iter().zip(&deep.commits) {
        assert_eq!(item["commit"]["message"], json!(c.message));
        assert_eq!(
            item["commit"]["author"],
            json!({"name": c.author.name, "email": c.author.email, "date": c.author.date.to_string()})
        );
        assert_eq!(item["commit"]["committer"]["date"], json!(c.committer.date.to_string()));
        match &c.author_account {
            Some(a) => assert_eq!(item["author"]["login"], json!(a.login)),
            None => assert!(item["author"].is_null()),
        }
        assert_eq!(item["committer"].is_null(), c.committer_account.is_none());
    }
    assert_eq!(commits[0]["parents"][0]["sha"], json!(deep.commits[1].sha));
    // since/until (committer date, inclusive); sha= branch, a commit, a prefix, unknown.
    let (a, b) = (&deep.commits[100].committer.date, &deep.commits[20].committer.date);
    let window =
        all(&walk(&hub, &format!("/repos/{}/commits?per_page=100&since={a}&until={b}", repo.full_name), &[]).0);
    let want = deep.commits.iter().filter(|c| c.committer.date >= *a && c.committer.date <= *b).count();
    assert_eq!(window.len(), want);
    let branch =
        get(&hub, &format!("/repos/{}/commits?sha={}&per_page=1", repo.full_name, repo.default_branch), &[]).json();
    assert_eq!(branch[0]["sha"], json!(deep.commits[0].sha));
    let older =
        get(&hub, &format!("/repos/{}/commits?sha={}&per_page=2", repo.full_name, &deep.commits[5].sha[..10]), &[])
            .json();
    assert_eq!(older[0]["sha"], json!(deep.commits[5].sha));
    assert_eq!(older[1]["sha"], json!(deep.commits[6].sha));
    let unknown = get(&hub, &format!("/repos/{}/commits?sha=no-such-branch", repo.full_name), &[]);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["message"], "No commit found for SHA: no-such-branch");

    // Empty repositories: 409 for commits, 204 for contributors.
    let empty = hub.universe().repos().iter().find(|r| !r.deleted && r.is_empty()).expect("an empty repo").clone();
    let commits = get(&hub, &format!("/repos/{}/commits", empty.full_name), &[]);
    assert_eq!(commits.status, 409);
    assert_eq!(commits.json()["message"], "Git Repository is empty.");
    let contributors = get(&hub, &format!("/repos/{}/contributors", empty.full_name), &[]);
    assert_eq!(contributors.status, 204);
    assert!(contributors.body.is_empty());
    let runs = get(&hub, &format!("/repos/{}/actions/runs", empty.full_name), &[]).json();
    assert_eq!(runs["total_count"], 0);
}

#[test]
fn unknown_deleted_and_hidden_repositories_are_404() {
    let hub = hub();
    let u = hub.universe();
    let deleted = u.repos().iter().find(|r| r.deleted).expect("deleted").clone();
    let hidden = *u.all_ids().iter().find(|&&id| u.get(id).is_none()).expect("hidden id");
    let live = u.repos().iter().find(|r| !r.deleted).expect("live").clone();
    for part in ["issues", "pulls", "pulls/1", "actions/runs", "contributors", "commits"] {
        for path in [
            format!("/repos/{}/{part}", deleted.full_name),
            format!("/repos/nobody/nothing/{part}"),
            format!("/repositories/{hidden}/{part}"),
            format!("/repositories/{}/{part}", deleted.id),
            format!("/repositories/not-a-number/{part}"),
        ] {
            let resp = get(&hub, &path, &[]);
            assert_eq!(resp.status, 404, "{path}");
            assert_eq!(resp.json()["message"], "Not Found");
        }
        let by_id = get(&hub, &format!("/repositories/{}/{part}", live.id), &[]);
        let by_name = get(&hub, &format!("/repos/{}/{part}", live.full_name), &[]);
        assert_eq!((by_id.status, by_id.body.clone()), (by_name.status, by_name.body.clone()), "{part}");
    }
}

#[test]
fn deep_requests_are_charged_and_counted() {
    let hub = FakeHub::start(Universe::generate(&UniverseConfig::new(500, 2)), Options::with_tokens(["t"]));
    let (repo, deep) = find(&hub, |r, d| !r.is_empty() && d.has_issues && d.commits.len() >= 3);
    let auth = ("Authorization", "token t");
    let mut used = 0;
    for part in ["issues?state=all", "pulls?state=all", "actions/runs", "contributors", "commits?per_page=3"] {
        let resp = get(&hub, &format!("/repos/{}/{part}", repo.full_name), &[auth]);
        used += 1;
        assert_eq!(resp.num("x-ratelimit-used"), used);
        assert_eq!(resp.header("x-ratelimit-resource"), Some("core"));
        assert!(resp.header("etag").is_some());
    }
    get(&hub, &format!("/repositories/{}/commits", repo.id), &[auth]);
    let stats = hub.stats();
    for key in ["issues", "pulls", "actions/runs", "contributors", "commits"] {
        assert_eq!(stats.route(&format!("GET /repos/{{owner}}/{{name}}/{key}")), 1, "{key}");
    }
    assert_eq!(stats.route("GET /repositories/{id}/commits"), 1);
    assert_eq!(stats.requests, 6);
    assert_eq!(stats.items_served.get("commits"), Some(&(3 + deep.commits.len().min(30) as u64)));
    assert_eq!(stats.items_served.get("contributors").copied().unwrap_or(0), deep.contributors.len().min(30) as u64);
}

#[test]
fn links_honour_link_base() {
    let options = Options { link_base: Some("http://elsewhere.example".into()), ..Options::default() };
    let hub = FakeHub::start(Universe::generate(&UniverseConfig::new(2000, 1)), options);
    let (repo, _) = find(&hub, |_, d| d.commits.len() > 2);
    let resp = get(&hub, &format!("/repos/{}/commits?per_page=1", repo.full_name), &[]);
    assert_eq!(
        link(&resp, "next"),
        Some(format!("http://elsewhere.example/repositories/{}/commits?per_page=1&page=2", repo.id))
    );
}

#[test]
fn advance_changes_what_the_endpoints_answer() {
    let hub = hub();
    let before = hub.universe().now();
    let step = hub.advance(5, 0.25, 7);
    let u = hub.universe();
    let repo = step
        .changed
        .iter()
        .filter_map(|&id| u.get(id))
        .find(|r| !r.is_empty() && r.has_issues)
        .expect("a changed repository")
        .clone();
    let deep = u.deep(repo.id).expect("deep");
    let shown = get(&hub, &format!("/repos/{}", repo.full_name), &[]).json();
    assert_eq!(shown["pushed_at"], json!(repo.pushed_at.to_string()));
    assert!(repo.pushed_at > before);
    assert_eq!(shown["open_issues_count"], json!(deep.open_issues() + deep.open_pulls()));
    let head = get(&hub, &format!("/repos/{}/commits?per_page=1", repo.full_name), &[]).json();
    assert_eq!(head[0]["sha"], json!(deep.commits[0].sha));
    // An incremental crawl: everything updated since the old now.
    let since =
        all(&walk(&hub, &format!("/repos/{}/issues?state=all&since={before}&per_page=100", repo.full_name), &[]).0);
    let changed = deep.issues.iter().filter(|i| i.updated_at > before).count()
        + deep.pulls.iter().filter(|p| p.updated_at > before).count();
    assert!(changed >= 1);
    assert_eq!(since.len(), changed);
    let new_commits =
        all(&walk(&hub, &format!("/repos/{}/commits?since={before}&per_page=100", repo.full_name), &[]).0);
    assert_eq!(new_commits.len(), deep.commits.iter().filter(|c| c.committer.date > before).count());
    assert!(deep.issues.iter().all(|i| i.state == State::Closed || i.closed_at.is_none()));
}
