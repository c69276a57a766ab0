//! Routing and shared rules of the deep REST endpoints:
//! `/repos/{owner}/{repo}/{issues,pulls,pulls/{number},actions/runs,contributors,commits,compare/{basehead}}`,
//! the code endpoints `git/trees/{tree_sha}` and `tarball[/{ref}]`
//! and the same under `/repositories/{id}/...`, the form GitHub's `Link`
//! headers use (so those are served too). An unknown, hidden or deleted
//! repository is 404 on all of them; a renamed repository's old name is 301
//! to the `/repositories/{id}/...` form. The handlers live in
//! `rest_issues.rs`, `rest_runs.rs`, `rest_commits.rs`, `rest_compare.rs`, `rest_code.rs`
//! and `rest_discussion.rs` (an item's comments, reactions, reviews, review
//! comments, commits and requested reviewers).

use crate::deep::Deep;
use crate::http::{Request, Response};
use crate::routes::{Ctx, moved, not_found};
use crate::universe::Repo;
use crate::{rest_code, rest_commits, rest_compare, rest_discussion, rest_issues, rest_runs};
use serde_json::json;
use std::sync::Arc;

/// How the path names the repository.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RepoRef {
    /// `/repos/{owner}/{name}/...`
    Name(String, String),
    /// `/repositories/{id}/...`
    Id(String),
}

/// Which deep endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Issues,
    Pulls,
    /// `pulls/{number}`
    Pull(String),
    Runs,
    Contributors,
    Commits,
    /// `compare/{basehead}`
    Compare(String),
    /// `git/trees/{tree_sha}` (a tree sha, a commit sha or a branch)
    Tree(String),
    /// `tarball` or `tarball/{ref}`
    Tarball(Option<String>),
    /// `issues/{number}/comments`
    IssueComments(String),
    /// `issues/{number}/reactions`
    IssueReactions(String),
    /// `pulls/{number}/reviews`
    Reviews(String),
    /// `pulls/{number}/comments` (review comments)
    ReviewComments(String),
    /// `pulls/{number}/commits`
    PullCommits(String),
    /// `pulls/{number}/requested_reviewers`
    RequestedReviewers(String),
}

impl Part {
    /// The part from the path segments after the repository.
    pub fn parse(rest: &[&str]) -> Option<Part> {
        Some(match rest {
            ["issues"] => Part::Issues,
            ["pulls"] => Part::Pulls,
            ["pulls", number] if !number.is_empty() => Part::Pull(number.to_string()),
            ["issues", number, "comments"] if !number.is_empty() => Part::IssueComments(number.to_string()),
            ["issues", number, "reactions"] if !number.is_empty() => Part::IssueReactions(number.to_string()),
            ["pulls", number, "reviews"] if !number.is_empty() => Part::Reviews(number.to_string()),
            ["pulls", number, "comments"] if !number.is_empty() => Part::ReviewComments(number.to_string()),
            ["pulls", number, "commits"] if !number.is_empty() => Part::PullCommits(number.to_string()),
            ["pulls", number, "requested_reviewers"] if !number.is_empty() => {
                Part::RequestedReviewers(number.to_string())
            }
            ["actions", "runs"] => Part::Runs,
            ["contributors"] => Part::Contributors,
            ["commits"] => Part::Commits,
            ["compare", basehead @ ..] if !basehead.is_empty() && basehead.iter().all(|s| !s.is_empty()) => {
                Part::Compare(basehead.join("/"))
            }
            ["git", "trees", sha @ ..] if !sha.is_empty() && sha.iter().all(|s| !s.is_empty()) => {
                Part::Tree(sha.join("/"))
            }
            ["tarball"] => Part::Tarball(None),
            ["tarball", reference @ ..] if reference.iter().all(|s| !s.is_empty()) => {
                Part::Tarball(Some(reference.join("/")))
            }
            _ => return None,
        })
    }

