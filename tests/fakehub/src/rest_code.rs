//! The code endpoints (and under `/repositories/{id}/...`):
//!
//! - `GET /repos/{owner}/{repo}/git/trees/{tree_sha}`: `tree_sha` is a
//!   tree's sha (the root's or a directory's, any commit of the default
//!   branch), a commit sha (7 to 40 hex digits) or the default branch
//!   (`main`, `refs/heads/main`, `HEAD`). Answers `{"sha", "url", "tree":
//!   [{"path", "mode", "type", "sha", "size" (blobs only), "url"}],
//!   "truncated"}`: the tree's direct entries, or with `recursive` (any value,
//!   as on GitHub) every directory and blob below it depth first. More than
//!   `Options::tree_entry_limit` entries: the first that many and
//!   `"truncated": true`. Empty repository (or deep data off): 409 "Git
//!   Repository is empty."; unknown sha or ref: 404.
//! - `GET /repos/{owner}/{repo}/tarball[/{ref}]` (default: the default
//!   branch): 302 Found, no body, `Location: {codeload}/{owner}/{repo}/legacy.tar.gz/{ref}`
//!   with the repository's canonical name and the ref as asked
//!   (`refs/heads/{default branch}` when omitted). Empty repository or
//!   unknown ref: 404.
//!
//! Both count against the core budget like every REST endpoint, and a
//! renamed repository's old name answers 301 (see `rest_deep.rs`).

use crate::code_tree::{Kind, Missing, big_bytes, resolve};
use crate::http::{Request, Response};
use crate::rest_deep::Target;
use crate::routes::{Ctx, not_found};
use serde_json::{Value, json};

pub(crate) const TREE_DOC: &str = "https://docs.github.com/rest/git/trees#get-a-tree";
pub(crate) const TARBALL_DOC: &str = "https://docs.github.com/rest/repos/contents#download-a-repository-archive-tar";

/// `GET .../git/trees/{tree_sha}`: the response and the number of entries in it.
pub(crate) fn tree(t: &Target, name: &str, request: &Request, ctx: &Ctx) -> (Response, usize) {
    let big = big_bytes(ctx.big_archives, t.repo.id);
    let (tree, dir) = match ctx.universe.code_tree(t.repo, name, big) {
        Ok(found) => found,
        Err(Missing::Empty) => {
            let body = json!({"message": "Git Repository is empty.", "documentation_url": TREE_DOC, "status": "409"});
            return (Response::json(409, &body), 0);
        }
        Err(Missing::NotFound) => return (not_found(TREE_DOC), 0),
    };
    let recursive = request.query_param("recursive").is_some();
    let listing = tree.listing(dir, recursive);
    let shown = ctx.tree_entry_limit.map_or(listing.len(), |n| n.min(listing.len()));
    let api = format!("{}/repos/{}/git", ctx.base, t.repo.full_name);
    let entries: Vec<Value> = listing[..shown]
        .iter()
        .map(|e| match &e.kind {
            Kind::Tree => json!({
                "path": e.path, "mode": "040000", "type": "tree", "sha": e.sha,
                "url": format!("{api}/trees/{}", e.sha),
            }),
            Kind::Blob { mode, size, .. } => json!({
                "path": e.path, "mode": mode.git(), "type": "blob", "sha": e.sha, "size": size,
                "url": format!("{api}/blobs/{}", e.sha),
            }),
        })
        .collect();
    let sha = dir.map_or(tree.sha.as_str(), |i| tree.entries[i].sha.as_str());
    let body = json!({
        "sha": sha,
        "url": format!("{api}/trees/{sha}"),
        "tree": entries,
        "truncated": shown < listing.len(),
    });
    (Response::json(200, &body), shown)
}

/// `GET .../tarball[/{ref}]`: 302 to the download host.
pub(crate) fn tarball(t: &Target, reference: Option<&str>, ctx: &Ctx) -> (Response, usize) {
    let repo = t.repo;
    let Some(deep) = ctx.universe.deep(repo.id).filter(|d| !d.commits.is_empty()) else {
        return (not_found(TARBALL_DOC), 0);
    };
    let name = reference.map_or_else(|| format!("refs/heads/{}", repo.default_branch), str::to_string);
    if resolve(repo, &deep, &name).is_none() {
        return (not_found(TARBALL_DOC), 0);
    }
    let mut response = Response::empty(302);
    response.set_header("content-type", "text/html;charset=utf-8");
    response.set_header("location", format!("{}/{}/legacy.tar.gz/{name}", ctx.codeload, repo.full_name));
    (response, 0)
}
