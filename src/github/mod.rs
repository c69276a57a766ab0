//! The GitHub layer: the one HTTP policy every request goes through (DESIGN.md §4).
//!
//! [`GitHub`] owns the HTTP client, the credential, what the response headers said about the
//! budget, the concurrency cap and the retry policy. Nothing else in octoshard builds an HTTP
//! client. Each call returns the response together with [`RequestRecord`]s for every attempt, so
//! the caller commits the accounting in the same transaction as the data it paid for.

pub mod budget;
mod client;
pub mod credentials;
mod download;
pub mod graphql;
pub mod ledger;
pub mod link;
pub mod models;
pub mod ratelimit;
pub mod retry;

use std::fmt;
use std::time::Duration;

pub use budget::BudgetPolicy;
pub use client::{ApiResponse, GitHub, Request, github_message};
pub use credentials::{AppCredential, AppKey, Auth, Credential, Secret};
pub use download::{Download, DownloadError};

/// The public GitHub API, used when `GITHUB_API_URL` is not set.
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// How the client treats the network and the budget. Defaults suit github.com; tests shrink the
/// delays to milliseconds.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Per-request timeout (connect to last body byte).
    pub timeout: Duration,
    /// Retries after a 5xx, timeout or connection error before giving up.
    pub max_retries: u32,
    /// First backoff step; doubled per retry, jittered.
    pub backoff_base: Duration,
    /// No backoff step is longer than this.
    pub backoff_cap: Duration,
    /// Wait after a secondary limit without `retry-after` (GitHub documents one minute).
    pub secondary_wait: Duration,
    /// Requests in flight at once; GitHub's secondary limit allows 100, we stay well below.
    pub max_concurrency: usize,
    /// How the primary budget is spent (reserve, pacing, reset margin).
    pub budget: BudgetPolicy,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            timeout: Duration::from_secs(30),
            max_retries: 6,
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(120),
            secondary_wait: Duration::from_secs(60),
            max_concurrency: 16,
            budget: BudgetPolicy::default(),
        }
    }
}

/// Where and how to reach GitHub.
#[derive(Debug)]
pub struct ClientConfig {
    /// REST base URL (`GITHUB_API_URL`), without a trailing slash.
    pub api_url: String,
    /// GraphQL endpoint (`GITHUB_GRAPHQL_URL`; default `<api_url>/graphql`).
    pub graphql_url: Option<String>,
    /// The credentials to spend (empty: anonymous).
    pub credentials: Vec<Credential>,
    /// Timeouts, retries, concurrency.
    pub policy: Policy,
}

/// What a request was for, recorded with it and used to pick its budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestKind {
    /// `GET /repositories?since=`.
    ListRepositories,
    /// GraphQL `nodes(ids:)` batches of repository detail.
    RepositoryDetail,
    /// GraphQL `repository(owner:, name:)` lookups of named repositories.
    RepositoryLookup,
    /// GraphQL `nodes(ids:)` batches of a refresh's change signals.
    RepositoryCheck,
    /// `GET /repositories/{id}/compare/{base}...{head}`: a refresh's files changed.
    Compare,
    /// `GET /search/repositories` (its own budget: 30 a minute).
    Search,
    /// Page-based listings: `/users/{u}/repos`, `/orgs/{o}/repos`, `/users/{u}/starred`.
    Listing,
    /// `GET /repositories?since=` while planning (density and extent of the id space).
    Probe,
    /// Exchanging a GitHub App JWT for an installation token (free).
    AppToken,
    /// GraphQL queries of deep collection (pull requests, issues, commits of many repositories).
    DeepQuery,
    /// REST pages of deep collection (workflow runs, contributors).
    DeepPage,
    /// `GET /repos/{owner}/{name}/git/trees/{sha}?recursive=1`: a snapshot's files.
    GitTree,
    /// `GET /repos/{owner}/{name}/tarball/{sha}`: the redirect to a code archive.
    Tarball,
    /// The archive itself, from GitHub's download host (no credential, no budget).
    ArchiveDownload,
    /// Anything else on the core budget.
    Other,
}

