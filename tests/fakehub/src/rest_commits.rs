//! `GET /repos/{owner}/{repo}/commits` and `.../contributors`.
//!
//! Commits: the default branch, newest first; `sha=` a branch name (only the
//! default branch exists), a full sha or a prefix of at least 7 hex digits
//! starts the history at that commit (anything else: 404 "No commit found
//! for SHA: x"); `since`/`until` filter on the committer date (inclusive; a
//! bad one is 422). An empty repository answers 409 "Git Repository is
//! empty.". Contributors: most contributions first; an empty repository
//! answers 204 with no body.

use crate::deep_json;
use crate::http::{Request, Response};
use crate::paging;
use crate::rest_deep::{Target, time_param};
use crate::routes::Ctx;
use serde_json::json;

/// `GET /repos/{owner}/{repo}/contributors`.
pub(crate) fn contributors(t: &Target, request: &Request, ctx: &Ctx) -> (Response, usize) {
    if t.repo.is_empty() {
        return (Response::empty(204), 0);
    }
    let list = t.deep.as_ref().map_or(&[][..], |d| d.contributors.as_slice());
    let url = format!("{}/contributors", t.link_url);
    paging::json_page(request, list.len(), &url, |k| deep_json::contributor(ctx.base, &list[k]))
}

/// `GET /repos/{owner}/{repo}/commits`.
pub(crate) fn commits(t: &Target, request: &Request, ctx: &Ctx) -> (Response, usize) {
    if t.repo.is_empty() {
        let body = json!({"message": "Git Repository is empty.", "documentation_url": t.doc, "status": "409"});
        return (Response::json(409, &body), 0);
    }
    let (since, until) = match (time_param(request, "since", t.doc), time_param(request, "until", t.doc)) {
        (Ok(since), Ok(until)) => (since, until),
        (Err(response), _) | (_, Err(response)) => return (response, 0),
    };
    let Some(deep) = t.deep.as_deref() else {
        return paging::json_page(request, 0, &format!("{}/commits", t.link_url), |_| json!(null));
    };
    let start = match request.query_param("sha").filter(|s| !s.is_empty()) {
        None => 0,
        Some(s) if s == t.repo.default_branch => 0,
        Some(s) => {
            let lower = s.to_ascii_lowercase();
            let found = (lower.len() >= 7 && lower.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| deep.commits.iter().position(|c| c.sha.starts_with(&lower)))
                .flatten();
            match found {
                Some(i) => i,
                None => {
                    let message = format!("No commit found for SHA: {s}");
                    let body = json!({"message": message, "documentation_url": t.doc, "status": "404"});
                    return (Response::json(404, &body), 0);
                }
            }
        }
    };
    let picked: Vec<usize> = (start..deep.commits.len())
        .filter(|&i| {
            let date = deep.commits[i].committer.date.0;
            since.is_none_or(|s| date >= s) && until.is_none_or(|u| date <= u)
        })
        .collect();
    let url = format!("{}/commits", t.link_url);
    paging::json_page(request, picked.len(), &url, |k| deep_json::commit(ctx.base, t.repo, deep, picked[k]))
}
