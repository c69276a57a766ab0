//! Routing and the REST handlers. `Route::parse` maps a method and path to a
//! `Route`; each route knows its stats key (`GET /repos/{owner}/{name}`), its
//! rate-limit resource and whether it needs authentication. To add an endpoint
//! (search, user/org repositories, stargazers, pulls, ...): add a variant, a
//! line in `parse`, `key` and `resource`, and a handler function (below, or in
//! its own module like `search.rs` and `owners.rs`).

use crate::control::Control;
use crate::http::{Request, Response, percent_decode};
use crate::json;
use crate::limits::{RateSnapshot, Resource};
use crate::owners::{self, OwnerRef};
use crate::rest_deep::{self, Part, RepoRef};
use crate::search;
use crate::universe::Universe;
use crate::users;
use serde_json::{Value, json};

/// Ids per `/repositories` page (of all ids, public and hidden).
pub(crate) const LISTING_WINDOW: usize = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    RateLimit,
    Repositories,
    Repo {
        owner: String,
        name: String,
    },
    /// `GET /repositories/{id}` (where renamed repositories' old names redirect to).
    RepoById(String),
    Graphql,
    /// `GET /search/repositories`.
    SearchRepositories,
    /// `GET /users/{username}/repos`, `GET /user/{account_id}/repos`.
    UserRepos(OwnerRef),
    /// `GET /orgs/{org}/repos`, `GET /organizations/{organization_id}/repos`.
    OrgRepos(OwnerRef),
    /// `GET /users/{username}/starred`, `GET /user/{account_id}/starred`.
    Starred(OwnerRef),
    /// `GET /users/{username}`.
    User(String),
    /// `GET /users/{username}/orgs`.
    UserOrgs(String),
    /// A repository's deep data: issues, pulls, a pull, runs, contributors, commits
    /// (`/repos/{owner}/{name}/...` or `/repositories/{id}/...`).
    Deep {
        repo: RepoRef,
        part: Part,
    },
    /// `POST /app/installations/{installation_id}/access_tokens` (the pipeline owns it).
    AppAccessTokens {
        installation: String,
    },
    /// `/_fakehub/...`: controls for scripts (never authenticated, limited or counted).
    Control(Control),
    NotFound,
}

impl Route {
    pub fn parse(method: &str, path: &str) -> Route {
        let segments: Vec<String> =
            path.strip_prefix('/').unwrap_or(path).split('/').map(|s| percent_decode(s, false)).collect();
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        match (method, segments.as_slice()) {
            ("GET", ["rate_limit"]) => Route::RateLimit,
            ("GET", ["repositories"]) => Route::Repositories,
            ("GET", ["repos", owner, name]) if !owner.is_empty() && !name.is_empty() => {
                Route::Repo { owner: owner.to_string(), name: name.to_string() }
            }
            ("GET", ["repos", owner, name, rest @ ..]) if !owner.is_empty() && !name.is_empty() => {
                match Part::parse(rest) {
                    Some(part) => Route::Deep { repo: RepoRef::Name(owner.to_string(), name.to_string()), part },
                    None => Route::NotFound,
                }
            }
            ("GET", ["repositories", id]) if !id.is_empty() => Route::RepoById(id.to_string()),
            ("GET", ["repositories", id, rest @ ..]) if !id.is_empty() => match Part::parse(rest) {
                Some(part) => Route::Deep { repo: RepoRef::Id(id.to_string()), part },
                None => Route::NotFound,
            },
            ("POST", ["graphql"]) => Route::Graphql,
            ("GET", ["search", "repositories"]) => Route::SearchRepositories,
            ("GET", ["users", login, "repos"]) if !login.is_empty() => {
                Route::UserRepos(OwnerRef::Login(login.to_string()))
            }
            ("GET", ["user", id, "repos"]) if !id.is_empty() => Route::UserRepos(OwnerRef::Id(id.to_string())),
            ("GET", ["orgs", org, "repos"]) if !org.is_empty() => Route::OrgRepos(OwnerRef::Login(org.to_string())),
            ("GET", ["organizations", id, "repos"]) if !id.is_empty() => Route::OrgRepos(OwnerRef::Id(id.to_string())),
            ("GET", ["users", login]) if !login.is_empty() => Route::User(login.to_string()),
            ("GET", ["users", login, "orgs"]) if !login.is_empty() => Route::UserOrgs(login.to_string()),
            ("GET", ["users", login, "starred"]) if !login.is_empty() => {
                Route::Starred(OwnerRef::Login(login.to_string()))
            }
            ("GET", ["user", id, "starred"]) if !id.is_empty() => Route::Starred(OwnerRef::Id(id.to_string())),
            ("POST", ["app", "installations", id, "access_tokens"]) => {
                Route::AppAccessTokens { installation: id.to_string() }
            }
            (method, ["_fakehub", what]) => Control::parse(method, what).map_or(Route::NotFound, Route::Control),
            _ => Route::NotFound,
        }
    }

