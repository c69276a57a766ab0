//! `GET /repos/{o}/{r}/issues`, `GET /repos/{o}/{r}/pulls` and
//! `GET /repos/{o}/{r}/pulls/{number}`, as GitHub documents them.
//!
//! Issues: issues *and* pull requests (those with a `pull_request` object);
//! `state=open|closed|all` (default open), `sort=created|updated|comments`
//! (default created), `direction` (default desc), `since` (updated at or
//! after; a bad one is 422). Issues disabled: 410 "Issues are disabled for
//! this repo". Pulls: `state` (default open), `sort=created|updated|popularity|long-running`
//! (default created), `direction` defaulting to desc for `created` and asc
//! otherwise (GitHub's rule), `base=` and `head=owner:ref` filters; the list
//! form leaves out `additions`, `deletions`, `changed_files` (only
//! `/pulls/{number}` has them). Ties sort by number in the same direction.

use crate::deep::{Deep, Issue, Pull, State};
use crate::deep_json;
use crate::http::{Request, Response};
use crate::paging;
use crate::rest_deep::{Target, ascending, time_param};
use crate::routes::{Ctx, not_found};
use serde_json::json;
use std::cmp::Ordering;

/// One entry of `/issues`: an issue or a pull request.
#[derive(Clone, Copy)]
enum Item<'a> {
    Issue(&'a Issue),
    Pull(&'a Pull),
}

impl Item<'_> {
    fn number(&self) -> u32 {
        match self {
            Item::Issue(i) => i.number,
            Item::Pull(p) => p.number,
        }
    }

    fn state(&self) -> State {
        match self {
            Item::Issue(i) => i.state,
            Item::Pull(p) => p.state,
        }
    }

    /// (created, updated, comments).
    fn keys(&self) -> (i64, i64, u32) {
        match self {
            Item::Issue(i) => (i.created_at.0, i.updated_at.0, i.comments),
            Item::Pull(p) => (p.created_at.0, p.updated_at.0, p.comments),
        }
    }
}

/// `state=` filter: Some(state) or None for all.
fn state_filter(request: &Request) -> Option<Option<State>> {
    match request.query_param("state") {
        None | Some("open") => Some(Some(State::Open)),
        Some("closed") => Some(Some(State::Closed)),
        Some("all") => Some(None),
        Some(_) => None,
    }
}

fn sort_by_key<T>(items: &mut [T], ascending: bool, key: impl Fn(&T) -> (i64, u32)) {
    items.sort_by(|a, b| {
        let o: Ordering = key(a).cmp(&key(b));
        if ascending { o } else { o.reverse() }
    });
}

/// `GET /repos/{owner}/{repo}/issues`.
pub(crate) fn issues(t: &Target, request: &Request, ctx: &Ctx) -> (Response, usize) {
    let enabled = t.deep.as_ref().map_or(t.repo.has_issues, |d| d.has_issues);
    if !enabled {
        let body = json!({"message": "Issues are disabled for this repo", "documentation_url": t.doc, "status": "410"});
        return (Response::json(410, &body), 0);
    }
    let Some(state) = state_filter(request) else {
        return (crate::rest_deep::invalid_param("state", request.query_param("state").unwrap_or(""), t.doc), 0);
    };
    let since = match time_param(request, "since", t.doc) {
        Ok(since) => since,
        Err(response) => return (response, 0),
    };
    let empty = Deep::default_for(t.repo.id);
    let deep = t.deep.as_deref().unwrap_or(&empty);
    let mut items: Vec<Item> = deep
        .issues
        .iter()
        .map(Item::Issue)
        .chain(deep.pulls.iter().map(Item::Pull))
        .filter(|i| state.is_none_or(|s| i.state() == s))
        .filter(|i| since.is_none_or(|s| i.keys().1 >= s))
        .collect();
    let sort = request.query_param("sort").unwrap_or("created");
    sort_by_key(&mut items, ascending(request, false), |i| {
        let (created, updated, comments) = i.keys();
        let key = match sort {
            "updated" => updated,
            "comments" => i64::from(comments),
            _ => created,
        };
        (key, i.number())
    });
    let url = format!("{}/issues", t.link_url);
    paging::json_page(request, items.len(), &url, |k| match items[k] {
        Item::Issue(i) => deep_json::issue(ctx.base, t.repo, deep, i),
        Item::Pull(p) => deep_json::pull_as_issue(ctx.base, t.repo, deep, p),
    })
}

/// `GET /repos/{owner}/{repo}/pulls`.
pub(crate) fn pulls(t: &Target, request: &Request, ctx: &Ctx) -> (Response, usize) {
    let Some(state) = state_filter(request) else {
        return (crate::rest_deep::invalid_param("state", request.query_param("state").unwrap_or(""), t.doc), 0);
    };
    let empty = Deep::default_for(t.repo.id);
    let deep = t.deep.as_deref().unwrap_or(&empty);
    let base = request.query_param("base");
    let head = request.query_param("head").map(|h| h.split_once(':').map_or(h, |(_, r)| r));
    let mut pulls: Vec<&Pull> = deep
        .pulls
        .iter()
        .filter(|p| state.is_none_or(|s| p.state == s))
        .filter(|p| base.is_none_or(|b| p.base_ref == b))
        .filter(|p| head.is_none_or(|h| p.head_ref == h))
        .collect();
    let sort = request
        .query_param("sort")
        .filter(|s| matches!(*s, "updated" | "popularity" | "long-running"))
        .unwrap_or("created");
    sort_by_key(&mut pulls, ascending(request, sort != "created"), |p| {
        let key = match sort {
            "updated" => p.updated_at.0,
            "popularity" => i64::from(p.comments),
            "long-running" => -p.created_at.0,
            _ => p.created_at.0,
        };
        (key, p.number)
    });
    let url = format!("{}/pulls", t.link_url);
    paging::json_page(request, pulls.len(), &url, |k| {
        deep_json::pull(ctx.base, ctx.universe, t.repo, deep, pulls[k], false)
    })
}

/// `GET /repos/{owner}/{repo}/pulls/{number}`.
pub(crate) fn pull(t: &Target, number: &str, ctx: &Ctx) -> (Response, usize) {
    let found = number.parse::<u32>().ok().zip(t.deep.as_deref()).and_then(|(n, d)| d.pull(n).map(|p| (p, d)));
    match found {
        Some((p, deep)) => (Response::json(200, &deep_json::pull(ctx.base, ctx.universe, t.repo, deep, p, true)), 1),
        None => (not_found(t.doc), 0),
    }
}
