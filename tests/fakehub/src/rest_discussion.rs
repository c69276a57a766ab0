//! The conversation around issues and pull requests, as GitHub's REST docs
//! show it: `GET /repos/{o}/{r}/issues/{number}/comments`,
//! `.../issues/{number}/reactions`, `.../pulls/{number}/reviews`,
//! `.../pulls/{number}/comments` (review comments), `.../pulls/{number}/commits`
//! and `.../pulls/{number}/requested_reviewers` (tools like Perceval walk all
//! of them for every item).
//!
//! Consistent with the counts the items report: an issue or pull request
//! with `comments: n` has n comments; a pull request with `review_comments: n`
//! (GraphQL `reviews{totalCount}`, the same number) has n reviews with one
//! review comment each; `commits: n` lists n commits oldest first, the last
//! one the head (`head.sha`), at most 250 as on GitHub; no reactions
//! (`reactions.total_count` is 0 everywhere) and no requested reviewers
//! (`requested_reviewers: []`). Everything is derived from the seed by
//! hashing (repository id, number, index), so it never depends on what was
//! asked before. Comments are dated evenly between the item's creation and
//! its last update and are written by its author, the repository's
//! contributors or any user. Page-based paging as everywhere
//! ([`crate::paging`]); an unknown number (or an issue's number on a
//! `pulls/` path) is 404.

use crate::deep::{Account, Deep, GHOST_ID, GHOST_LOGIN, Pull};
use crate::deep_json::{association, reactions, user};
use crate::hash::{mix_all, sha, unit};
use crate::http::{Request, Response};
use crate::ids;
use crate::paging;
use crate::rest_deep::Target;
use crate::routes::{Ctx, not_found};
use crate::time::Timestamp;
use crate::universe::{Repo, Universe};
use serde_json::{Value, json};

/// At most this many commits in `/pulls/{number}/commits`, as on GitHub.
pub(crate) const PULL_COMMITS_CAP: u32 = 250;

const SALT_COMMENT: u64 = 0xC0_33E7;
const SALT_REVIEW: u64 = 0x2E_71E7;
const SALT_COMMIT: u64 = 0xC0_3317;
const REVIEW_STATES: [&str; 3] = ["APPROVED", "COMMENTED", "CHANGES_REQUESTED"];
const REVIEW_PATHS: [&str; 5] = ["src/lib.rs", "README.md", "src/main.rs", "tests/basic.rs", "docs/index.md"];

/// What the conversation of one issue or pull request hangs on.
struct Thread<'a> {
    repo: &'a Repo,
    deep: &'a Deep,
    number: u32,
    author: Option<&'a Account>,
    created: i64,
    updated: i64,
}

/// Issue or pull request `number` of the target (`None`: answer 404).
fn thread<'a>(t: &'a Target, number: &str, pulls_only: bool) -> Option<Thread<'a>> {
    let deep = t.deep.as_deref()?;
    let n: u32 = number.parse().ok()?;
    if let Some(p) = deep.pull(n) {
        return Some(Thread {
            repo: t.repo,
            deep,
            number: n,
            author: p.author.as_ref(),
            created: p.created_at.0,
            updated: p.updated_at.0,
        });
    }
    let i = deep.issue(n).filter(|_| !pulls_only)?;
    Some(Thread {
        repo: t.repo,
        deep,
        number: n,
        author: i.author.as_ref(),
        created: i.created_at.0,
        updated: i.updated_at.0,
    })
}

/// Pull request `number` of the target with its thread (`None`: answer 404).
fn pull_thread<'a>(t: &'a Target, number: &str) -> Option<(Thread<'a>, &'a Pull)> {
    let th = thread(t, number, true)?;
    let pull = th.deep.pull(th.number)?;
    Some((th, pull))
}

/// A 10-digit id for item `k` of a thread's stream.
fn item_id(th: &Thread, salt: u64, k: usize) -> u64 {
    mix_all(&[th.repo.id, u64::from(th.number), k as u64, salt]) % 9_000_000_000 + 1_000_000_000
}

/// When item `k` of `n` happened: evenly spread over (created, updated].
fn item_time(th: &Thread, k: usize, n: usize) -> i64 {
    let span = (th.updated - th.created).max(0);
    th.created + span * (k as i64 + 1) / (n as i64).max(1)
}