    /// Stats key, e.g. `GET /repos/{owner}/{name}`.
    pub fn key(&self, method: &str) -> String {
        if let Route::Deep { repo, part } = self {
            let prefix = match repo {
                RepoRef::Name(..) => "/repos/{owner}/{name}",
                RepoRef::Id(_) => "/repositories/{id}",
            };
            return format!("{method} {prefix}{}", part.key());
        }
        let path = match self {
            Route::RateLimit => "/rate_limit",
            Route::Repositories => "/repositories",
            Route::Repo { .. } => "/repos/{owner}/{name}",
            Route::RepoById(_) => "/repositories/{id}",
            Route::Control(c) => c.key(),
            Route::Graphql => "/graphql",
            Route::SearchRepositories => "/search/repositories",
            Route::UserRepos(OwnerRef::Login(_)) => "/users/{username}/repos",
            Route::UserRepos(OwnerRef::Id(_)) => "/user/{account_id}/repos",
            Route::OrgRepos(OwnerRef::Login(_)) => "/orgs/{org}/repos",
            Route::OrgRepos(OwnerRef::Id(_)) => "/organizations/{organization_id}/repos",
            Route::Starred(OwnerRef::Login(_)) => "/users/{username}/starred",
            Route::Starred(OwnerRef::Id(_)) => "/user/{account_id}/starred",
            Route::User(_) => "/users/{username}",
            Route::UserOrgs(_) => "/users/{username}/orgs",
            Route::AppAccessTokens { .. } => "/app/installations/{installation_id}/access_tokens",
            Route::Deep { .. } | Route::NotFound => "(unmatched)",
        };
        format!("{method} {path}")
    }

    pub fn resource(&self) -> Resource {
        match self {
            Route::Graphql => Resource::Graphql,
            Route::SearchRepositories => Resource::Search,
            _ => Resource::Core,
        }
    }

    pub fn requires_auth(&self) -> bool {
        matches!(self, Route::Graphql)
    }
}

/// What handlers may look at besides the request.
pub(crate) struct Ctx<'a> {
    pub universe: &'a Universe,
    /// `http://127.0.0.1:PORT`.
    pub base: &'a str,
    /// Where `Link` headers point (`base` unless the server is told to misbehave).
    pub link_base: &'a str,
    /// `GET /repositories` ignores `since` (a misbehaving server).
    pub ignore_since: bool,
    /// The download host's base URL (`http://127.0.0.1:PORT`), where tarballs redirect.
    pub codeload: &'a str,
    /// `Options::tree_entry_limit`.
    pub tree_entry_limit: Option<usize>,
    /// `Options::big_archives`.
    pub big_archives: &'a [(u64, u64)],
}