impl RequestKind {
    /// The name stored in `api_requests.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::ListRepositories => "list_repositories",
            RequestKind::RepositoryDetail => "repository_detail",
            RequestKind::RepositoryCheck => "repository_check",
            RequestKind::Compare => "compare",
            RequestKind::Probe => "probe",
            RequestKind::RepositoryLookup => "repository_lookup",
            RequestKind::Search => "search",
            RequestKind::Listing => "listing",
            RequestKind::AppToken => "app_token",
            RequestKind::DeepQuery => "deep_query",
            RequestKind::DeepPage => "deep_page",
            RequestKind::GitTree => "git_tree",
            RequestKind::Tarball => "tarball",
            RequestKind::ArchiveDownload => "archive_download",
            RequestKind::Other => "other",
        }
    }

    /// The rate-limit resource that pays for this kind.
    pub fn resource(self) -> &'static str {
        match self {
            RequestKind::RepositoryDetail
            | RequestKind::RepositoryCheck
            | RequestKind::RepositoryLookup
            | RequestKind::DeepQuery => "graphql",
            RequestKind::Search => "search",
            _ => "core",
        }
    }
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One attempt at one request, for the `api_requests` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// When the attempt started (RFC 3339).
    pub at: String,
    /// What it was for.
    pub kind: RequestKind,
    /// Path and query, without the host.
    pub path: String,
    /// HTTP status; 0 when no response arrived.
    pub status: u16,
    /// Budget points it cost (0 for a 304 or no response).
    pub cost: u32,
    /// Milliseconds until the body was read or the attempt failed.
    pub latency_ms: u64,
    /// Milliseconds spent waiting before this attempt (budget, secondary limits, backoff).
    pub waited_ms: u64,
    /// Sent with `If-None-Match`.
    pub conditional: bool,
    /// 1 for the first try, 2 for the first retry, ...
    pub attempt: u32,
    /// The credential label (never the token).
    pub credential: String,
    /// Why the attempt failed, when it did.
    pub error: Option<String>,
}

/// A request that could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    /// A configured URL is not usable.
    #[error("invalid {variable} `{url}`: {reason}")]
    InvalidUrl {
        /// Where it came from: `GITHUB_API_URL` or `GITHUB_GRAPHQL_URL`.
        variable: &'static str,
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// No response after all retries (DNS, connection refused, timeouts).
    #[error("GitHub API at {url} is unreachable after {attempts} attempts: {reason}")]
    Unreachable {
        /// The request URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last transport error.
        reason: String,
    },
    /// 401: the token is wrong, expired or revoked.
    #[error("GitHub refused credential {label} (401 Bad credentials) at {url}")]
    BadCredentials {
        /// The request URL.
        url: String,
        /// The credential label.
        label: String,
    },
    /// GitHub would not issue an installation token for a GitHub App.
    #[error("GitHub refused an installation token for {label} (HTTP {status}) at {url}: {message}")]
    AppRefused {
        /// The token endpoint.
        url: String,
        /// The credential label.
        label: String,
        /// HTTP status.
        status: u16,
        /// GitHub's message.
        message: String,
    },
    /// A GraphQL query failed as a whole (no data).
    #[error("GraphQL query at {url} failed: {message}")]
    Graphql {
        /// The GraphQL endpoint.
        url: String,
        /// GitHub's error messages.
        message: String,
    },
    /// GitHub could not answer a GraphQL query within its limits (a timeout, too many nodes):
    /// asking the same again would fail the same way, so the caller asks for less.
    #[error("GraphQL query at {url} was too big for GitHub: {message}")]
    GraphqlTooBig {
        /// The GraphQL endpoint.
        url: String,
        /// GitHub's error messages.
        message: String,
    },
    /// 403 that is not a rate limit.
    #[error("GitHub answered 403 Forbidden at {url}: {message}")]
    Forbidden {
        /// The request URL.
        url: String,
        /// GitHub's message.
        message: String,
    },
    /// 5xx answers until the retries ran out.
    #[error("GitHub kept failing at {url}: HTTP {status} after {attempts} attempts")]
    ServerError {
        /// The request URL.
        url: String,
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// An answer the caller did not expect (status or body).
    #[error("unexpected answer from {url}: {reason}")]
    Unexpected {
        /// The request URL.
        url: String,
        /// What was wrong.
        reason: String,
    },
    /// A `Link` header pointed somewhere other than the API host; the token is not sent there.
    #[error("refusing to follow {url}: it is not under the API URL {api_url}")]
    ForeignLink {
        /// The link.
        url: String,
        /// The configured API URL.
        api_url: String,
    },
}

impl GithubError {
    /// True when the user's input (URL, token) is at fault rather than the network.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            GithubError::InvalidUrl { .. } | GithubError::BadCredentials { .. } | GithubError::AppRefused { .. }
        )
    }
}