/// Who wrote item `k`: the author, a contributor or any user (the ghost when none is left).
fn participant(u: &Universe, th: &Thread, salt: u64, k: usize) -> Option<Account> {
    let h = mix_all(&[th.repo.id, u64::from(th.number), k as u64, salt, 1]);
    let roll = unit(h);
    if roll < 0.35 && th.author.is_some() {
        return th.author.cloned();
    }
    let team = &th.deep.contributors;
    if roll < 0.7 && !team.is_empty() {
        let c = &team[(h >> 8) as usize % team.len()];
        return Some(Account { login: c.login.clone(), id: c.id });
    }
    let users = u.user_indices();
    if users.is_empty() {
        return None;
    }
    let owner = &u.owners()[users[(h >> 8) as usize % users.len()] as usize];
    Some(Account { login: owner.login.clone(), id: owner.id })
}

fn login_of(a: Option<&Account>) -> (&str, u64) {
    a.map_or((GHOST_LOGIN, GHOST_ID), |a| (a.login.as_str(), a.id))
}

fn page(t: &Target, request: &Request, path: &str, total: usize, render: impl Fn(usize) -> Value) -> (Response, usize) {
    let url = format!("{}/{path}", t.link_url);
    paging::json_page(request, total, &url, render)
}

/// `GET /repos/{o}/{r}/issues/{number}/comments` (issues and pull requests).
pub(crate) fn issue_comments(t: &Target, number: &str, request: &Request, ctx: &Ctx) -> (Response, usize) {
    let Some(th) = thread(t, number, false) else { return (not_found(t.doc), 0) };
    let deep = th.deep;
    let n = deep.pull(th.number).map_or_else(|| deep.issue(th.number).map_or(0, |i| i.comments), |p| p.comments);
    let api = format!("{}/repos/{}", ctx.base, th.repo.full_name);
    let kind = if deep.pull(th.number).is_some() { "pull" } else { "issues" };
    page(t, request, &format!("issues/{}/comments", th.number), n as usize, |k| {
        let id = item_id(&th, SALT_COMMENT, k);
        let at = Timestamp(item_time(&th, k, n as usize)).to_string();
        let author = participant(ctx.universe, &th, SALT_COMMENT, k);
        json!({
            "url": format!("{api}/issues/comments/{id}"),
            "html_url": format!("https://github.com/{}/{kind}/{}#issuecomment-{id}", th.repo.full_name, th.number),
            "issue_url": format!("{api}/issues/{}", th.number),
            "id": id,
            "node_id": ids::legacy("IssueComment", id),
            "user": user(ctx.base, author.as_ref()),
            "created_at": at,
            "updated_at": at,
            "author_association": association(th.repo, deep, author.as_ref()),
            "body": format!("Comment {} on #{}.", k + 1, th.number),
            "reactions": reactions(&format!("{api}/issues/comments/{id}/reactions")),
            "performed_via_github_app": Value::Null,
        })
    })
}

/// `GET /repos/{o}/{r}/issues/{number}/reactions`: always empty (no reactions in fakehub).
pub(crate) fn issue_reactions(t: &Target, number: &str, request: &Request) -> (Response, usize) {
    let Some(th) = thread(t, number, false) else { return (not_found(t.doc), 0) };
    page(t, request, &format!("issues/{}/reactions", th.number), 0, |_| Value::Null)
}

/// `GET /repos/{o}/{r}/pulls/{number}/reviews`: `review_comments` reviews, oldest first.
pub(crate) fn reviews(t: &Target, number: &str, request: &Request, ctx: &Ctx) -> (Response, usize) {
    let Some((th, p)) = pull_thread(t, number) else { return (not_found(t.doc), 0) };
    let n = p.review_count as usize;
    let api = format!("{}/repos/{}", ctx.base, th.repo.full_name);
    let html = format!("https://github.com/{}/pull/{}", th.repo.full_name, th.number);
    page(t, request, &format!("pulls/{}/reviews", th.number), n, |k| {
        let id = item_id(&th, SALT_REVIEW, k);
        let reviewer = participant(ctx.universe, &th, SALT_REVIEW, k);
        let state = REVIEW_STATES[(mix_all(&[id, 3]) % 3) as usize];
        json!({
            "id": id,
            "node_id": ids::legacy("PullRequestReview", id),
            "user": user(ctx.base, reviewer.as_ref()),
            "body": "",
            "state": state,
            "html_url": format!("{html}#pullrequestreview-{id}"),
            "pull_request_url": format!("{api}/pulls/{}", th.number),
            "author_association": association(th.repo, th.deep, reviewer.as_ref()),
            "_links": {
                "html": {"href": format!("{html}#pullrequestreview-{id}")},
                "pull_request": {"href": format!("{api}/pulls/{}", th.number)},
            },
            "submitted_at": Timestamp(item_time(&th, k, n)).to_string(),
            "commit_id": p.head_sha,
        })
    })
}

