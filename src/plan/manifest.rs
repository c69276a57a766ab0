//! Shard manifests and the plan file: the versioned, strict YAML that passes work from `plan` to
//! `crawl` (DESIGN.md §3). Unknown fields and newer versions are refused with the file's name, so
//! a typo never silently changes what a crawl does.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The manifest format this build reads and writes.
pub const MANIFEST_VERSION: u32 = 1;

/// One shard's work: the unit a matrix job crawls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Format version; see [`MANIFEST_VERSION`].
    pub version: u32,
    /// Ties every shard file of one plan together; merge refuses shards of other plans.
    pub plan_id: String,
    /// Which shard of the plan this is.
    pub shard: ShardId,
    /// The source spec the plan was made from (for the record).
    pub source: String,
    /// What to collect for each repository.
    pub collect: Vec<Collect>,
    /// Work items, processed in order.
    pub work: Vec<WorkItem>,
    /// Budget hints for the crawl.
    pub budget: Budget,
    /// Where code archives go, with `collect: [archive]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveSpec>,
}

/// Where a crawl stores code archives and how large one may be.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchiveSpec {
    /// A folder, `file:///path` or `s3://bucket/prefix`.
    pub to: String,
    /// Archives larger than this are skipped and recorded with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
}

impl ArchiveSpec {
    /// Checks that archives are collected exactly when there is somewhere to put them.
    pub fn check(spec: Option<&ArchiveSpec>, collect: &[Collect]) -> Result<(), String> {
        match (spec, collect.contains(&Collect::Archive)) {
            (None, true) => {
                Err("collect `archive` needs a target: --archive-to DIR, file:///path or s3://bucket/prefix".into())
            }
            (Some(_), false) => Err("--archive-to is set but `archive` is not collected; add it to --collect".into()),
            (Some(spec), true) => {
                crate::archive::ArchiveTarget::parse(&spec.to).map_err(|reason| format!("--archive-to {reason}"))?;
                if spec.max_bytes == Some(0) {
                    return Err("--archive-max-bytes must be above 0".into());
                }
                Ok(())
            }
            (None, false) => Ok(()),
        }
    }
}

/// The position of a shard in its plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardId {
    /// Zero-based index.
    pub index: u32,
    /// Number of shards in the plan.
    pub count: u32,
    /// File-safe name (`shard-0003`), used for files and artifact names.
    pub name: String,
}

/// One piece of work; `kind` tags the variant in YAML.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum WorkItem {
    /// Every public repository with `from <= id < to`, via `GET /repositories?since=`.
    IdRange {
        /// First id (inclusive).
        from: u64,
        /// End id (exclusive).
        to: u64,
        /// Set on a refresh's discovery listing (ids above the previous highest): the refresh's
        /// day, so merge logs what it found in `repository_discovery_log`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        discover: Option<String>,
    },
    /// Every result of one search slice (at most 1,000 results: the search API's cap).
    Search {
        /// The full query, qualifiers included (`stars:>100 created:2020-01-01T00:00:00Z..2020-03-31T23:59:59Z`).
        query: String,
        /// `stars`, `forks` or `updated`; absent: best match.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sort: Option<String>,
        /// Stop after this many results (trending takes the top 1,000).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<u32>,
    },
    /// The public repositories a user or organization owns.
    OwnerRepos {
        /// The login.
        login: String,
        /// `user` or `org`.
        owner: OwnerKind,
    },
    /// The repositories a user starred.
    Starred {
        /// The user's login.
        login: String,
    },
    /// Named repositories (`owner/name`), looked up by GraphQL with their detail.
    RepoNames {
        /// The names.
        names: Vec<String>,
    },
    /// Known repositories (`[id, node id]`, from an earlier database), looked up 100 per
    /// GraphQL `nodes(ids:)` query.
    RepoNodes {
        /// The repositories.
        repos: Vec<(u64, String)>,
    },
    /// Known repositories (`[id, node id]`, from the database a refresh starts from), checked
    /// by GraphQL for the signals of a change; only the changed ones are collected.
    Refresh {
        /// The refresh's day (`YYYY-MM-DD`): the key of its `daily_repository_changes` rows.
        date: String,
        /// The repositories.
        repos: Vec<(u64, String)>,
    },
}

/// Whose repositories an `owner_repos` item lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerKind {
    /// `GET /users/{login}/repos?type=owner`.
    User,
    /// `GET /orgs/{login}/repos?type=all`.
    Org,
}

impl WorkItem {
    /// The `kind` tag, as stored in `work_items.kind`.
    pub fn kind(&self) -> &'static str {
        match self {
            WorkItem::IdRange { .. } => "id_range",
            WorkItem::Search { .. } => "search",
            WorkItem::OwnerRepos { .. } => "owner_repos",
            WorkItem::Starred { .. } => "starred",
            WorkItem::RepoNames { .. } => "repo_names",
            WorkItem::RepoNodes { .. } => "repo_nodes",
            WorkItem::Refresh { .. } => "refresh",
        }
    }
}

