//! Source specs: the `--source` strings that say which repositories a plan covers.
//!
//! Parsing is strict and total: every malformed spec gets an error that names the spec and says
//! what was expected, never a silent fallback.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Where a plan's repositories come from (the `--source` contract of DESIGN.md §2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Every public repository with `from <= id < to` (`to` absent: up to the newest repository).
    Ids { from: u64, to: Option<u64> },
    /// Every result of a repository search query.
    Search(String),
    /// The repositories a user has starred.
    Starred(String),
    /// The repositories a user owns.
    User(String),
    /// The repositories an organization owns.
    Org(String),
    /// A file with one `owner/name` per line.
    Repos(PathBuf),
    /// Repositories created in the last `days` days, most starred first.
    Trending { days: u32 },
    /// Unfinished work written by `merge`.
    Leftovers(PathBuf),
    /// The repositories of an earlier merged database (filtered by `--where`).
    Db(PathBuf),
    /// A daily refresh of an earlier merged database: its repositories checked for changes (only
    /// the changed ones collected again), and new repositories above its highest id discovered.
    Refresh(PathBuf),
}

/// A `--source` string that could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid source `{spec}`: {reason}")]
pub struct SourceError {
    /// The spec as the user wrote it.
    pub spec: String,
    /// What is wrong with it and what would be right.
    pub reason: String,
}

const KINDS: &str = "ids:A..B, ids:A.., search:QUERY, starred:USER, user:LOGIN, org:LOGIN, repos:FILE, trending[:DAYS], leftovers:DIR, db:FILE, refresh:FILE";

impl Source {
    /// The short kind name, used in plan ids and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Ids { .. } => "ids",
            Source::Search(_) => "search",
            Source::Starred(_) => "starred",
            Source::User(_) => "user",
            Source::Org(_) => "org",
            Source::Repos(_) => "repos",
            Source::Trending { .. } => "trending",
            Source::Leftovers(_) => "leftovers",
            Source::Db(_) => "db",
            Source::Refresh(_) => "refresh",
        }
    }
}

impl FromStr for Source {
    type Err = SourceError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let fail = |reason: String| SourceError { spec: spec.to_string(), reason };
        let (kind, rest) = match spec.split_once(':') {
            Some((kind, rest)) => (kind, Some(rest)),
            None => (spec, None),
        };
        let required = |what: &str| -> Result<String, SourceError> {
            match rest.map(str::trim) {
                Some(value) if !value.is_empty() => Ok(value.to_string()),
                _ => Err(fail(format!("`{kind}:` needs {what}"))),
            }
        };
        match kind {
            "ids" => parse_ids(&required("an id range such as 0..1000000")?).map_err(fail),
            "search" => Ok(Source::Search(required("a search query")?)),
            "starred" => Ok(Source::Starred(login(&required("a user login")?).map_err(fail)?)),
            "user" => Ok(Source::User(login(&required("a user login")?).map_err(fail)?)),
            "org" => Ok(Source::Org(login(&required("an organization login")?).map_err(fail)?)),
            "repos" => Ok(Source::Repos(PathBuf::from(required("a file path")?))),
            "leftovers" => Ok(Source::Leftovers(PathBuf::from(required("a folder path")?))),
            "db" => Ok(Source::Db(PathBuf::from(required("a database file")?))),
            "refresh" => Ok(Source::Refresh(PathBuf::from(required("the database to refresh")?))),
            "trending" => match rest {
                None => Ok(Source::Trending { days: 7 }),
                Some(days) => match days.trim().parse::<u32>() {
                    Ok(days) if (1..=366).contains(&days) => Ok(Source::Trending { days }),
                    _ => Err(fail(format!("`{days}` is not a number of days between 1 and 366"))),
                },
            },
            _ => Err(fail(format!("unknown source kind `{kind}`; expected one of {KINDS}"))),
        }
    }
}

fn parse_ids(range: &str) -> Result<Source, String> {
    let Some((from, to)) = range.split_once("..") else {
        return Err(format!("`{range}` is not a range; write A..B (A <= id < B) or A.."));
    };
    let number = |text: &str| {
        text.trim().replace('_', "").parse::<u64>().map_err(|_| format!("`{text}` is not a repository id"))
    };
    let from = number(from)?;
    if to.trim().is_empty() {
        return Ok(Source::Ids { from, to: None });
    }
    let to = number(to)?;
    if to <= from {
        return Err(format!("the range is empty: {from}..{to} needs {from} < {to}"));
    }
    Ok(Source::Ids { from, to: Some(to) })
}

fn login(text: &str) -> Result<String, String> {
    let valid = text.len() <= 39 && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid { Ok(text.to_string()) } else { Err(format!("`{text}` is not a GitHub login")) }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Ids { from, to: Some(to) } => write!(f, "ids:{from}..{to}"),
            Source::Ids { from, to: None } => write!(f, "ids:{from}.."),
            Source::Search(query) => write!(f, "search:{query}"),
            Source::Starred(user) => write!(f, "starred:{user}"),
            Source::User(login) => write!(f, "user:{login}"),
            Source::Org(login) => write!(f, "org:{login}"),
            Source::Repos(path) => write!(f, "repos:{}", path.display()),
            Source::Trending { days } => write!(f, "trending:{days}"),
            Source::Leftovers(path) => write!(f, "leftovers:{}", path.display()),
            Source::Db(path) => write!(f, "db:{}", path.display()),
            Source::Refresh(path) => write!(f, "refresh:{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_specs_parse_and_print_back() {
        for (spec, expected) in [
            ("ids:0..100", Source::Ids { from: 0, to: Some(100) }),
            ("ids:1_000..2_000", Source::Ids { from: 1000, to: Some(2000) }),
            ("ids:5..", Source::Ids { from: 5, to: None }),
            ("search:stars:>100 language:rust", Source::Search("stars:>100 language:rust".into())),
            ("starred:octocat", Source::Starred("octocat".into())),
            ("org:rust-lang", Source::Org("rust-lang".into())),
            ("trending", Source::Trending { days: 7 }),
            ("trending:30", Source::Trending { days: 30 }),
            ("refresh:merged.sqlite", Source::Refresh("merged.sqlite".into())),
        ] {
            let parsed: Source = spec.parse().unwrap();
            assert_eq!(parsed, expected, "{spec}");
            let again: Source = parsed.to_string().parse().unwrap();
            assert_eq!(again, parsed, "{spec} round trip");
        }
    }

    #[test]
    fn bad_specs_name_the_spec_and_the_reason() {
        for (spec, reason) in [
            ("nonsense", "unknown source kind `nonsense`"),
            ("ids:9..3", "the range is empty"),
            ("ids:3..3", "the range is empty"),
            ("ids:abc..5", "`abc` is not a repository id"),
            ("ids:", "needs an id range"),
            ("ids:100", "is not a range"),
            ("search:", "needs a search query"),
            ("user:no/slash", "is not a GitHub login"),
            ("trending:0", "between 1 and 366"),
            ("trending:x", "`x` is not a number"),
        ] {
            let error = spec.parse::<Source>().unwrap_err();
            assert_eq!(error.spec, spec);
            let message = error.to_string();
            assert!(message.contains(reason), "{spec}: {message}");
            assert!(message.contains(spec), "{spec}: {message}");
        }
    }
}
