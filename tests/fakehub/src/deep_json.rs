//! REST JSON shapes of deep data, field for field as GitHub's REST docs show
//! them: the issue (pull requests listed by `/issues` carry a `pull_request`
//! object), the pull request (list form, and the full form with
//! `additions`, `deletions`, `changed_files`, `merged`, ...), the workflow
//! run, the commit and the contributor. A deleted account is the `ghost`
//! user; a deleted fork is `head.repo: null`.

use crate::deep::{Account, Commit, Contributor, Deep, GHOST_ID, GHOST_LOGIN, Issue, Pull, Run};
use crate::hash::mix_all;
use crate::ids;
use crate::json;
use crate::universe::{OwnerType, Repo, Universe};
use serde_json::{Map, Value, json};

/// The simple user of an account; the ghost for a deleted one.
pub(crate) fn user(base: &str, account: Option<&Account>) -> Value {
    match account {
        Some(a) => json::simple_user(base, &a.login, a.id, OwnerType::User),
        None => json::simple_user(base, GHOST_LOGIN, GHOST_ID, OwnerType::User),
    }
}

/// The reaction rollup GitHub puts on issues and comments. fakehub has no
/// reactions: every count is 0 (and the reactions endpoints list nothing).
pub(crate) fn reactions(url: &str) -> Value {
    json!({
        "url": url,
        "total_count": 0,
        "+1": 0,
        "-1": 0,
        "laugh": 0,
        "hooray": 0,
        "confused": 0,
        "heart": 0,
        "rocket": 0,
        "eyes": 0,
    })
}

/// A label object of the repository.
fn label(base: &str, repo: &Repo, name: &str) -> Value {
    let h = mix_all(&[repo.id, name.bytes().fold(0u64, |h, b| h.wrapping_mul(131).wrapping_add(u64::from(b)))]);
    let id = h % 9_000_000_000 + 1_000_000_000;
    json!({
        "id": id,
        "node_id": ids::label_node_id(id),
        "url": format!("{base}/repos/{}/labels/{}", repo.full_name, crate::paging::encode(name).replace('+', "%20")),
        "name": name,
        "color": format!("{:06x}", h >> 40),
        "default": matches!(name, "bug" | "enhancement" | "documentation" | "good first issue" | "help wanted" | "question" | "wontfix" | "duplicate" | "invalid"),
        "description": Value::Null,
    })
}

fn labels(base: &str, repo: &Repo, names: &[&str]) -> Value {
    Value::Array(names.iter().map(|n| label(base, repo, n)).collect())
}

/// `OWNER`, `CONTRIBUTOR` or `NONE`.
pub(crate) fn association(repo: &Repo, deep: &Deep, author: Option<&Account>) -> &'static str {
    match author {
        Some(a) if a.id == repo.owner_id => "OWNER",
        Some(a) if deep.contributors.iter().any(|c| c.id == a.id) => "CONTRIBUTOR",
        _ => "NONE",
    }
}