impl fmt::Display for WorkItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkItem::IdRange { from, to, discover: None } => write!(f, "id_range {from}..{to}"),
            WorkItem::IdRange { from, to, discover: Some(date) } => write!(f, "discovery {from}..{to} of {date}"),
            WorkItem::Search { query, .. } => write!(f, "search `{query}`"),
            WorkItem::OwnerRepos { login, owner: OwnerKind::User } => write!(f, "repositories of user {login}"),
            WorkItem::OwnerRepos { login, owner: OwnerKind::Org } => write!(f, "repositories of org {login}"),
            WorkItem::Starred { login } => write!(f, "stars of {login}"),
            WorkItem::RepoNames { names } => write!(f, "{} named repositories", names.len()),
            WorkItem::RepoNodes { repos } => write!(f, "{} repositories by node id", repos.len()),
            WorkItem::Refresh { date, repos } => write!(f, "check of {} repositories on {date}", repos.len()),
        }
    }
}

/// What a crawl collects for each repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collect {
    /// Repository metadata.
    Metadata,
    /// Pull requests.
    Pulls,
    /// Issues.
    Issues,
    /// GitHub Actions workflow runs.
    Runs,
    /// Contributors.
    Contributors,
    /// Commit activity.
    Commits,
    /// The default branch's files at its head commit: count and size (`repository_snapshots`).
    Snapshot,
    /// The default branch's tarball at its head commit, in cold storage (`archives`).
    Archive,
    /// With a refresh: the files changed between the previous and the new head of each pushed
    /// repository (one REST compare request each).
    Files,
}

impl Collect {
    /// The kinds this build collects; the others are refused by name (never accepted and
    /// ignored). Without `metadata` a crawl stores the listing fields only (id, node id, name,
    /// owner, description, fork): no GraphQL detail.
    pub const AVAILABLE: &'static [Collect] = &[
        Collect::Metadata,
        Collect::Pulls,
        Collect::Issues,
        Collect::Runs,
        Collect::Contributors,
        Collect::Commits,
        Collect::Files,
        Collect::Snapshot,
        Collect::Archive,
    ];

    /// The name used in flags and manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            Collect::Metadata => "metadata",
            Collect::Pulls => "pulls",
            Collect::Issues => "issues",
            Collect::Runs => "runs",
            Collect::Contributors => "contributors",
            Collect::Commits => "commits",
            Collect::Snapshot => "snapshot",
            Collect::Files => "files",
            Collect::Archive => "archive",
        }
    }

    /// Refuses a list that is empty or names a kind this build does not collect.
    pub fn check_available(list: &[Collect]) -> Result<(), String> {
        if list.is_empty() {
            return Err("collect is empty; use at least metadata".to_string());
        }
        match list.iter().find(|kind| !Collect::AVAILABLE.contains(kind)) {
            Some(kind) => Err(format!(
                "collect `{}` is not available in this version of octoshard (it collects: {})",
                kind.as_str(),
                Collect::AVAILABLE.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
            )),
            None => Ok(()),
        }
    }
}

/// Budget hints carried by a manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// The credential's hourly request budget the plan assumed.
    pub requests_per_hour: u32,
    /// Stop and record leftovers after this long (`5h30m`); absent means no deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
}

/// A manifest that could not be read or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("cannot read manifest {path}: {source}")]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid manifest.
    #[error("invalid manifest {path}: {reason}")]
    Invalid {
        /// The manifest path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl Manifest {
    /// Reads and validates a manifest file.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ManifestError::Read { path: path.to_path_buf(), source })?;
        Manifest::parse(&text).map_err(|reason| ManifestError::Invalid { path: path.to_path_buf(), reason })
    }

    /// Parses and validates manifest YAML; the error says what is wrong (and where, for YAML errors).
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let version = serde_yaml::from_str::<serde_yaml::Value>(text)
            .map_err(|e| e.to_string())?
            .get("version")
            .and_then(serde_yaml::Value::as_u64);
        match version {
            Some(v) if v == u64::from(MANIFEST_VERSION) => {}
            Some(v) => {
                return Err(format!("version {v} is not supported (this octoshard reads version {MANIFEST_VERSION})"));
            }
            None => return Err("missing `version` (expected `version: 1`)".to_string()),
        }
        let manifest: Manifest = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Checks the invariants serde cannot express.
    pub fn validate(&self) -> Result<(), String> {
        check_name("plan_id", &self.plan_id)?;
        check_name("shard.name", &self.shard.name)?;
        if self.shard.count == 0 || self.shard.index >= self.shard.count {
            return Err(format!("shard.index {} must be below shard.count {}", self.shard.index, self.shard.count));
        }
        Collect::check_available(&self.collect)?;
        ArchiveSpec::check(self.archive.as_ref(), &self.collect)?;
        if self.work.is_empty() {
            return Err("`work` is empty".to_string());
        }
        for item in &self.work {
            item.validate()?;
        }
        if let Some(deadline) = &self.budget.deadline {
            crate::time::parse_duration(deadline).map_err(|e| format!("budget.deadline: {e}"))?;
        }
        Ok(())
    }

    /// The manifest as YAML (deterministic: the same manifest always gives the same bytes).
    pub fn to_yaml(&self) -> String {
        serde_yaml::to_string(self).expect("a manifest always serializes")
    }
}

