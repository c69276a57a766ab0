//! A repository's deep data, the ground truth behind the issue, pull request,
//! workflow run, contributor and commit endpoints (REST and GraphQL). Plain
//! structs with public fields, so tests can compare a crawl with the truth:
//! `universe.deep(repo_id)` (generated on first use, then cached).
//!
//! What a repository holds (generated per repository from the seed, see
//! `deep_gen.rs`): issues and pull requests sharing one number sequence;
//! 0-3 workflows and their runs; the default branch's commits; contributors
//! counted from the commits' linked authors. Empty repositories (no default
//! branch) have no commits, contributors, runs or pull requests; a repository
//! with issues disabled has no issues. Open issues plus open pull requests
//! equal the repository's `open_issues_count`; the newest commit is dated
//! `pushed_at`. Every timestamp lies between the repository's `created_at` and
//! the universe's now.

use crate::time::Timestamp;

/// The account GitHub shows for deleted users (REST `user`).
pub const GHOST_LOGIN: &str = "ghost";
/// Its id.
pub const GHOST_ID: u64 = 10137;
/// The account committing web edits and merges (`GitHub <noreply@github.com>`).
pub const WEB_FLOW_LOGIN: &str = "web-flow";
/// Its id.
pub const WEB_FLOW_ID: u64 = 19_864_447;

/// A GitHub user account (login and database id).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Account {
    pub login: String,
    pub id: u64,
}

/// Open or closed (a merged pull request is closed with `merged_at`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Open,
    Closed,
}

impl State {
    /// `open` / `closed` (REST).
    pub fn rest(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Closed => "closed",
        }
    }
}

/// An issue's `state_reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StateReason {
    Completed,
    NotPlanned,
    Reopened,
}

impl StateReason {
    /// `completed` / `not_planned` / `reopened` (REST).
    pub fn rest(self) -> &'static str {
        match self {
            StateReason::Completed => "completed",
            StateReason::NotPlanned => "not_planned",
            StateReason::Reopened => "reopened",
        }
    }

    /// `COMPLETED` / `NOT_PLANNED` / `REOPENED` (GraphQL).
    pub fn graphql(self) -> &'static str {
        match self {
            StateReason::Completed => "COMPLETED",
            StateReason::NotPlanned => "NOT_PLANNED",
            StateReason::Reopened => "REOPENED",
        }
    }
}

/// An issue (pull requests are in [`Pull`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    /// Database id, unique in the universe.
    pub id: u64,
    pub number: u32,
    pub title: String,
    pub state: State,
    pub state_reason: Option<StateReason>,
    /// `None`: a deleted account (REST `ghost`, GraphQL `null`).
    pub author: Option<Account>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    /// Names from the repository's label set.
    pub labels: Vec<&'static str>,
    /// Number of comments.
    pub comments: u32,
}

/// A pull request.
#[derive(Clone, Debug, PartialEq)]
pub struct Pull {
    /// The pull request's database id (REST `/pulls` `id`, GraphQL `databaseId`).
    pub id: u64,
    /// Its id as an issue (REST `/issues` `id`).
    pub issue_id: u64,
    pub number: u32,
    pub title: String,
    /// Merged ones are `Closed` with `merged_at`.
    pub state: State,
    pub draft: bool,
    pub author: Option<Account>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub closed_at: Option<Timestamp>,
    pub merged_at: Option<Timestamp>,
    /// Set for merged pull requests.
    pub merge_commit_sha: Option<String>,
    /// The default branch.
    pub base_ref: String,
    pub head_ref: String,
    pub head_sha: String,
    /// The repository itself, a fork's id, or `None` for a deleted fork.
    pub head_repo_id: Option<u64>,
    pub labels: Vec<&'static str>,
    pub additions: u32,
    pub deletions: u32,
    pub changed_files: u32,
    pub commits: u32,
    pub comments: u32,
    pub review_count: u32,
}

impl Pull {
    /// Merged (`merged_at` set).
    pub fn merged(&self) -> bool {
        self.merged_at.is_some()
    }

    /// GraphQL's state: `OPEN`, `CLOSED` or `MERGED`.
    pub fn graphql_state(&self) -> &'static str {
        match (self.state, self.merged()) {
            (State::Open, _) => "OPEN",
            (State::Closed, true) => "MERGED",
            (State::Closed, false) => "CLOSED",
        }
    }
}

/// A GitHub Actions workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workflow {
    pub id: u64,
    /// `CI`, `Release`, `Docs`, ...
    pub name: &'static str,
    /// `.github/workflows/ci.yml`
    pub path: String,
}

/// A workflow run's `status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RunStatus {
    Completed,
    InProgress,
    Queued,
}

impl RunStatus {
    pub fn rest(self) -> &'static str {
        match self {
            RunStatus::Completed => "completed",
            RunStatus::InProgress => "in_progress",
            RunStatus::Queued => "queued",
        }
    }
}

/// A completed run's `conclusion`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Conclusion {
    Success,
    Failure,
    Cancelled,
    Skipped,
}

impl Conclusion {
    pub fn rest(self) -> &'static str {
        match self {
            Conclusion::Success => "success",
            Conclusion::Failure => "failure",
            Conclusion::Cancelled => "cancelled",
            Conclusion::Skipped => "skipped",
        }
    }
}