#[cfg(test)]
impl<'a> Ctx<'a> {
    /// A context for handler tests: base `http://h`, downloads at `http://c`, no limits.
    pub fn for_tests(universe: &'a Universe) -> Ctx<'a> {
        Ctx {
            universe,
            base: "http://h",
            link_base: "http://h",
            ignore_since: false,
            codeload: "http://c",
            tree_entry_limit: None,
            big_archives: &[],
        }
    }
}

/// Answer a REST route (not `/rate_limit` or `/graphql`, which the pipeline owns).
pub(crate) fn handle(route: &Route, request: &Request, ctx: &Ctx) -> Response {
    match route {
        Route::Repositories => list_repositories(request, ctx),
        Route::Repo { owner, name } => get_repo(owner, name, request, ctx),
        Route::RepoById(id) => match id.parse().ok().and_then(|id| ctx.universe.visible(id)) {
            Some(repo) => Response::json(200, &json::full_repo(ctx.base, repo)),
            None => not_found(REPO_DOC),
        },
        Route::SearchRepositories => search::search_repositories(request, ctx),
        Route::UserRepos(owner) => owners::user_repos(owner, request, ctx),
        Route::OrgRepos(owner) => owners::org_repos(owner, request, ctx),
        Route::Starred(owner) => owners::starred(owner, request, ctx),
        Route::User(login) => users::user(login, ctx),
        Route::UserOrgs(login) => users::orgs(login, request, ctx),
        Route::Deep { repo, part } => rest_deep::handle(repo, part, request, ctx).0,
        Route::RateLimit | Route::Graphql | Route::AppAccessTokens { .. } | Route::Control(_) | Route::NotFound => {
            not_found("https://docs.github.com/rest")
        }
    }
}

pub(crate) fn not_found(documentation_url: &str) -> Response {
    Response::json(404, &json!({"message": "Not Found", "documentation_url": documentation_url, "status": "404"}))
}

const REPO_DOC: &str = "https://docs.github.com/rest/repos/repos#get-a-repository";
const REDIRECT_DOC: &str = "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects";

/// What GitHub answers for `/repos/{old owner}/{old name}[/...]` of a renamed
/// repository: 301 Moved Permanently to `/repositories/{id}[/...]` (the rest
/// of the path and the query kept), `None` when `owner/name` is no old name
/// of a live repository.
pub(crate) fn moved(owner: &str, name: &str, request: &Request, ctx: &Ctx) -> Option<Response> {
    let repo = ctx.universe.renamed_from(owner, name).filter(|r| !r.deleted)?;
    let rest = request.path.splitn(5, '/').nth(4).map_or_else(String::new, |r| format!("/{r}"));
    let query = if request.query.is_empty() {
        String::new()
    } else {
        let pairs: Vec<String> = request
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", crate::paging::encode(k), crate::paging::encode(v)))
            .collect();
        format!("?{}", pairs.join("&"))
    };
    let location = format!("{}/repositories/{}{rest}{query}", ctx.base, repo.id);
    let mut response = Response::json(
        301,
        &json!({"message": "Moved Permanently", "url": location, "documentation_url": REDIRECT_DOC}),
    );
    response.set_header("location", location);
    Some(response)
}

/// `GET /repositories?since=N`: the next 100 ids of all ids > N, public ones only.
fn list_repositories(request: &Request, ctx: &Ctx) -> Response {
    let since = match request.query_param("since").map(str::trim) {
        None | Some("") => 0,
        Some(v) => match v.parse::<u64>() {
            Ok(n) => n,
            Err(_) => {
                return Response::json(
                    422,
                    &json!({
                        "message": "Validation Failed",
                        "errors": [{"resource": "Repository", "field": "since", "code": "invalid", "value": v}],
                        "documentation_url": "https://docs.github.com/rest/repos/repos#list-public-repositories",
                        "status": "422"
                    }),
                );
            }
        },
    };
    let since = if ctx.ignore_since { 0 } else { since };
    let (repos, last, more) = ctx.universe.listing_page(since, LISTING_WINDOW);
    let body = Value::Array(repos.iter().map(|r| json::minimal_repo(ctx.base, r)).collect());
    let mut response = Response::json(200, &body);
    let first = format!("<{}/repositories{{?since}}>; rel=\"first\"", ctx.link_base);
    let link = match (last, more) {
        (Some(last), true) => format!("<{}/repositories?since={last}>; rel=\"next\", {first}", ctx.link_base),
        _ => first,
    };
    response.set_header("link", link);
    response
}

/// `GET /repos/{owner}/{name}` (301 for a renamed repository's old name).
fn get_repo(owner: &str, name: &str, request: &Request, ctx: &Ctx) -> Response {
    match ctx.universe.by_owner_and_name(owner, name) {
        Some(repo) if !repo.deleted => Response::json(200, &json::full_repo(ctx.base, repo)),
        Some(_) => not_found(REPO_DOC),
        None => moved(owner, name, request, ctx).unwrap_or_else(|| not_found(REPO_DOC)),
    }
}

/// `GET /rate_limit` body from the caller's three budgets.
pub(crate) fn rate_limit_body(core: &RateSnapshot, search: &RateSnapshot, graphql: &RateSnapshot) -> Value {
    let entry = |r: &RateSnapshot| json!({"limit": r.limit, "used": r.used, "remaining": r.remaining(), "reset": r.reset, "resource": r.resource.as_str()});
    json!({
        "resources": {"core": entry(core), "search": entry(search), "graphql": entry(graphql)},
        "rate": entry(core)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        assert_eq!(Route::parse("GET", "/repositories"), Route::Repositories);
        assert_eq!(Route::parse("GET", "/repos/a%2Db/c.d"), Route::Repo { owner: "a-b".into(), name: "c.d".into() });
        assert_eq!(Route::parse("GET", "/repos/a/"), Route::NotFound);
        assert_eq!(Route::parse("GET", "/repos/a/b/c"), Route::NotFound);
        assert_eq!(Route::parse("POST", "/repositories"), Route::NotFound);
        assert_eq!(Route::parse("POST", "/graphql"), Route::Graphql);
        assert_eq!(Route::parse("GET", "/"), Route::NotFound);
        let tokens = Route::parse("POST", "/app/installations/77/access_tokens");
        assert_eq!(tokens, Route::AppAccessTokens { installation: "77".into() });
        assert_eq!(tokens.key("POST"), "POST /app/installations/{installation_id}/access_tokens");
        assert_eq!(Route::parse("GET", "/app/installations/77/access_tokens"), Route::NotFound);
        assert_eq!(Route::Repo { owner: "x".into(), name: "y".into() }.key("GET"), "GET /repos/{owner}/{name}");
        let search = Route::parse("GET", "/search/repositories");
        assert_eq!((search.key("GET").as_str(), search.resource()), ("GET /search/repositories", Resource::Search));
        assert_eq!(Route::parse("GET", "/users/Octo/repos"), Route::UserRepos(OwnerRef::Login("Octo".into())));
        assert_eq!(Route::parse("GET", "/user/12/repos").key("GET"), "GET /user/{account_id}/repos");
        assert_eq!(Route::parse("GET", "/orgs/gh/repos"), Route::OrgRepos(OwnerRef::Login("gh".into())));
        assert_eq!(Route::parse("GET", "/organizations/9/repos"), Route::OrgRepos(OwnerRef::Id("9".into())));
        assert_eq!(Route::parse("GET", "/users/a/starred").key("GET"), "GET /users/{username}/starred");
        assert_eq!(Route::parse("GET", "/user/3/starred"), Route::Starred(OwnerRef::Id("3".into())));
        assert_eq!(Route::parse("GET", "/users//repos"), Route::NotFound);
        assert_eq!(Route::parse("POST", "/search/repositories"), Route::NotFound);
        assert_eq!(Route::parse("GET", "/users/a/repos").resource(), Resource::Core);
        let issues = Route::parse("GET", "/repos/o/n/issues");
        assert_eq!(issues, Route::Deep { repo: RepoRef::Name("o".into(), "n".into()), part: Part::Issues });
        assert_eq!(issues.key("GET"), "GET /repos/{owner}/{name}/issues");
        assert_eq!(Route::parse("GET", "/repos/o/n/pulls/12").key("GET"), "GET /repos/{owner}/{name}/pulls/{number}");
        assert_eq!(
            Route::parse("GET", "/repositories/5/actions/runs").key("GET"),
            "GET /repositories/{id}/actions/runs"
        );
        assert_eq!(
            Route::parse("GET", "/repositories/5/commits"),
            Route::Deep { repo: RepoRef::Id("5".into()), part: Part::Commits }
        );
        assert_eq!(Route::parse("GET", "/repos/o/n/contributors").resource(), Resource::Core);
        assert_eq!(Route::parse("GET", "/repos/o/n/actions"), Route::NotFound);
        assert_eq!(Route::parse("GET", "/repos/o/n/pulls/"), Route::NotFound);
        assert_eq!(Route::parse("POST", "/repos/o/n/issues"), Route::NotFound);
        assert_eq!(Route::parse("GET", "/repositories/7"), Route::RepoById("7".into()));
        assert_eq!(Route::parse("GET", "/repositories/7").key("GET"), "GET /repositories/{id}");
        let compare = Route::parse("GET", "/repos/o/n/compare/abc1234...main");
        assert_eq!(
            compare,
            Route::Deep { repo: RepoRef::Name("o".into(), "n".into()), part: Part::Compare("abc1234...main".into()) }
        );
        assert_eq!(compare.key("GET"), "GET /repos/{owner}/{name}/compare/{basehead}");
        assert_eq!(compare.resource(), Resource::Core);
        assert_eq!(
            Route::parse("GET", "/repositories/5/compare/main...feature/x"),
            Route::Deep { repo: RepoRef::Id("5".into()), part: Part::Compare("main...feature/x".into()) }
        );
        assert_eq!(Route::parse("POST", "/_fakehub/advance"), Route::Control(Control::Advance));
        assert_eq!(Route::parse("POST", "/_fakehub/truth"), Route::Control(Control::Truth));
        assert_eq!(Route::parse("GET", "/_fakehub/advance"), Route::NotFound);
        assert_eq!(Route::parse("GET", "/_fakehub/stats"), Route::Control(Control::Stats));
        assert_eq!(Route::parse("GET", "/users/octo"), Route::User("octo".into()));
        assert_eq!(Route::parse("GET", "/users/octo").key("GET"), "GET /users/{username}");
        assert_eq!(Route::parse("GET", "/users/octo/orgs").key("GET"), "GET /users/{username}/orgs");
        let comments = Route::parse("GET", "/repos/o/n/issues/3/comments");
        assert_eq!(comments.key("GET"), "GET /repos/{owner}/{name}/issues/{number}/comments");
        assert_eq!(
            Route::parse("GET", "/repositories/5/pulls/2/reviews"),
            Route::Deep { repo: RepoRef::Id("5".into()), part: Part::Reviews("2".into()) }
        );
        for (path, key) in [
            ("/repos/o/n/issues/1/reactions", "/issues/{number}/reactions"),
            ("/repos/o/n/pulls/1/comments", "/pulls/{number}/comments"),
            ("/repos/o/n/pulls/1/commits", "/pulls/{number}/commits"),
            ("/repos/o/n/pulls/1/requested_reviewers", "/pulls/{number}/requested_reviewers"),
        ] {
            assert_eq!(Route::parse("GET", path).key("GET"), format!("GET /repos/{{owner}}/{{name}}{key}"));
        }
        assert_eq!(Route::parse("GET", "/repos/o/n/issues/1"), Route::NotFound);
    }
}