/// `GET /repos/{o}/{r}/pulls/{number}/comments`: one review comment per review.
pub(crate) fn review_comments(t: &Target, number: &str, request: &Request, ctx: &Ctx) -> (Response, usize) {
    let Some((th, p)) = pull_thread(t, number) else { return (not_found(t.doc), 0) };
    let n = p.review_count as usize;
    let api = format!("{}/repos/{}", ctx.base, th.repo.full_name);
    let html = format!("https://github.com/{}/pull/{}", th.repo.full_name, th.number);
    page(t, request, &format!("pulls/{}/comments", th.number), n, |k| {
        let review = item_id(&th, SALT_REVIEW, k);
        let id = item_id(&th, SALT_REVIEW ^ 1, k);
        let reviewer = participant(ctx.universe, &th, SALT_REVIEW, k);
        let at = Timestamp(item_time(&th, k, n)).to_string();
        let line = mix_all(&[id, 5]) % 200 + 1;
        json!({
            "url": format!("{api}/pulls/comments/{id}"),
            "pull_request_review_id": review,
            "id": id,
            "node_id": ids::legacy("PullRequestReviewComment", id),
            "diff_hunk": format!("@@ -{line},3 +{line},4 @@"),
            "path": REVIEW_PATHS[(mix_all(&[id, 7]) % REVIEW_PATHS.len() as u64) as usize],
            "position": 4,
            "original_position": 4,
            "commit_id": p.head_sha,
            "original_commit_id": p.head_sha,
            "user": user(ctx.base, reviewer.as_ref()),
            "body": format!("Review note {} on #{}.", k + 1, th.number),
            "created_at": at,
            "updated_at": at,
            "html_url": format!("{html}#discussion_r{id}"),
            "pull_request_url": format!("{api}/pulls/{}", th.number),
            "author_association": association(th.repo, th.deep, reviewer.as_ref()),
            "_links": {
                "self": {"href": format!("{api}/pulls/comments/{id}")},
                "html": {"href": format!("{html}#discussion_r{id}")},
                "pull_request": {"href": format!("{api}/pulls/{}", th.number)},
            },
            "reactions": reactions(&format!("{api}/pulls/comments/{id}/reactions")),
            "start_line": Value::Null,
            "original_start_line": Value::Null,
            "start_side": Value::Null,
            "line": line + 3,
            "original_line": line + 3,
            "side": "RIGHT",
            "subject_type": "line",
        })
    })
}

/// `GET /repos/{o}/{r}/pulls/{number}/commits`: `commits` commits (at most 250), oldest first.
pub(crate) fn pull_commits(t: &Target, number: &str, request: &Request, ctx: &Ctx) -> (Response, usize) {
    let Some((th, p)) = pull_thread(t, number) else { return (not_found(t.doc), 0) };
    let n = p.commits.min(PULL_COMMITS_CAP) as usize;
    let api = format!("{}/repos/{}", ctx.base, th.repo.full_name);
    let sha_of = |k: usize| {
        if k + 1 == n { p.head_sha.clone() } else { sha(&[th.repo.id, u64::from(th.number), k as u64, SALT_COMMIT]) }
    };
    let (login, id) = login_of(th.author);
    page(t, request, &format!("pulls/{}/commits", th.number), n, |k| {
        let commit = sha_of(k);
        let parent = if k == 0 { th.deep.head().map_or_else(String::new, |c| c.sha.clone()) } else { sha_of(k - 1) };
        let actor = json!({
            "name": login,
            "email": format!("{id}+{login}@users.noreply.github.com"),
            "date": Timestamp(item_time(&th, k, n)).to_string(),
        });
        json!({
            "sha": commit,
            "node_id": ids::commit_node_id(th.repo.id, &commit),
            "commit": {
                "author": actor,
                "committer": actor,
                "message": format!("Step {} of #{}", k + 1, th.number),
                "tree": {"sha": sha(&[th.repo.id, u64::from(th.number), k as u64, SALT_COMMIT, 1]),
                         "url": format!("{api}/git/trees/{}", sha(&[th.repo.id, u64::from(th.number), k as u64, SALT_COMMIT, 1]))},
                "url": format!("{api}/git/commits/{commit}"),
                "comment_count": 0,
                "verification": {"verified": false, "reason": "unsigned", "signature": Value::Null, "payload": Value::Null, "verified_at": Value::Null},
            },
            "url": format!("{api}/commits/{commit}"),
            "html_url": format!("https://github.com/{}/commit/{commit}", th.repo.full_name),
            "comments_url": format!("{api}/commits/{commit}/comments"),
            "author": user(ctx.base, th.author),
            "committer": user(ctx.base, th.author),
            "parents": [{"sha": parent, "url": format!("{api}/commits/{parent}"),
                         "html_url": format!("https://github.com/{}/commit/{parent}", th.repo.full_name)}],
        })
    })
}