fn ts(t: Option<crate::time::Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

/// The fields shared by issues and pull requests in `/issues`.
#[allow(clippy::too_many_arguments)]
fn issue_common(
    base: &str,
    repo: &Repo,
    deep: &Deep,
    id: u64,
    node_id: String,
    number: u32,
    title: &str,
    author: Option<&Account>,
    label_names: &[&str],
    html_kind: &str,
) -> Map<String, Value> {
    let api = format!("{base}/repos/{}", repo.full_name);
    let mut m = Map::new();
    m.insert("url".into(), json!(format!("{api}/issues/{number}")));
    m.insert("repository_url".into(), json!(api));
    m.insert("labels_url".into(), json!(format!("{api}/issues/{number}/labels{{/name}}")));
    m.insert("comments_url".into(), json!(format!("{api}/issues/{number}/comments")));
    m.insert("events_url".into(), json!(format!("{api}/issues/{number}/events")));
    m.insert("html_url".into(), json!(format!("https://github.com/{}/{html_kind}/{number}", repo.full_name)));
    m.insert("id".into(), json!(id));
    m.insert("node_id".into(), json!(node_id));
    m.insert("number".into(), json!(number));
    m.insert("title".into(), json!(title));
    m.insert("user".into(), user(base, author));
    m.insert("labels".into(), labels(base, repo, label_names));
    m.insert("author_association".into(), json!(association(repo, deep, author)));
    m
}

/// An issue as `GET /repos/{o}/{r}/issues` lists it.
pub(crate) fn issue(base: &str, repo: &Repo, deep: &Deep, i: &Issue) -> Value {
    let mut m = issue_common(
        base,
        repo,
        deep,
        i.id,
        ids::issue_node_id(i.id),
        i.number,
        &i.title,
        i.author.as_ref(),
        &i.labels,
        "issues",
    );
    m.insert("state".into(), json!(i.state.rest()));
    finish_issue(&mut m, i.comments, i.created_at, i.updated_at, i.closed_at, repo, i.number, base);
    m.insert("state_reason".into(), i.state_reason.map_or(Value::Null, |r| json!(r.rest())));
    Value::Object(m)
}

#[allow(clippy::too_many_arguments)]
fn finish_issue(
    m: &mut Map<String, Value>,
    comments: u32,
    created: crate::time::Timestamp,
    updated: crate::time::Timestamp,
    closed: Option<crate::time::Timestamp>,
    repo: &Repo,
    number: u32,
    base: &str,
) {
    m.insert("locked".into(), json!(false));
    m.insert("assignee".into(), Value::Null);
    m.insert("assignees".into(), json!([]));
    m.insert("milestone".into(), Value::Null);
    m.insert("comments".into(), json!(comments));
    m.insert("created_at".into(), json!(created.to_string()));
    m.insert("updated_at".into(), json!(updated.to_string()));
    m.insert("closed_at".into(), ts(closed));
    m.insert("active_lock_reason".into(), Value::Null);
    m.insert("body".into(), Value::Null);
    m.insert("reactions".into(), reactions(&format!("{base}/repos/{}/issues/{number}/reactions", repo.full_name)));
    m.insert("timeline_url".into(), json!(format!("{base}/repos/{}/issues/{number}/timeline", repo.full_name)));
    m.insert("performed_via_github_app".into(), Value::Null);
}

/// A pull request as `GET /repos/{o}/{r}/issues` lists it (an issue with `pull_request`).
pub(crate) fn pull_as_issue(base: &str, repo: &Repo, deep: &Deep, p: &Pull) -> Value {
    let mut m = issue_common(
        base,
        repo,
        deep,
        p.issue_id,
        ids::issue_node_id(p.issue_id),
        p.number,
        &p.title,
        p.author.as_ref(),
        &p.labels,
        "pull",
    );
    m.insert("state".into(), json!(p.state.rest()));
    finish_issue(&mut m, p.comments, p.created_at, p.updated_at, p.closed_at, repo, p.number, base);
    m.insert("draft".into(), json!(p.draft));
    let api = format!("{base}/repos/{}", repo.full_name);
    let html = format!("https://github.com/{}/pull/{}", repo.full_name, p.number);
    m.insert(
        "pull_request".into(),
        json!({
            "url": format!("{api}/pulls/{}", p.number),
            "html_url": html,
            "diff_url": format!("{html}.diff"),
            "patch_url": format!("{html}.patch"),
            "merged_at": ts(p.merged_at),
        }),
    );
    m.insert("state_reason".into(), Value::Null);
    Value::Object(m)
}

/// `head` or `base` of a pull request.
fn branch(base: &str, u: &Universe, repo_id: Option<u64>, git_ref: &str, sha: &str) -> Value {
    let repo = repo_id.and_then(|id| u.visible(id));
    match repo {
        Some(r) => json!({
            "label": format!("{}:{git_ref}", r.owner_login()),
            "ref": git_ref,
            "sha": sha,
            "user": json::simple_user(base, r.owner_login(), r.owner_id, r.owner_type),
            "repo": json::listed_repo(base, r),
        }),
        None => json!({
            "label": format!("{GHOST_LOGIN}:{git_ref}"),
            "ref": git_ref,
            "sha": sha,
            "user": user(base, None),
            "repo": Value::Null,
        }),
    }
}

/// A pull request as `GET /repos/{o}/{r}/pulls` lists it, or (`full`) as
/// `GET /repos/{o}/{r}/pulls/{number}` returns it.
pub(crate) fn pull(base: &str, u: &Universe, repo: &Repo, deep: &Deep, p: &Pull, full: bool) -> Value {
    let api = format!("{base}/repos/{}", repo.full_name);
    let html = format!("https://github.com/{}/pull/{}", repo.full_name, p.number);
    let n = p.number;
    let base_sha = deep.head().map_or_else(String::new, |c| c.sha.clone());
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("url", json!(format!("{api}/pulls/{n}")));
    put("id", json!(p.id));
    put("node_id", json!(ids::pull_node_id(p.id)));
    put("html_url", json!(html));
    put("diff_url", json!(format!("{html}.diff")));
    put("patch_url", json!(format!("{html}.patch")));
    put("issue_url", json!(format!("{api}/issues/{n}")));
    put("number", json!(n));
    put("state", json!(p.state.rest()));
    put("locked", json!(false));
    put("title", json!(p.title));
    put("user", user(base, p.author.as_ref()));
    put("body", Value::Null);
    put("created_at", json!(p.created_at.to_string()));
    put("updated_at", json!(p.updated_at.to_string()));
    put("closed_at", ts(p.closed_at));
    put("merged_at", ts(p.merged_at));
    put("merge_commit_sha", p.merge_commit_sha.as_ref().map_or(Value::Null, |s| json!(s)));
    put("assignee", Value::Null);
    put("assignees", json!([]));
    put("requested_reviewers", json!([]));
    put("requested_teams", json!([]));
    put("labels", labels(base, repo, &p.labels));
    put("milestone", Value::Null);
    put("draft", json!(p.draft));
    put("commits_url", json!(format!("{api}/pulls/{n}/commits")));
    put("review_comments_url", json!(format!("{api}/pulls/{n}/comments")));
    put("review_comment_url", json!(format!("{api}/pulls/comments{{/number}}")));
    put("comments_url", json!(format!("{api}/issues/{n}/comments")));
    put("statuses_url", json!(format!("{api}/statuses/{}", p.head_sha)));
    put("head", branch(base, u, p.head_repo_id, &p.head_ref, &p.head_sha));
    put("base", branch(base, u, Some(repo.id), &p.base_ref, &base_sha));
    put(
        "_links",
        json!({
            "self": {"href": format!("{api}/pulls/{n}")},
            "html": {"href": html},
            "issue": {"href": format!("{api}/issues/{n}")},
            "comments": {"href": format!("{api}/issues/{n}/comments")},
            "review_comments": {"href": format!("{api}/pulls/{n}/comments")},
            "commits": {"href": format!("{api}/pulls/{n}/commits")},
            "statuses": {"href": format!("{api}/statuses/{}", p.head_sha)},
        }),
    );
    put("author_association", json!(association(repo, deep, p.author.as_ref())));
    put("auto_merge", Value::Null);
    put("active_lock_reason", Value::Null);
    if full {
        put("merged", json!(p.merged()));
        put("mergeable", Value::Null);
        put("rebaseable", Value::Null);
        put("mergeable_state", json!("unknown"));
        put("merged_by", if p.merged() { user(base, p.author.as_ref()) } else { Value::Null });
        put("comments", json!(p.comments));
        put("review_comments", json!(p.review_count));
        put("maintainer_can_modify", json!(false));
        put("commits", json!(p.commits));
        put("additions", json!(p.additions));
        put("deletions", json!(p.deletions));
        put("changed_files", json!(p.changed_files));
    }
    Value::Object(m)
}

/// A workflow run as `GET /repos/{o}/{r}/actions/runs` lists it.
pub(crate) fn run(base: &str, repo: &Repo, deep: &Deep, r: &Run) -> Value {
    let api = format!("{base}/repos/{}", repo.full_name);
    let path = deep.workflows.iter().find(|w| w.id == r.workflow_id).map_or("", |w| w.path.as_str());
    let commit = deep.commits.iter().find(|c| c.sha == r.head_sha);
    let head_commit = match commit {
        Some(c) => json!({
            "id": c.sha,
            "tree_id": crate::hash::sha(&[repo.id, r.id, 0x7EE]),
            "message": c.message,
            "timestamp": c.committer.date.to_string(),
            "author": {"name": c.author.name, "email": c.author.email},
            "committer": {"name": c.committer.name, "email": c.committer.email},
        }),
        None => json!({
            "id": r.head_sha,
            "tree_id": crate::hash::sha(&[repo.id, r.id, 0x7EE]),
            "message": format!("Update {}", r.head_branch),
            "timestamp": r.created_at.to_string(),
            "author": {"name": "GitHub", "email": "noreply@github.com"},
            "committer": {"name": "GitHub", "email": "noreply@github.com"},
        }),
    };
    let run_url = format!("{api}/actions/runs/{}", r.id);
    json!({
        "id": r.id,
        "name": r.name,
        "node_id": ids::run_node_id(r.id),
        "head_branch": r.head_branch,
        "head_sha": r.head_sha,
        "path": path,
        "display_title": commit.map_or_else(|| r.name.to_string(), |c| c.headline().to_string()),
        "run_number": r.run_number,
        "event": r.event,
        "status": r.status.rest(),
        "conclusion": r.conclusion.map_or(Value::Null, |c| json!(c.rest())),
        "workflow_id": r.workflow_id,
        "check_suite_id": r.id + 1,
        "check_suite_node_id": ids::base64_encode(format!("010:CheckSuite{}", r.id + 1).as_bytes()),
        "url": run_url,
        "html_url": format!("https://github.com/{}/actions/runs/{}", repo.full_name, r.id),
        "pull_requests": [],
        "created_at": r.created_at.to_string(),
        "updated_at": r.updated_at.to_string(),
        "actor": user(base, r.actor.as_ref()),
        "run_attempt": r.run_attempt,
        "referenced_workflows": [],
        "run_started_at": r.run_started_at.to_string(),
        "triggering_actor": user(base, r.actor.as_ref()),
        "jobs_url": format!("{run_url}/jobs"),
        "logs_url": format!("{run_url}/logs"),
        "check_suite_url": format!("{api}/check-suites/{}", r.id + 1),
        "artifacts_url": format!("{run_url}/artifacts"),
        "cancel_url": format!("{run_url}/cancel"),
        "rerun_url": format!("{run_url}/rerun"),
        "previous_attempt_url": if r.run_attempt > 1 { json!(format!("{run_url}/attempts/{}", r.run_attempt - 1)) } else { Value::Null },
        "workflow_url": format!("{api}/actions/workflows/{}", r.workflow_id),
        "head_commit": head_commit,
        "repository": json::minimal_repo(base, repo),
        "head_repository": json::minimal_repo(base, repo),
    })
}

/// Commit `index` (0 = head) as `GET /repos/{o}/{r}/commits` lists it.
pub(crate) fn commit(base: &str, repo: &Repo, deep: &Deep, index: usize) -> Value {
    let c: &Commit = &deep.commits[index];
    let api = format!("{base}/repos/{}", repo.full_name);
    let html = format!("https://github.com/{}/commit/{}", repo.full_name, c.sha);
    let parents: Vec<Value> = deep
        .commits
        .get(index + 1)
        .map(|p| {
            json!({
                "sha": p.sha,
                "url": format!("{api}/commits/{}", p.sha),
                "html_url": format!("https://github.com/{}/commit/{}", repo.full_name, p.sha),
            })
        })
        .into_iter()
        .collect();
    let tree = crate::hash::sha(&[repo.id, index as u64, 0x7EE5]);
    let actor = |a: &crate::deep::GitActor| json!({"name": a.name, "email": a.email, "date": a.date.to_string()});
    let account = |a: Option<&Account>| a.map_or(Value::Null, |a| user(base, Some(a)));
    json!({
        "sha": c.sha,
        "node_id": ids::commit_node_id(repo.id, &c.sha),
        "commit": {
            "author": actor(&c.author),
            "committer": actor(&c.committer),
            "message": c.message,
            "tree": {"sha": tree, "url": format!("{api}/git/trees/{tree}")},
            "url": format!("{api}/git/commits/{}", c.sha),
            "comment_count": 0,
            "verification": {"verified": false, "reason": "unsigned", "signature": null, "payload": null, "verified_at": null},
        },
        "url": format!("{api}/commits/{}", c.sha),
        "html_url": html,
        "comments_url": format!("{api}/commits/{}/comments", c.sha),
        "author": account(c.author_account.as_ref()),
        "committer": account(c.committer_account.as_ref()),
        "parents": parents,
    })
}

/// A contributor: the simple user plus `contributions`.
pub(crate) fn contributor(base: &str, c: &Contributor) -> Value {
    let mut v = json::simple_user(base, &c.login, c.id, OwnerType::User);
    if let Value::Object(m) = &mut v {
        m.insert("contributions".into(), json!(c.contributions));
    }
    v
}