impl WorkItem {
    /// Checks what serde cannot: non-empty ranges, queries, logins and names.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            WorkItem::IdRange { from, to, .. } if from >= to => {
                Err(format!("work item {self} is empty ({from} must be below {to})"))
            }
            WorkItem::Search { query, .. } if query.trim().is_empty() => {
                Err("a search work item has an empty query".into())
            }
            WorkItem::Search { sort: Some(sort), .. } if !matches!(sort.as_str(), "stars" | "forks" | "updated") => {
                Err(format!("search sort `{sort}` is not one of stars, forks, updated"))
            }
            WorkItem::OwnerRepos { login, .. } | WorkItem::Starred { login } if !is_login(login) => {
                Err(format!("`{login}` is not a GitHub login"))
            }
            WorkItem::RepoNames { names } if names.is_empty() => Err("a repo_names work item lists no names".into()),
            WorkItem::RepoNodes { repos } if repos.is_empty() => {
                Err("a repo_nodes work item lists no repositories".into())
            }
            WorkItem::Refresh { repos, .. } if repos.is_empty() => {
                Err("a refresh work item lists no repositories".into())
            }
            WorkItem::IdRange { discover: Some(date), .. } | WorkItem::Refresh { date, .. }
                if crate::time::check_date(date).is_err() =>
            {
                Err(format!("`{date}` is not a YYYY-MM-DD date"))
            }
            WorkItem::RepoNodes { repos } | WorkItem::Refresh { repos, .. } => {
                match repos.iter().find(|(_, node)| !is_node_id(node)) {
                    Some((id, node)) => Err(format!("repository {id} has node id `{node}`, which is not a GraphQL id")),
                    None => Ok(()),
                }
            }
            WorkItem::RepoNames { names } => match names.iter().find(|n| !is_full_name(n)) {
                Some(bad) => Err(format!("`{bad}` is not an owner/name repository name")),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// A GraphQL node id as GitHub writes them: letters, digits, `_`, `-`, `=` (base64 forms).
pub fn is_node_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= 100 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-=+/".contains(&b))
}

/// A GitHub login: 1-39 letters, digits and hyphens.
pub fn is_login(text: &str) -> bool {
    !text.is_empty() && text.len() <= 39 && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// `owner/name` with a valid login and a repository name of letters, digits, `.`, `-`, `_`.
pub fn is_full_name(text: &str) -> bool {
    let Some((owner, name)) = text.split_once('/') else { return false };
    is_login(owner)
        && !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Names end up in file and artifact names, so they are restricted to a safe alphabet.
pub fn check_name(field: &str, name: &str) -> Result<(), String> {
    let safe = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if safe {
        Ok(())
    } else {
        Err(format!("{field} `{name}` must be 1-100 characters of A-Z a-z 0-9 . _ - (not starting with .)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "version: 1
plan_id: 2026-11-23T06-00-00Z-ids
shard: { index: 3, count: 64, name: shard-0003 }
source: \"ids:0..1200000000\"
collect: [metadata]
work:
  - { kind: id_range, from: 56250000, to: 75000000 }
budget: { requests_per_hour: 5000, deadline: 5h30m }
";

    #[test]
    fn the_design_example_parses_and_round_trips() {
        let manifest = Manifest::parse(GOOD).unwrap();
        assert_eq!(manifest.shard.name, "shard-0003");
        assert_eq!(manifest.work, vec![WorkItem::IdRange { from: 56_250_000, to: 75_000_000, discover: None }]);
        assert_eq!(Manifest::parse(&manifest.to_yaml()).unwrap(), manifest);
    }

    #[test]
    fn bad_manifests_say_why() {
        for (change, expected) in [
            (("budget: {", "extra: 1\nbudget: {"), "unknown field `extra`"),
            (("version: 1", "version: 2"), "version 2 is not supported"),
            (("version: 1", "revision: 1"), "missing `version`"),
            (("kind: id_range", "kind: id_rnge"), "unknown variant `id_rnge`"),
            (("to: 75000000", "to: 75000000, step: 3"), "unknown field `step`"),
            (("from: 56250000", "from: 80000000"), "is empty"),
            (("index: 3", "index: 64"), "must be below shard.count"),
            (("name: shard-0003", "name: ../etc"), "shard.name `../etc`"),
            (("collect: [metadata]", "collect: [everything]"), "unknown variant `everything`"),
            (("deadline: 5h30m", "deadline: soon"), "budget.deadline"),
        ] {
            let text = GOOD.replace(change.0, change.1);
            let error = Manifest::parse(&text).unwrap_err();
            assert!(error.contains(expected), "{change:?}: {error}");
        }
    }

    #[test]
    fn load_names_the_file() {
        let error = Manifest::load(Path::new("/nonexistent/shard-0001.yaml")).unwrap_err();
        assert!(error.to_string().contains("/nonexistent/shard-0001.yaml"), "{error}");
    }
}
