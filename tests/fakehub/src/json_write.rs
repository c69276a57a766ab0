//! Fast path for pages of listed repositories (search results, owner and
//! starred listings): the same objects as [`crate::json::listed_repo`] written
//! straight into a byte buffer, without building `serde_json::Value`s (a page
//! of 100 is about 500 KB; building values for it took milliseconds). The test
//! below checks the output parses to exactly `listed_repo`'s value.

use crate::ids;
use crate::json::{REPO_URLS, USER_URLS};
use crate::universe::{License, OwnerType, Repo};
use std::fmt::Write as _;

/// A JSON object being written.
struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

fn escape(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escaped = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escaped);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut String) -> Obj<'a> {
        out.push('{');
        Obj { out, first: true }
    }

    fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        escape(self.out, key);
        self.out.push(':');
        self.out
    }

    fn str(&mut self, key: &str, value: &str) {
        let out = self.key(key);
        escape(out, value);
    }

    fn opt_str(&mut self, key: &str, value: Option<&str>) {
        match value {
            Some(v) => self.str(key, v),
            None => self.raw(key, "null"),
        }
    }

    /// `prefix` and `suffix` concatenated, as a string.
    fn join(&mut self, key: &str, prefix: &str, suffix: &str) {
        let out = self.key(key);
        out.push('"');
        let at = out.len();
        out.push_str(prefix);
        out.push_str(suffix);
        if out[at..].bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            out.truncate(at - 1);
            escape(out, &[prefix, suffix].concat());
        } else {
            out.push('"');
        }
    }

    fn raw(&mut self, key: &str, json: &str) {
        self.key(key).push_str(json);
    }

    fn num(&mut self, key: &str, n: impl std::fmt::Display) {
        let out = self.key(key);
        let _ = write!(out, "{n}");
    }

    fn bool(&mut self, key: &str, b: bool) {
        self.raw(key, if b { "true" } else { "false" });
    }

    fn close(self) {
        self.out.push('}');
    }
}

fn simple_user(out: &mut String, base: &str, login: &str, id: u64, owner_type: OwnerType) {
    let mut o = Obj::open(out);
    o.str("login", login);
    o.num("id", id);
    let node_id = match owner_type {
        OwnerType::User => ids::user_node_id(id),
        OwnerType::Organization => ids::org_node_id(id),
    };
    o.str("node_id", &node_id);
    o.str("avatar_url", &format!("https://avatars.githubusercontent.com/u/{id}?v=4"));
    o.str("gravatar_id", "");
    let api = format!("{base}/users/{login}");
    o.str("url", &api);
    o.join("html_url", "https://github.com/", login);
    for (key, suffix) in USER_URLS {
        o.join(key, &api, suffix);
    }
    o.str("type", owner_type.as_str());
    o.str("user_view_type", "public");
    o.bool("site_admin", false);
    o.close();
}

fn license(out: &mut String, base: &str, l: &License) {
    let mut o = Obj::open(out);
    o.str("key", l.key);
    o.str("name", l.name);
    o.str("spdx_id", l.spdx_id);
    if l.github_id == 0 {
        o.raw("url", "null");
    } else {
        o.str("url", &format!("{base}/licenses/{}", l.key));
    }
    o.str("node_id", &ids::license_node_id(l.github_id));
    o.close();
}

/// Append `json::listed_repo(base, r)` (plus `"score": 1.0` when `score`) as JSON.
pub(crate) fn listed_repo(out: &mut String, base: &str, r: &Repo, score: bool) {
    let full = r.full_name.as_str();
    let mut o = Obj::open(out);
    o.num("id", r.id);
    o.str("node_id", &r.node_id);
    o.str("name", r.name());
    o.str("full_name", full);
    o.bool("private", false);
    simple_user(o.key("owner"), base, r.owner_login(), r.owner_id, r.owner_type);
    o.join("html_url", "https://github.com/", full);
    o.opt_str("description", r.description.as_deref());
    o.bool("fork", r.fork);
    let api = format!("{base}/repos/{full}");
    o.str("url", &api);
    for (key, suffix) in REPO_URLS {
        o.join(key, &api, suffix);
    }
    o.str("created_at", &r.created_at.to_string());
    o.str("updated_at", &r.updated_at.to_string());
    o.str("pushed_at", &r.pushed_at.to_string());
    o.str("git_url", &format!("git://github.com/{full}.git"));
    o.str("ssh_url", &format!("git@github.com:{full}.git"));
    o.str("clone_url", &format!("https://github.com/{full}.git"));
    o.join("svn_url", "https://github.com/", full);
    o.raw("homepage", "null");
    o.num("size", r.size);
    o.num("stargazers_count", r.stargazers_count);
    o.num("watchers_count", r.watchers_count);
    o.opt_str("language", r.language);
    o.bool("has_issues", r.has_issues);
    o.bool("has_projects", r.has_projects);
    o.bool("has_downloads", r.has_downloads);
    o.bool("has_wiki", r.has_wiki);
    o.bool("has_pages", r.has_pages);
    o.bool("has_discussions", r.has_discussions);
    o.num("forks_count", r.forks_count);
    o.raw("mirror_url", "null");
    o.bool("archived", r.archived);
    o.bool("disabled", r.disabled);
    o.num("open_issues_count", r.open_issues_count);
    match r.license {
        Some(l) => license(o.key("license"), base, l),
        None => o.raw("license", "null"),
    }
    o.bool("allow_forking", true);
    o.bool("is_template", r.is_template);
    o.bool("web_commit_signoff_required", false);
    let topics = o.key("topics");
    topics.push('[');
    for (i, t) in r.topics.iter().enumerate() {
        if i > 0 {
            topics.push(',');
        }
        escape(topics, t);
    }
    topics.push(']');
    o.str("visibility", "public");
    o.num("forks", r.forks_count);
    o.num("open_issues", r.open_issues_count);
    o.num("watchers", r.watchers_count);
    o.str("default_branch", r.default_branch);
    if score {
        o.raw("score", "1.0");
    }
    o.close();
}

/// `[item, item, ...]` of `render`ed items.
pub(crate) fn array<T>(out: &mut String, items: &[T], mut render: impl FnMut(&mut String, &T)) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        render(out, item);
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json;
    use crate::universe::{Universe, UniverseConfig};
    use serde_json::Value;

    #[test]
    fn same_as_the_value_builder() {
        let u = Universe::generate(&UniverseConfig::new(3000, 5));
        let base = "http://127.0.0.1:9";
        for r in u.repos() {
            let mut out = String::new();
            listed_repo(&mut out, base, r, false);
            let parsed: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
            assert_eq!(parsed, json::listed_repo(base, r), "{}", r.full_name);
        }
        let mut out = String::new();
        listed_repo(&mut out, base, &u.repos()[0], true);
        let parsed: Value = serde_json::from_str(&out).unwrap_or_default();
        assert_eq!(parsed["score"], serde_json::json!(1.0));
        let mut odd = String::new();
        escape(&mut odd, "a\"b\\c\nd\u{1}é🚀");
        assert_eq!(serde_json::from_str::<String>(&odd).ok().as_deref(), Some("a\"b\\c\nd\u{1}é🚀"));
    }
}
