//! Owner listings and stars, page-based like GitHub ([`crate::paging`]):
//! `GET /users/{username}/repos` (also for organizations), `GET /orgs/{org}/repos`
//! (404 for users) and `GET /users/{username}/starred`, plus their ground truth.
//! Listings hold the owner's public repositories, forks included, deleted ones
//! left out, as listed repositories ([`crate::json::listed_repo`]).
//!
//! As on github.com, `Link` URLs name the owner by id: `/user/{id}/repos`,
//! `/organizations/{id}/repos`, `/user/{id}/starred` (served too), keeping the
//! request's query with `page` replaced. Defaults as GitHub documents them:
//! users' repos `type=owner`, `sort=full_name` (case-insensitive) ascending;
//! organizations' repos `type=all`, `sort=created` *descending*; `direction`
//! defaults to asc for `full_name`, else desc; ties go to the lower id.
//! `type=member` (and `private`, `internal`) list nothing, `forks`/`sources`
//! keep only forks/non-forks; unknown values fall back to the default.
//! Starred: `sort=created` (star time, default) or `updated` (last push),
//! `direction=desc` default; `Accept: application/vnd.github.star+json` wraps
//! each item as `{"starred_at", "repo"}`. Organizations star nothing.

use crate::http::{Request, Response};
use crate::json_write;
use crate::paging;
use crate::routes::{Ctx, not_found};
use crate::time::Timestamp;
use crate::universe::{Owner, OwnerType, Repo, Universe};
use std::cmp::Ordering;

const USER_REPOS_DOC: &str = "https://docs.github.com/rest/repos/repos#list-repositories-for-a-user";
const ORG_REPOS_DOC: &str = "https://docs.github.com/rest/repos/repos#list-organization-repositories";
const STARRED_DOC: &str = "https://docs.github.com/rest/activity/starring#list-repositories-starred-by-a-user";

/// How a route names an owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum OwnerRef {
    /// `/users/{login}/...`, `/orgs/{login}/...`
    Login(String),
    /// `/user/{id}/...`, `/organizations/{id}/...`
    Id(String),
}

impl Universe {
    /// The owner's public, not deleted repositories (forks included) in the
    /// order of `GET /users/{login}/repos`: full name ascending,
    /// case-insensitively. Empty for an unknown login.
    pub fn owned_by(&self, login: &str) -> Vec<&Repo> {
        let Some(owner) = self.owner(login) else { return Vec::new() };
        let mut repos = self.visible_of(owner);
        sort_repos(&mut repos, "full_name", true);
        repos
    }

    /// The repositories `login` starred, in the order of
    /// `GET /users/{login}/starred`: most recently starred first (ties: lower
    /// id first). Empty for organizations and unknown logins.
    pub fn starred_by(&self, login: &str) -> Vec<&Repo> {
        self.starred_at(login).into_iter().map(|(r, _)| r).collect()
    }

    /// [`Universe::starred_by`] with the time of each star. Repositories
    /// deleted by an advance drop out, as on GitHub.
    pub fn starred_at(&self, login: &str) -> Vec<(&Repo, Timestamp)> {
        let Some(index) = self.owner_index(login) else { return Vec::new() };
        let repos = self.repos();
        self.stars_of(index)
            .iter()
            .map(|&(at, i)| (&repos[i as usize], Timestamp(at)))
            .filter(|(r, _)| !r.deleted)
            .collect()
    }

    /// Owners of one type, most visible repositories first (ties: lower id first),
    /// e.g. to pick an organization with hundreds of repositories.
    pub fn owners_by_repo_count(&self, owner_type: OwnerType) -> Vec<(&Owner, usize)> {
        let mut owners: Vec<(&Owner, usize)> = self
            .owners()
            .iter()
            .filter(|o| o.owner_type == owner_type)
            .map(|o| (o, o.repo_indices.iter().filter(|&&i| !self.repos()[i as usize].deleted).count()))
            .collect();
        owners.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
        owners
    }

    /// Users by number of starred repositories, most first (ties: lower id first).
    pub fn users_by_stars_given(&self) -> Vec<(&Owner, usize)> {
        let mut users: Vec<(&Owner, usize)> = (0..self.owners().len())
            .filter(|&i| self.owners()[i].owner_type == OwnerType::User)
            .map(|i| {
                let live = self.stars_of(i).iter().filter(|&&(_, r)| !self.repos()[r as usize].deleted).count();
                (&self.owners()[i], live)
            })
            .collect();
        users.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
        users
    }