/// A workflow run.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub id: u64,
    pub workflow_id: u64,
    /// The workflow's name.
    pub name: &'static str,
    /// Per workflow, from 1.
    pub run_number: u32,
    /// `push`, `pull_request`, `schedule` or `workflow_dispatch`.
    pub event: &'static str,
    pub status: RunStatus,
    /// `None` unless completed.
    pub conclusion: Option<Conclusion>,
    pub head_sha: String,
    pub head_branch: String,
    pub run_attempt: u32,
    pub actor: Option<Account>,
    pub created_at: Timestamp,
    pub run_started_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Someone with commits on the default branch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contributor {
    pub login: String,
    pub id: u64,
    /// Commits authored.
    pub contributions: u32,
}

/// Git's author or committer of a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitActor {
    pub name: String,
    pub email: String,
    pub date: Timestamp,
}

/// A commit of the default branch.
#[derive(Clone, Debug, PartialEq)]
pub struct Commit {
    /// 40 hex digits.
    pub sha: String,
    /// The full message: headline, then (sometimes) a blank line and a body.
    pub message: String,
    pub author: GitActor,
    pub committer: GitActor,
    /// The GitHub account linked to the author's email (about 80%).
    pub author_account: Option<Account>,
    pub committer_account: Option<Account>,
}

impl Commit {
    /// The first line of the message (GraphQL `messageHeadline`).
    pub fn headline(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }

    /// Everything after the headline's blank line (GraphQL `messageBody`).
    pub fn body(&self) -> &str {
        self.message.split_once("\n\n").map_or("", |(_, body)| body)
    }
}

/// Everything behind a repository's deep endpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct Deep {
    pub repo_id: u64,
    /// Issues enabled (REST `/issues` answers 410 otherwise).
    pub has_issues: bool,
    /// The repository's labels.
    pub labels: Vec<&'static str>,
    /// By number, ascending.
    pub issues: Vec<Issue>,
    /// By number, ascending.
    pub pulls: Vec<Pull>,
    pub workflows: Vec<Workflow>,
    /// Newest first (`created_at` descending, then id descending).
    pub runs: Vec<Run>,
    /// Most contributions first (ties: lower id first).
    pub contributors: Vec<Contributor>,
    /// Newest first; `commits[0]` is the default branch's head.
    pub commits: Vec<Commit>,
}

impl Deep {
    /// No data at all (what the endpoints serve when deep data is switched off).
    pub fn default_for(repo_id: u64) -> Deep {
        Deep {
            repo_id,
            has_issues: true,
            labels: Vec::new(),
            issues: Vec::new(),
            pulls: Vec::new(),
            workflows: Vec::new(),
            runs: Vec::new(),
            contributors: Vec::new(),
            commits: Vec::new(),
        }
    }

    /// Open issues (GraphQL `issues(states: OPEN){totalCount}`).
    pub fn open_issues(&self) -> usize {
        self.issues.iter().filter(|i| i.state == State::Open).count()
    }

    /// Open pull requests.
    pub fn open_pulls(&self) -> usize {
        self.pulls.iter().filter(|p| p.state == State::Open).count()
    }

    /// The default branch's head commit.
    pub fn head(&self) -> Option<&Commit> {
        self.commits.first()
    }

    /// Highest issue or pull request number (0 when there are none).
    pub fn last_number(&self) -> u32 {
        let issue = self.issues.last().map_or(0, |i| i.number);
        let pull = self.pulls.last().map_or(0, |p| p.number);
        issue.max(pull)
    }

    /// An issue by number.
    pub fn issue(&self, number: u32) -> Option<&Issue> {
        self.issues.binary_search_by_key(&number, |i| i.number).ok().map(|i| &self.issues[i])
    }

    /// A pull request by number.
    pub fn pull(&self, number: u32) -> Option<&Pull> {
        self.pulls.binary_search_by_key(&number, |p| p.number).ok().map(|i| &self.pulls[i])
    }

    /// Total number of items (issues, pull requests, runs, commits).
    pub fn item_count(&self) -> usize {
        self.issues.len() + self.pulls.len() + self.runs.len() + self.commits.len()
    }
}

/// Id spaces: every kind gets `BASE + repo_id * PER_REPO + sequence`, which
/// keeps ids unique, deterministic and below 2^53 (safe in JSON).
pub(crate) const PER_REPO: u64 = 100_000;
pub(crate) const ISSUE_ID_BASE: u64 = 10_000_000_000_000;
pub(crate) const PULL_ID_BASE: u64 = 20_000_000_000_000;
pub(crate) const RUN_ID_BASE: u64 = 30_000_000_000_000;
pub(crate) const WORKFLOW_ID_BASE: u64 = 40_000_000_000_000;

/// The issue id of number `number` (pull requests have one too).
pub(crate) fn issue_id(repo_id: u64, number: u32) -> u64 {
    ISSUE_ID_BASE + repo_id * PER_REPO + u64::from(number)
}

/// The pull request id of number `number`.
pub(crate) fn pull_id(repo_id: u64, number: u32) -> u64 {
    PULL_ID_BASE + repo_id * PER_REPO + u64::from(number)
}

/// (repository id, number) of an issue id or a pull request id from `base`.
pub(crate) fn split_id(id: u64, base: u64) -> Option<(u64, u32)> {
    let rest = id.checked_sub(base)?;
    if rest >= ISSUE_ID_BASE {
        return None;
    }
    Some((rest / PER_REPO, (rest % PER_REPO) as u32))
}
