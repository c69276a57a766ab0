//! `GET /repos/{owner}/{repo}/compare/{basehead}` (and under
//! `/repositories/{id}/...`): compare two commits of the default branch, as
//! GitHub documents it. `basehead` is `BASE...HEAD`, each a sha (7 to 40 hex
//! digits) or the default branch's name; anything else, an unknown commit,
//! an empty repository or deep data switched off is 404 Not Found.
//!
//! The comparison (`crate::compare`): `status`, `ahead_by`, `behind_by`,
//! `total_commits`, `base_commit`, `merge_base_commit`, `commits` in
//! chronological order and `files` (at most 300, by path). Without `page` or
//! `per_page` the commits are the last 250 of the comparison (the newest
//! last); with either, pages of `per_page` (default 30, at most 100) from the
//! oldest on, with a `Link` header, and `files` only on page 1 (later pages
//! have an empty list). Commits have the shape of `GET .../commits`.

use crate::compare::{self, FileChange, FileStatus};
use crate::deep_json;
use crate::http::{Request, Response};
use crate::paging;
use crate::rest_deep::Target;
use crate::routes::{Ctx, not_found};
use serde_json::{Value, json};

/// Commits in a comparison asked without paging parameters.
pub(crate) const MAX_COMMITS: usize = 250;
/// Files in a comparison's answer.
pub(crate) const MAX_FILES: usize = 300;

/// `GET /repos/{owner}/{repo}/compare/{basehead}`: the response and the number of commits in it.
pub(crate) fn compare(t: &Target, basehead: &str, request: &Request, ctx: &Ctx) -> (Response, usize) {
    let Some(deep) = t.deep.as_deref() else { return (not_found(t.doc), 0) };
    let resolved = basehead
        .split_once("...")
        .and_then(|(base, head)| Some((compare::resolve(t.repo, deep, base)?, compare::resolve(t.repo, deep, head)?)));
    let Some((base, head)) = resolved else { return (not_found(t.doc), 0) };
    let c = compare::comparison(ctx.universe.config().seed, t.repo, deep, base, head);
    let paged = request.query_param("page").is_some() || request.query_param("per_page").is_some();
    let (page, per_page) = paging::params(request);
    let shown: &[usize] = if paged {
        let start = (page - 1).saturating_mul(per_page).min(c.commits.len());
        &c.commits[start..start.saturating_add(per_page).min(c.commits.len())]
    } else {
        &c.commits[c.commits.len().saturating_sub(MAX_COMMITS)..]
    };
    let files: &[FileChange] = if paged && page > 1 { &[] } else { &c.files[..c.files.len().min(MAX_FILES)] };

    let full = &t.repo.full_name;
    let owner = t.repo.owner_login();
    let api = format!("{}/repos/{full}", ctx.base);
    let html = format!("https://github.com/{full}");
    let (base_sha, head_sha) = (&deep.commits[base].sha, &deep.commits[head].sha);
    let file = |f: &FileChange| {
        let at = if f.status == FileStatus::Removed { base_sha } else { head_sha };
        let patch = match f.status {
            FileStatus::Added => format!("@@ -0,0 +1,{} @@", f.additions),
            FileStatus::Removed => format!("@@ -1,{} +0,0 @@", f.deletions),
            FileStatus::Modified => format!("@@ -1,{} +1,{} @@", f.deletions, f.additions),
        };
        json!({
            "sha": f.sha,
            "filename": f.filename,
            "status": f.status.rest(),
            "additions": f.additions,
            "deletions": f.deletions,
            "changes": f.changes(),
            "blob_url": format!("{html}/blob/{at}/{}", f.filename),
            "raw_url": format!("{html}/raw/{at}/{}", f.filename),
            "contents_url": format!("{api}/contents/{}?ref={at}", f.filename),
            "patch": patch,
        })
    };
    let body = json!({
        "url": format!("{api}/compare/{basehead}"),
        "html_url": format!("{html}/compare/{basehead}"),
        "permalink_url": format!("{html}/compare/{owner}:{base_sha}...{owner}:{head_sha}"),
        "diff_url": format!("{html}/compare/{basehead}.diff"),
        "patch_url": format!("{html}/compare/{basehead}.patch"),
        "base_commit": deep_json::commit(ctx.base, t.repo, deep, base),
        "merge_base_commit": deep_json::commit(ctx.base, t.repo, deep, c.merge_base),
        "status": c.status.rest(),
        "ahead_by": c.ahead_by,
        "behind_by": c.behind_by,
        "total_commits": c.commits.len(),
        "commits": Value::Array(shown.iter().map(|&i| deep_json::commit(ctx.base, t.repo, deep, i)).collect()),
        "files": Value::Array(files.iter().map(file).collect()),
    });
    let mut response = Response::json(200, &body);
    if paged {
        let url = format!("{}/compare/{basehead}", t.link_url);
        if let Some(link) = paging::link(&url, &request.query, page, c.commits.len().div_ceil(per_page)) {
            response.set_header("link", link);
        }
    }
    (response, shown.len())
}