    fn visible_of(&self, owner: &Owner) -> Vec<&Repo> {
        owner.repo_indices.iter().map(|&i| &self.repos()[i as usize]).filter(|r| !r.deleted).collect()
    }

    fn owner_by_ref(&self, owner: &OwnerRef) -> Option<&Owner> {
        match owner {
            OwnerRef::Login(login) => self.owner(login),
            OwnerRef::Id(id) => {
                let id: u64 = id.parse().ok()?;
                self.owners().iter().find(|o| o.id == id)
            }
        }
    }
}

/// Sort by `sort` (`full_name`, `created`, `updated`, `pushed`); ties by id ascending.
fn sort_repos(repos: &mut [&Repo], sort: &str, ascending: bool) {
    let directed = |o: Ordering| if ascending { o } else { o.reverse() };
    match sort {
        "full_name" => {
            let mut keyed: Vec<(String, &Repo)> = repos.iter().map(|r| (r.full_name.to_lowercase(), *r)).collect();
            keyed.sort_by(|a, b| directed(a.0.cmp(&b.0)).then(a.1.id.cmp(&b.1.id)));
            for (slot, (_, r)) in repos.iter_mut().zip(keyed) {
                *slot = r;
            }
        }
        _ => {
            let key = |r: &Repo| match sort {
                "updated" => r.updated_at,
                "pushed" => r.pushed_at,
                _ => r.created_at,
            };
            repos.sort_by(|a, b| directed(key(a).cmp(&key(b))).then(a.id.cmp(&b.id)));
        }
    }
}

/// `sort` and ascending from the request, with `default` as the sort.
fn sorting<'a>(request: &'a Request, default: &'a str) -> (&'a str, bool) {
    let sort = match request.query_param("sort") {
        Some(s @ ("created" | "updated" | "pushed" | "full_name")) => s,
        _ => default,
    };
    let ascending = match request.query_param("direction") {
        Some("asc") => true,
        Some("desc") => false,
        _ => sort == "full_name",
    };
    (sort, ascending)
}

/// One page of `items` as a JSON array with its `Link` (pointing at `link_url`).
fn page_of<T>(request: &Request, items: &[T], link_url: &str, render: impl Fn(&mut String, &T)) -> Response {
    let (page, per_page) = paging::params(request);
    let start = (page - 1).saturating_mul(per_page).min(items.len());
    let end = start.saturating_add(per_page).min(items.len());
    let mut body = String::with_capacity((end - start) * 5200 + 2);
    json_write::array(&mut body, &items[start..end], render);
    let mut response = Response::json_bytes(200, body.into_bytes());
    if let Some(link) = paging::link(link_url, &request.query, page, items.len().div_ceil(per_page)) {
        response.set_header("link", link);
    }
    response
}

/// `GET /users/{username}/repos` and `GET /user/{account_id}/repos`.
pub(crate) fn user_repos(owner: &OwnerRef, request: &Request, ctx: &Ctx) -> Response {
    let Some(owner) = ctx.universe.owner_by_ref(owner) else { return not_found(USER_REPOS_DOC) };
    let mut repos = match request.query_param("type") {
        Some("member") => Vec::new(),
        _ => ctx.universe.visible_of(owner),
    };
    let (sort, ascending) = sorting(request, "full_name");
    sort_repos(&mut repos, sort, ascending);
    let url = format!("{}/user/{}/repos", ctx.link_base, owner.id);
    page_of(request, &repos, &url, |out, r| json_write::listed_repo(out, ctx.base, r, false))
}

/// `GET /orgs/{org}/repos` and `GET /organizations/{organization_id}/repos`.
pub(crate) fn org_repos(owner: &OwnerRef, request: &Request, ctx: &Ctx) -> Response {
    let owner = ctx.universe.owner_by_ref(owner).filter(|o| o.owner_type == OwnerType::Organization);
    let Some(owner) = owner else { return not_found(ORG_REPOS_DOC) };
    let mut repos = ctx.universe.visible_of(owner);
    match request.query_param("type") {
        Some("private" | "internal" | "member") => repos.clear(),
        Some("forks") => repos.retain(|r| r.fork),
        Some("sources") => repos.retain(|r| !r.fork),
        _ => {}
    }
    let (sort, ascending) = sorting(request, "created");
    sort_repos(&mut repos, sort, ascending);
    let url = format!("{}/organizations/{}/repos", ctx.link_base, owner.id);
    page_of(request, &repos, &url, |out, r| json_write::listed_repo(out, ctx.base, r, false))
}