/// `GET /repos/{o}/{r}/pulls/{number}/requested_reviewers`: nobody (as `requested_reviewers: []` says).
pub(crate) fn requested_reviewers(t: &Target, number: &str) -> (Response, usize) {
    match thread(t, number, true) {
        Some(_) => (Response::json(200, &json!({"users": [], "teams": []})), 0),
        None => (not_found(t.doc), 0),
    }
}

#[cfg(test)]
mod tests {
    use crate::http::{Request, parse_query};
    use crate::rest_deep::{Part, RepoRef, handle};
    use crate::routes::Ctx;
    use crate::universe::{Universe, UniverseConfig};
    use serde_json::Value;

    fn ctx(u: &Universe) -> Ctx<'_> {
        Ctx::for_tests(u)
    }

    fn get(u: &Universe, full_name: &str, part: Part, query: &str) -> (u16, Value, Option<String>) {
        let (owner, name) = full_name.split_once('/').expect("owner/name");
        let request = Request {
            method: "GET".into(),
            path: "/x".into(),
            query: parse_query(query),
            headers: Vec::new(),
            body: Vec::new(),
            close: false,
        };
        let (response, _) = handle(&RepoRef::Name(owner.into(), name.into()), &part, &request, &ctx(u));
        let link = response.header("link").map(String::from);
        (response.status, serde_json::from_slice(&response.body).unwrap_or(Value::Null), link)
    }

    /// Every element of every page of a listing (per_page=100).
    fn all(u: &Universe, full_name: &str, part: impl Fn() -> Part) -> Vec<Value> {
        let mut items = Vec::new();
        for page in 1.. {
            let (status, body, link) = get(u, full_name, part(), &format!("per_page=100&page={page}"));
            assert_eq!(status, 200);
            items.extend(body.as_array().expect("an array").iter().cloned());
            if !link.is_some_and(|l| l.contains("rel=\"next\"")) {
                break;
            }
        }
        items
    }

    #[test]
    fn counts_match_what_the_items_report() {
        let u = Universe::generate(&UniverseConfig::new(400, 3));
        let (mut comments, mut reviews, mut commits) = (0, 0, 0);
        for repo in u.repos().iter().filter(|r| !r.deleted) {
            let deep = u.deep(repo.id).expect("deep data");
            for i in deep.issues.iter().filter(|i| i.comments > 0).take(2) {
                let got = all(&u, &repo.full_name, || Part::IssueComments(i.number.to_string()));
                assert_eq!(got.len(), i.comments as usize, "{} #{}", repo.full_name, i.number);
                let times: Vec<&str> = got.iter().map(|c| c["created_at"].as_str().expect("created_at")).collect();
                assert!(times.windows(2).all(|w| w[0] <= w[1]));
                assert!(times.iter().all(|t| *t >= i.created_at.to_string().as_str()));
                assert!(times.last().is_some_and(|t| *t <= i.updated_at.to_string().as_str()));
                assert!(got.iter().all(|c| c["reactions"]["total_count"] == 0 && c["user"]["login"].is_string()));
                comments += got.len();
            }
            for p in deep.pulls.iter().take(2) {
                let number = p.number.to_string();
                let r = all(&u, &repo.full_name, || Part::Reviews(number.clone()));
                let rc = all(&u, &repo.full_name, || Part::ReviewComments(number.clone()));
                assert_eq!((r.len(), rc.len()), (p.review_count as usize, p.review_count as usize));
                for (review, comment) in r.iter().zip(&rc) {
                    assert_eq!(comment["pull_request_review_id"], review["id"]);
                    assert_eq!(review["commit_id"], p.head_sha.as_str());
                }
                let c = all(&u, &repo.full_name, || Part::PullCommits(number.clone()));
                assert_eq!(c.len(), p.commits.min(super::PULL_COMMITS_CAP) as usize);
                if let Some(last) = c.last() {
                    assert_eq!(last["sha"], p.head_sha.as_str());
                    assert_eq!(c[0]["parents"][0]["sha"], deep.head().map_or("", |h| h.sha.as_str()));
                }
                for w in c.windows(2) {
                    assert_eq!(w[1]["parents"][0]["sha"], w[0]["sha"]);
                }
                let (status, body, _) = get(&u, &repo.full_name, Part::RequestedReviewers(number.clone()), "");
                assert_eq!((status, body["users"].as_array().map(Vec::len)), (200, Some(0)));
                let (status, body, _) = get(&u, &repo.full_name, Part::IssueReactions(number.clone()), "");
                assert_eq!((status, body), (200, serde_json::json!([])));
                reviews += r.len();
                commits += c.len();
            }
        }
        assert!(comments > 50 && reviews > 20 && commits > 20, "{comments} {reviews} {commits}");
        // Deterministic: the same universe answers the same.
        let again = Universe::generate(&UniverseConfig::new(400, 3));
        let repo = u.repos().iter().find(|r| u.deep(r.id).is_some_and(|d| d.pulls.iter().any(|p| p.review_count > 0)));
        let repo = repo.expect("a pull request with reviews");
        let deep = u.deep(repo.id).expect("deep");
        let p = deep.pulls.iter().find(|p| p.review_count > 0).expect("reviewed");
        let one = get(&u, &repo.full_name, Part::Reviews(p.number.to_string()), "").1;
        assert_eq!(one, get(&again, &repo.full_name, Part::Reviews(p.number.to_string()), "").1);
    }

    #[test]
    fn unknown_numbers_and_issues_on_pull_paths_are_404() {
        let u = Universe::generate(&UniverseConfig::new(400, 3));
        let (repo, issue) = u
            .repos()
            .iter()
            .filter(|r| !r.deleted)
            .find_map(|r| u.deep(r.id).and_then(|d| d.issues.first().map(|i| (r.clone(), i.number))))
            .expect("a repository with an issue");
        let deep = u.deep(repo.id).expect("deep");
        let missing = (deep.last_number() + 1).to_string();
        assert_eq!(get(&u, &repo.full_name, Part::IssueComments(missing.clone()), "").0, 404);
        assert_eq!(get(&u, &repo.full_name, Part::IssueComments("x".into()), "").0, 404);
        assert_eq!(get(&u, &repo.full_name, Part::Reviews(issue.to_string()), "").0, 404);
        assert_eq!(get(&u, &repo.full_name, Part::PullCommits(missing), "").0, 404);
        assert_eq!(get(&u, &repo.full_name, Part::IssueComments(issue.to_string()), "").0, 200);
        assert_eq!(get(&u, "nobody/nothing", Part::IssueComments(issue.to_string()), "").0, 404);
    }

    #[test]
    fn paging_links_name_the_repository_by_id() {
        let u = Universe::generate(&UniverseConfig::new(400, 3));
        let (repo, number) = u
            .repos()
            .iter()
            .filter(|r| !r.deleted)
            .find_map(|r| {
                u.deep(r.id).and_then(|d| d.issues.iter().find(|i| i.comments > 2).map(|i| (r.clone(), i.number)))
            })
            .expect("an issue with 3 comments or more");
        let (_, body, link) = get(&u, &repo.full_name, Part::IssueComments(number.to_string()), "per_page=1");
        assert_eq!(body.as_array().map(Vec::len), Some(1));
        let link = link.expect("a Link header");
        assert!(
            link.starts_with(&format!(
                "<http://h/repositories/{}/issues/{number}/comments?per_page=1&page=2>; rel=\"next\"",
                repo.id
            )),
            "{link}"
        );
    }
}
