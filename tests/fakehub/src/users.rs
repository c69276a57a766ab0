//! Accounts: `GET /users/{username}` (GitHub's public user, or organization,
//! profile) and `GET /users/{username}/orgs` (public organization
//! memberships), which tools like Perceval ask for every author they meet.
//!
//! Every account fakehub shows is an owner of the universe (issue, pull
//! request, comment and review authors are drawn from its users), plus
//! `ghost` and `web-flow`. The profile is consistent with the rest:
//! `public_repos` is the number of public, not deleted repositories
//! `/users/{username}/repos` lists; the account was created up to a year
//! before its first repository (derived from its id); no name, company,
//! e-mail or followers. fakehub has no organization memberships, so
//! `/orgs` is an empty list (a user who hides them looks the same on GitHub).
//! An unknown login is 404 on both.

use crate::deep::{GHOST_ID, GHOST_LOGIN, WEB_FLOW_ID, WEB_FLOW_LOGIN};
use crate::hash::mix;
use crate::http::{Request, Response};
use crate::json;
use crate::paging;
use crate::routes::{Ctx, not_found};
use crate::time::Timestamp;
use crate::universe::OwnerType;
use serde_json::{Value, json};

const USER_DOC: &str = "https://docs.github.com/rest/users/users#get-a-user";
const ORGS_DOC: &str = "https://docs.github.com/rest/orgs/orgs#list-organizations-for-a-user";
/// 2008-01-01, when GitHub opened: no account is older.
const GITHUB_OPENED: i64 = 1_199_145_600;

/// (login, id, type, public repos, created) of a login, `None` when unknown.
fn account(ctx: &Ctx, login: &str) -> Option<(String, u64, OwnerType, usize, i64)> {
    if login.eq_ignore_ascii_case(GHOST_LOGIN) {
        return Some((GHOST_LOGIN.into(), GHOST_ID, OwnerType::User, 0, 1_202_860_800));
    }
    if login.eq_ignore_ascii_case(WEB_FLOW_LOGIN) {
        return Some((WEB_FLOW_LOGIN.into(), WEB_FLOW_ID, OwnerType::User, 0, 1_462_233_600));
    }
    let u = ctx.universe;
    let owner = u.owner(login)?;
    let first = owner.repo_indices.iter().map(|&i| u.repos()[i as usize].created_at.0).min();
    let before = (mix(owner.id, 0x05E7) % (365 * 86_400)) as i64;
    let created = first.map_or(GITHUB_OPENED, |t| (t - before).max(GITHUB_OPENED));
    Some((owner.login.clone(), owner.id, owner.owner_type, u.owned_by(&owner.login).len(), created))
}

/// `GET /users/{username}`.
pub(crate) fn user(login: &str, ctx: &Ctx) -> Response {
    let Some((login, id, owner_type, repos, created)) = account(ctx, login) else { return not_found(USER_DOC) };
    let Value::Object(mut m) = json::simple_user(ctx.base, &login, id, owner_type) else { unreachable!() };
    let created = Timestamp(created).to_string();
    for (key, value) in [
        ("name", Value::Null),
        ("company", Value::Null),
        ("blog", json!("")),
        ("location", Value::Null),
        ("email", Value::Null),
        ("hireable", Value::Null),
        ("bio", Value::Null),
        ("twitter_username", Value::Null),
        ("public_repos", json!(repos)),
        ("public_gists", json!(0)),
        ("followers", json!(0)),
        ("following", json!(0)),
        ("created_at", json!(created)),
        ("updated_at", json!(created)),
    ] {
        m.insert(key.into(), value);
    }
    Response::json(200, &Value::Object(m))
}

/// `GET /users/{username}/orgs`: no public memberships.
pub(crate) fn orgs(login: &str, request: &Request, ctx: &Ctx) -> Response {
    let Some((login, ..)) = account(ctx, login) else { return not_found(ORGS_DOC) };
    paging::json_page(request, 0, &format!("{}/users/{login}/orgs", ctx.link_base), |_| Value::Null).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse_query;
    use crate::universe::{Universe, UniverseConfig};

    fn ctx(u: &Universe) -> Ctx<'_> {
        Ctx::for_tests(u)
    }

    fn body(r: &Response) -> Value {
        serde_json::from_slice(&r.body).expect("JSON")
    }

    #[test]
    fn users_and_orgs_are_served_consistently() {
        let u = Universe::generate(&UniverseConfig::new(2000, 5));
        let c = ctx(&u);
        for owner_type in [OwnerType::User, OwnerType::Organization] {
            let (owner, repos) = u.owners_by_repo_count(owner_type)[0];
            let r = user(&owner.login.to_uppercase(), &c);
            assert_eq!(r.status, 200);
            let v = body(&r);
            assert_eq!(v["login"], owner.login.as_str());
            assert_eq!(v["id"], owner.id);
            assert_eq!(v["type"], owner_type.as_str());
            assert_eq!(v["public_repos"], repos);
            let created = v["created_at"].as_str().expect("created_at").to_string();
            let first = owner.repo_indices.iter().map(|&i| u.repos()[i as usize].created_at).min();
            assert!(first.is_none_or(|t| created <= t.to_string()), "{created}");
            assert!(created.as_str() >= "2008-01-01T00:00:00Z");
            let request = Request {
                method: "GET".into(),
                path: "/x".into(),
                query: parse_query(""),
                headers: Vec::new(),
                body: Vec::new(),
                close: false,
            };
            let o = orgs(&owner.login, &request, &c);
            assert_eq!((o.status, body(&o)), (200, json!([])));
            assert!(o.header("link").is_none());
        }
        assert_eq!(body(&user("ghost", &c))["id"], GHOST_ID);
        assert_eq!(user("no-such-login-xyz", &c).status, 404);
        let request = Request {
            method: "GET".into(),
            path: "/x".into(),
            query: Vec::new(),
            headers: Vec::new(),
            body: Vec::new(),
            close: false,
        };
        assert_eq!(orgs("no-such-login-xyz", &request, &c).status, 404);
    }
}