/// `GET /users/{username}/starred` and `GET /user/{account_id}/starred`.
pub(crate) fn starred(owner: &OwnerRef, request: &Request, ctx: &Ctx) -> Response {
    let Some(owner) = ctx.universe.owner_by_ref(owner) else { return not_found(STARRED_DOC) };
    let mut stars = ctx.universe.starred_at(&owner.login);
    let updated = request.query_param("sort") == Some("updated");
    let ascending = request.query_param("direction") == Some("asc");
    if updated || ascending {
        stars.sort_by(|a, b| {
            let o = if updated { a.0.pushed_at.cmp(&b.0.pushed_at) } else { a.1.cmp(&b.1) };
            (if ascending { o } else { o.reverse() }).then(a.0.id.cmp(&b.0.id))
        });
    }
    let wrapped = request.header("accept").is_some_and(|a| a.contains("star+json"));
    let url = format!("{}/user/{}/starred", ctx.link_base, owner.id);
    page_of(request, &stars, &url, |out, (r, at)| {
        if wrapped {
            out.push_str("{\"starred_at\":\"");
            out.push_str(&at.to_string());
            out.push_str("\",\"repo\":");
            json_write::listed_repo(out, ctx.base, r, false);
            out.push('}');
        } else {
            json_write::listed_repo(out, ctx.base, r, false);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::universe::UniverseConfig;

    #[test]
    fn stars_and_owners_for_tests_to_pick() {
        let u = Universe::generate(&UniverseConfig::new(20_000, 1));
        let orgs = u.owners_by_repo_count(OwnerType::Organization);
        assert!(orgs[0].1 >= 150, "an organization with >= 150 repositories: {:?}", orgs[0].1);
        assert_eq!(u.owned_by(&orgs[0].0.login).len(), orgs[0].1);
        let users = u.users_by_stars_given();
        assert!(users[0].1 >= 250, "a user starring >= 250: {}", users[0].1);
        let typical = users[users.len() / 2].1;
        assert!(typical <= 20, "most users star few: median {typical}");
        assert!(users.iter().all(|(_, n)| *n <= 1500));
        for (user, n) in users.iter().take(5) {
            let stars = u.starred_at(&user.login);
            assert_eq!(stars.len(), *n);
            assert!(stars.windows(2).all(|w| w[0].1 > w[1].1 || (w[0].1 == w[1].1 && w[0].0.id < w[1].0.id)));
            assert!(stars.iter().all(|(r, at)| !r.deleted && *at >= r.created_at));
            let mut ids: Vec<u64> = stars.iter().map(|(r, _)| r.id).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), *n, "distinct");
        }
        let org = &orgs[0].0.login;
        assert!(u.starred_by(org).is_empty());
        assert!(u.starred_by("no-such-user-xyz").is_empty() && u.owned_by("no-such-user-xyz").is_empty());
        // Stars are generated after the repositories: deterministic and seed-dependent.
        let again = Universe::generate(&UniverseConfig::new(20_000, 1));
        assert_eq!(ids_of(&u.starred_by(&users[0].0.login)), ids_of(&again.starred_by(&users[0].0.login)));
    }

    fn ids_of(repos: &[&Repo]) -> Vec<u64> {
        repos.iter().map(|r| r.id).collect()
    }

    #[test]
    fn owned_by_is_sorted_by_full_name() {
        let u = Universe::generate(&UniverseConfig {
            repos: 3000,
            seed: 2,
            hidden_fraction: 0.3,
            deleted_fraction: 0.1,
            ..Default::default()
        });
        let owner = &u.owners()[0];
        let owned = u.owned_by(&owner.login.to_uppercase());
        assert!(!owned.is_empty() && owned.iter().all(|r| !r.deleted && r.owner_id == owner.id));
        assert!(owned.windows(2).all(|w| w[0].full_name.to_lowercase() < w[1].full_name.to_lowercase()));
        let deleted = owner.repo_indices.iter().filter(|&&i| u.repos()[i as usize].deleted).count();
        assert_eq!(owned.len() + deleted, owner.repo_indices.len());
    }
}