    /// The kind of item served (`Stats::items_served` key).
    pub fn kind(&self) -> &'static str {
        match self {
            Part::Issues => "issues",
            Part::Pulls => "pulls",
            Part::Pull(_) => "pull",
            Part::Runs => "runs",
            Part::Contributors => "contributors",
            Part::Commits => "commits",
            Part::Compare(_) => "compare",
            Part::Tree(_) => "tree",
            Part::Tarball(_) => "tarball",
            Part::IssueComments(_) => "issue_comments",
            Part::IssueReactions(_) => "reactions",
            Part::Reviews(_) => "reviews",
            Part::ReviewComments(_) => "review_comments",
            Part::PullCommits(_) => "pull_commits",
            Part::RequestedReviewers(_) => "requested_reviewers",
        }
    }

    /// The path after the repository in a stats key.
    pub fn key(&self) -> &'static str {
        match self {
            Part::Issues => "/issues",
            Part::Pulls => "/pulls",
            Part::Pull(_) => "/pulls/{number}",
            Part::Runs => "/actions/runs",
            Part::Contributors => "/contributors",
            Part::Commits => "/commits",
            Part::Compare(_) => "/compare/{basehead}",
            Part::Tree(_) => "/git/trees/{tree_sha}",
            Part::Tarball(None) => "/tarball",
            Part::Tarball(Some(_)) => "/tarball/{ref}",
            Part::IssueComments(_) => "/issues/{number}/comments",
            Part::IssueReactions(_) => "/issues/{number}/reactions",
            Part::Reviews(_) => "/pulls/{number}/reviews",
            Part::ReviewComments(_) => "/pulls/{number}/comments",
            Part::PullCommits(_) => "/pulls/{number}/commits",
            Part::RequestedReviewers(_) => "/pulls/{number}/requested_reviewers",
        }
    }

    fn doc(&self) -> &'static str {
        match self {
            Part::Issues => "https://docs.github.com/rest/issues/issues#list-repository-issues",
            Part::Pulls => "https://docs.github.com/rest/pulls/pulls#list-pull-requests",
            Part::Pull(_) => "https://docs.github.com/rest/pulls/pulls#get-a-pull-request",
            Part::Runs => "https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository",
            Part::Contributors => "https://docs.github.com/rest/repos/repos#list-repository-contributors",
            Part::Commits => "https://docs.github.com/rest/commits/commits#list-commits",
            Part::Compare(_) => "https://docs.github.com/rest/commits/commits#compare-two-commits",
            Part::Tree(_) => rest_code::TREE_DOC,
            Part::Tarball(_) => rest_code::TARBALL_DOC,
            Part::IssueComments(_) => "https://docs.github.com/rest/issues/comments#list-issue-comments",
            Part::IssueReactions(_) => "https://docs.github.com/rest/reactions/reactions#list-reactions-for-an-issue",
            Part::Reviews(_) => "https://docs.github.com/rest/pulls/reviews#list-reviews-for-a-pull-request",
            Part::ReviewComments(_) => {
                "https://docs.github.com/rest/pulls/comments#list-review-comments-on-a-pull-request"
            }
            Part::PullCommits(_) => "https://docs.github.com/rest/pulls/pulls#list-commits-on-a-pull-request",
            Part::RequestedReviewers(_) => {
                "https://docs.github.com/rest/pulls/review-requests#get-all-requested-reviewers-for-a-pull-request"
            }
        }
    }
}

/// What a deep handler works on.
pub(crate) struct Target<'a> {
    pub repo: &'a Repo,
    /// `None` when deep data is switched off.
    pub deep: Option<Arc<Deep>>,
    /// `{link_base}/repositories/{id}` (GitHub's `Link` headers name repositories by id).
    pub link_url: String,
    pub doc: &'static str,
}

/// Answer a deep endpoint: the response and the number of items in it.
pub(crate) fn handle(repo: &RepoRef, part: &Part, request: &Request, ctx: &Ctx) -> (Response, usize) {
    let found = match repo {
        RepoRef::Name(owner, name) => match ctx.universe.by_owner_and_name(owner, name) {
            Some(repo) => Some(repo).filter(|r| !r.deleted),
            None => match moved(owner, name, request, ctx) {
                Some(response) => return (response, 0),
                None => None,
            },
        },
        RepoRef::Id(id) => id.parse().ok().and_then(|id| ctx.universe.visible(id)),
    };
    let Some(found) = found else { return (not_found(part.doc()), 0) };
    let target = Target {
        repo: found,
        deep: ctx.universe.deep(found.id),
        link_url: format!("{}/repositories/{}", ctx.link_base, found.id),
        doc: part.doc(),
    };
    match part {
        Part::Issues => rest_issues::issues(&target, request, ctx),
        Part::Pulls => rest_issues::pulls(&target, request, ctx),
        Part::Pull(number) => rest_issues::pull(&target, number, ctx),
        Part::Runs => rest_runs::runs(&target, request, ctx),
        Part::Contributors => rest_commits::contributors(&target, request, ctx),
        Part::Commits => rest_commits::commits(&target, request, ctx),
        Part::Compare(basehead) => rest_compare::compare(&target, basehead, request, ctx),
        Part::Tree(sha) => rest_code::tree(&target, sha, request, ctx),
        Part::Tarball(reference) => rest_code::tarball(&target, reference.as_deref(), ctx),
        Part::IssueComments(n) => rest_discussion::issue_comments(&target, n, request, ctx),
        Part::IssueReactions(n) => rest_discussion::issue_reactions(&target, n, request),
        Part::Reviews(n) => rest_discussion::reviews(&target, n, request, ctx),
        Part::ReviewComments(n) => rest_discussion::review_comments(&target, n, request, ctx),
        Part::PullCommits(n) => rest_discussion::pull_commits(&target, n, request, ctx),
        Part::RequestedReviewers(n) => rest_discussion::requested_reviewers(&target, n),
    }
}

/// 422 Validation Failed for a bad query parameter.
pub(crate) fn invalid_param(field: &str, value: &str, doc: &str) -> Response {
    Response::json(
        422,
        &json!({
            "message": "Validation Failed",
            "errors": [{"resource": "Search", "field": field, "code": "invalid", "value": value}],
            "documentation_url": doc,
            "status": "422"
        }),
    )
}

/// A timestamp query parameter (`since`, `until`): Ok(None) when absent.
pub(crate) fn time_param(request: &Request, name: &str, doc: &str) -> Result<Option<i64>, Response> {
    match request.query_param(name) {
        None | Some("") => Ok(None),
        Some(v) => crate::query::instant(v).map(Some).ok_or_else(|| invalid_param(name, v, doc)),
    }
}

/// `direction=asc|desc`, or `default_ascending`.
pub(crate) fn ascending(request: &Request, default_ascending: bool) -> bool {
    match request.query_param("direction") {
        Some("asc") => true,
        Some("desc") => false,
        _ => default_ascending,
    }
}
