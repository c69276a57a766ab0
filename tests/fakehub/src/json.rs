//! REST JSON shapes, field for field as GitHub's REST docs show them: the
//! simple user, the license, the "minimal repository" of `/repositories` (no
//! counts, language or dates), the full repository of `/repos/{o}/{n}` and the
//! listed repository of search results and owner/starred listings (the full one
//! without `organization`, `network_count`, `subscribers_count`).
//! API `url` fields point at the fake's own base URL; `html_url` and the clone
//! URLs point at github.com as on the real API.

use crate::ids;
use crate::universe::{License, OwnerType, Repo};
use serde_json::{Map, Value};

/// Repository URL templates, appended to `{base}/repos/{full_name}`.
pub(crate) const REPO_URLS: &[(&str, &str)] = &[
    ("forks_url", "/forks"),
    ("keys_url", "/keys{/key_id}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("teams_url", "/teams"),
    ("hooks_url", "/hooks"),
    ("issue_events_url", "/issues/events{/number}"),
    ("events_url", "/events"),
    ("assignees_url", "/assignees{/user}"),
    ("branches_url", "/branches{/branch}"),
    ("tags_url", "/tags"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("trees_url", "/git/trees{/sha}"),
    ("statuses_url", "/statuses/{sha}"),
    ("languages_url", "/languages"),
    ("stargazers_url", "/stargazers"),
    ("contributors_url", "/contributors"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("commits_url", "/commits{/sha}"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("comments_url", "/comments{/number}"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("contents_url", "/contents/{+path}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("merges_url", "/merges"),
    ("archive_url", "/{archive_format}{/ref}"),
    ("downloads_url", "/downloads"),
    ("issues_url", "/issues{/number}"),
    ("pulls_url", "/pulls{/number}"),
    ("milestones_url", "/milestones{/number}"),
    ("notifications_url", "/notifications{?since,all,participating}"),
    ("labels_url", "/labels{/name}"),
    ("releases_url", "/releases{/id}"),
    ("deployments_url", "/deployments"),
];

/// User URL templates, appended to `{base}/users/{login}`.
pub(crate) const USER_URLS: &[(&str, &str)] = &[
    ("followers_url", "/followers"),
    ("following_url", "/following{/other_user}"),
    ("gists_url", "/gists{/gist_id}"),
    ("starred_url", "/starred{/owner}{/repo}"),
    ("subscriptions_url", "/subscriptions"),
    ("organizations_url", "/orgs"),
    ("repos_url", "/repos"),
    ("events_url", "/events{/privacy}"),
    ("received_events_url", "/received_events"),
];

fn s(v: impl Into<String>) -> Value {
    Value::String(v.into())
}

fn opt_str(v: Option<&str>) -> Value {
    v.map_or(Value::Null, s)
}

/// The "simple user" object (owner of a repository).
pub(crate) fn simple_user(base: &str, login: &str, id: u64, owner_type: OwnerType) -> Value {
    let mut m = Map::new();
    m.insert("login".into(), s(login));
    m.insert("id".into(), id.into());
    let node_id = match owner_type {
        OwnerType::User => ids::user_node_id(id),
        OwnerType::Organization => ids::org_node_id(id),
    };
    m.insert("node_id".into(), s(node_id));
    m.insert("avatar_url".into(), s(format!("https://avatars.githubusercontent.com/u/{id}?v=4")));
    m.insert("gravatar_id".into(), s(""));
    let api = format!("{base}/users/{login}");
    m.insert("url".into(), s(api.clone()));
    m.insert("html_url".into(), s(format!("https://github.com/{login}")));
    for (key, suffix) in USER_URLS {
        m.insert((*key).into(), s(format!("{api}{suffix}")));
    }
    m.insert("type".into(), s(owner_type.as_str()));
    m.insert("user_view_type".into(), s("public"));
    m.insert("site_admin".into(), false.into());
    Value::Object(m)
}

/// The license object of a repository.
pub(crate) fn license(base: &str, l: &License) -> Value {
    let mut m = Map::new();
    m.insert("key".into(), s(l.key));
    m.insert("name".into(), s(l.name));
    m.insert("spdx_id".into(), s(l.spdx_id));
    if l.github_id == 0 {
        m.insert("url".into(), Value::Null);
        m.insert("node_id".into(), s(ids::license_node_id(0)));
    } else {
        m.insert("url".into(), s(format!("{base}/licenses/{}", l.key)));
        m.insert("node_id".into(), s(ids::license_node_id(l.github_id)));
    }
    Value::Object(m)
}

fn minimal_map(base: &str, r: &Repo) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), r.id.into());
    m.insert("node_id".into(), s(r.node_id.as_str()));
    m.insert("name".into(), s(r.name()));
    m.insert("full_name".into(), s(r.full_name.as_str()));
    m.insert("private".into(), false.into());
    m.insert("owner".into(), simple_user(base, r.owner_login(), r.owner_id, r.owner_type));
    m.insert("html_url".into(), s(format!("https://github.com/{}", r.full_name)));
    m.insert("description".into(), opt_str(r.description.as_deref()));
    m.insert("fork".into(), r.fork.into());
    let api = format!("{base}/repos/{}", r.full_name);
    m.insert("url".into(), s(api.clone()));
    for (key, suffix) in REPO_URLS {
        m.insert((*key).into(), s(format!("{api}{suffix}")));
    }
    m
}

/// A repository as `GET /repositories` lists it.
pub(crate) fn minimal_repo(base: &str, r: &Repo) -> Value {
    Value::Object(minimal_map(base, r))
}

/// A repository as `GET /repos/{owner}/{name}` returns it.
pub(crate) fn full_repo(base: &str, r: &Repo) -> Value {
    let mut m = listed_map(base, r);
    if r.owner_type == OwnerType::Organization {
        let org = simple_user(base, r.owner_login(), r.owner_id, r.owner_type);
        m.insert("organization".into(), org);
    }
    m.insert("network_count".into(), r.network_count.into());
    m.insert("subscribers_count".into(), r.subscribers_count.into());
    Value::Object(m)
}

/// A repository as listings and search results show it: the full repository
/// without `organization`, `network_count` and `subscribers_count` (GitHub
/// sends those only from `GET /repos/{owner}/{name}`). The reference for the
/// fast writer `json_write::listed_repo`, which the listings use (pull
/// requests embed it as `head.repo` and `base.repo`).
pub(crate) fn listed_repo(base: &str, r: &Repo) -> Value {
    Value::Object(listed_map(base, r))
}

fn listed_map(base: &str, r: &Repo) -> Map<String, Value> {
    let mut m = minimal_map(base, r);
    let full = &r.full_name;
    m.insert("created_at".into(), s(r.created_at.to_string()));
    m.insert("updated_at".into(), s(r.updated_at.to_string()));
    m.insert("pushed_at".into(), s(r.pushed_at.to_string()));
    m.insert("git_url".into(), s(format!("git://github.com/{full}.git")));
    m.insert("ssh_url".into(), s(format!("git@github.com:{full}.git")));
    m.insert("clone_url".into(), s(format!("https://github.com/{full}.git")));
    m.insert("svn_url".into(), s(format!("https://github.com/{full}")));
    m.insert("homepage".into(), Value::Null);
    m.insert("size".into(), r.size.into());
    m.insert("stargazers_count".into(), r.stargazers_count.into());
    m.insert("watchers_count".into(), r.watchers_count.into());
    m.insert("language".into(), opt_str(r.language));
    m.insert("has_issues".into(), r.has_issues.into());
    m.insert("has_projects".into(), r.has_projects.into());
    m.insert("has_downloads".into(), r.has_downloads.into());
    m.insert("has_wiki".into(), r.has_wiki.into());
    m.insert("has_pages".into(), r.has_pages.into());
    m.insert("has_discussions".into(), r.has_discussions.into());
    m.insert("forks_count".into(), r.forks_count.into());
    m.insert("mirror_url".into(), Value::Null);
    m.insert("archived".into(), r.archived.into());
    m.insert("disabled".into(), r.disabled.into());
    m.insert("open_issues_count".into(), r.open_issues_count.into());
    m.insert("license".into(), r.license.map_or(Value::Null, |l| license(base, l)));
    m.insert("allow_forking".into(), true.into());
    m.insert("is_template".into(), r.is_template.into());
    m.insert("web_commit_signoff_required".into(), false.into());
    m.insert("topics".into(), Value::Array(r.topics.iter().map(|t| s(*t)).collect()));
    m.insert("visibility".into(), s("public"));
    m.insert("forks".into(), r.forks_count.into());
    m.insert("open_issues".into(), r.open_issues_count.into());
    m.insert("watchers".into(), r.watchers_count.into());
    m.insert("default_branch".into(), s(r.default_branch));
    m
}
