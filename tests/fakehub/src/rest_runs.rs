//! `GET /repos/{owner}/{repo}/actions/runs`: `{"total_count", "workflow_runs"}`,
//! newest first (created descending, then id descending). Filters: `created`
//! in the search date syntax (`>=2025-01-01`, `2025-01-01..2025-02-01`,
//! datetimes; a bad one is 422), `status` (a status or a conclusion),
//! `event`, `branch`, `head_sha`. Like GitHub, only the first 1,000 runs of a
//! query are reachable: `total_count` is the true total, a page past them has
//! an empty `workflow_runs` (a crawler must slice by `created`), and the
//! `Link` header still counts pages from `total_count`.

use crate::deep::Run;
use crate::deep_json;
use crate::http::{Request, Response};
use crate::paging;
use crate::rest_deep::{Target, invalid_param};
use crate::routes::Ctx;
use serde_json::{Value, json};

/// Runs reachable per query.
pub(crate) const RUN_CAP: usize = 1000;

fn status_matches(run: &Run, wanted: &str) -> bool {
    run.status.rest() == wanted || run.conclusion.is_some_and(|c| c.rest() == wanted)
}

/// `GET /repos/{owner}/{repo}/actions/runs`.
pub(crate) fn runs(t: &Target, request: &Request, ctx: &Ctx) -> (Response, usize) {
    let created = match request.query_param("created") {
        None | Some("") => None,
        Some(v) => match crate::query::date_range(v) {
            Some(range) => Some(range),
            None => return (invalid_param("created", v, t.doc), 0),
        },
    };
    let status = request.query_param("status");
    let event = request.query_param("event");
    let branch = request.query_param("branch");
    let head_sha = request.query_param("head_sha");
    let all: &[Run] = t.deep.as_ref().map_or(&[], |d| d.runs.as_slice());
    let runs: Vec<&Run> = all
        .iter()
        .filter(|r| created.is_none_or(|(lo, hi)| lo <= r.created_at.0 && r.created_at.0 <= hi))
        .filter(|r| status.is_none_or(|s| status_matches(r, s)))
        .filter(|r| event.is_none_or(|e| r.event == e))
        .filter(|r| branch.is_none_or(|b| r.head_branch == b))
        .filter(|r| head_sha.is_none_or(|h| r.head_sha == h))
        .collect();
    let (page, per_page) = paging::params(request);
    let reachable = runs.len().min(RUN_CAP);
    let start = (page - 1).saturating_mul(per_page).min(reachable);
    let end = start.saturating_add(per_page).min(reachable);
    let deep = t.deep.as_deref();
    let items: Vec<Value> = match deep {
        Some(deep) => runs[start..end].iter().map(|r| deep_json::run(ctx.base, t.repo, deep, r)).collect(),
        None => Vec::new(),
    };
    let served = items.len();
    let mut response = Response::json(200, &json!({"total_count": runs.len(), "workflow_runs": items}));
    let url = format!("{}/actions/runs", t.link_url);
    if let Some(link) = paging::link(&url, &request.query, page, runs.len().div_ceil(per_page)) {
        response.set_header("link", link);
    }
    (response, served)
}
