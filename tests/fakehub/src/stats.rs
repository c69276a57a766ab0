//! Counters a test can read (`FakeHub::stats`) to check how a client behaved:
//! requests per status/route/token, rate-limit violations of each kind, every
//! secondary-limit response sent, conditional-request hits, concurrency and
//! each kind of injected fault, every rate-limit window with its use, and
//! GitHub App token traffic. Tokens appear only as short labels (`token0` =
//! first of `Options::tokens`, `installation0` = first installation token
//! issued, `app` = requests carrying an app JWT, `anonymous`, `invalid`).

use std::collections::BTreeMap;
use std::time::Duration;

/// Why a secondary-limit response was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondaryCause {
    /// The token had more than `max_concurrency` requests in flight.
    Concurrency,
    /// The token came back before the previous `retry-after` elapsed.
    RetryAfterViolation,
    /// Injected by `fault_secondary`.
    Injected,
}

/// One secondary-limit response. After a `Concurrency` or `Injected` one the
/// token may not send another request (`/rate_limit` aside) before
/// `at + retry_after`: each one that arrives earlier is answered 403 again
/// (cause `RetryAfterViolation`, `retry-after` = the time left to that same
/// deadline, rounded up to whole seconds) and counted in
/// `Stats::retry_after_violations`. A `retry_after` of 0 sets no deadline.
#[derive(Clone, Debug)]
pub struct SecondaryResponse {
    /// Token label of the request.
    pub token: String,
    pub status: u16,
    /// The `retry-after` header, seconds.
    pub retry_after: u64,
    pub cause: SecondaryCause,
    /// When the request was received, as time since the server started (the
    /// retry-after deadline counts from here; `Options::latency` and slow
    /// faults delay the response itself).
    pub at: Duration,
}

/// At most this many secondary responses are kept in `Stats::secondary_responses`.
pub const SECONDARY_LOG_CAP: usize = 10_000;

/// One primary rate-limit window of one caller and resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowUsage {
    /// Token label (`token0`, `installation0`, `anonymous`, ...).
    pub token: String,
    /// `core`, `search` or `graphql`.
    pub resource: String,
    /// The limit (the last one reported during the window).
    pub limit: u32,
    /// Requests (GraphQL: points) charged in the window, 304 refunds deducted.
    pub used: u32,
    /// Epoch second at which the window ends (`x-ratelimit-reset`).
    pub reset: u64,
    /// A later window started, `FakeHub::reset_limits` ended it, or its
    /// reset second had passed when the stats were read.
    pub closed: bool,
}

/// At most this many closed windows are kept in `Stats::windows`.
pub const WINDOW_LOG_CAP: usize = 100_000;

#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Every parsed request, `/rate_limit` and rejected ones included.
    pub requests: u64,
    pub by_status: BTreeMap<u16, u64>,
    /// Keyed like `GET /repos/{owner}/{name}`.
    pub by_route: BTreeMap<String, u64>,
    /// Keyed by token label (`token0`, `token1`, ..., `anonymous`, `invalid`).
    pub by_token: BTreeMap<String, u64>,
    /// Requests made while the primary budget was exhausted.
    pub primary_violations: u64,
    /// Requests above `max_concurrency` in flight for a token.
    pub concurrency_violations: u64,
    /// Requests made before a previous secondary response's retry-after elapsed.
    pub retry_after_violations: u64,
    /// Every secondary-limit response sent (capped at `SECONDARY_LOG_CAP`).
    pub secondary_responses: Vec<SecondaryResponse>,
    /// Number of secondary-limit responses sent (not capped).
    pub secondary_sent: u64,
    /// 304 answers to a matching `If-None-Match`.
    pub not_modified: u64,
    /// Highest number of requests in flight at once, all callers together.
    pub max_in_flight: usize,
    /// Highest number of requests in flight at once, per token label.
    pub max_in_flight_by_token: BTreeMap<String, usize>,
    pub faults_5xx: u64,
    pub faults_secondary: u64,
    pub faults_reset: u64,
    pub faults_truncate: u64,
    pub faults_malformed: u64,
    /// GraphQL points charged: GitHub's cost of each query (see
    /// `graphql/cost.rs`), 1 for refused ones, none for RATE_LIMITED answers.
    pub graphql_points: u64,
    /// GraphQL node ids and `repository(owner:, name:)` lookups asked for.
    pub graphql_nodes: u64,
    /// GraphQL "requests" by GitHub's cost formula, summed before dividing by
    /// 100 (points are this / 100 per query, rounded, at least 1).
    pub graphql_requests: u64,
    /// GraphQL queries that ran (not refused by parsing, validation or limits).
    pub graphql_queries: u64,
    /// Objects GraphQL returned: connection items (`nodes`/`edges`),
    /// `nodes(ids:)` entries and root lookups. Points per item =
    /// `graphql_points / graphql_returned`.
    pub graphql_returned: u64,
    /// GraphQL queries answered with the timeout error (`Options::graphql_timeout_nodes`).
    pub graphql_timeouts: u64,
    /// Items served by the deep REST endpoints, by kind: `issues` (issues and
    /// pull requests of `/issues`), `pulls`, `pull`, `runs`, `contributors`, `commits`.
    pub items_served: BTreeMap<String, u64>,
    /// Every primary rate-limit window opened, grouped by token label then
    /// resource (ordered by name), oldest first within a group; at most one per
    /// group is open. Closed ones are capped at `WINDOW_LOG_CAP`;
    /// `FakeHub::reset_stats` forgets the closed ones, not the running ones.
    pub windows: Vec<WindowUsage>,
    /// Installation access tokens issued (`POST /app/installations/{id}/access_tokens`).
    pub app_tokens_issued: u64,
    /// Requests with an app JWT that was refused (401) on the access-token
    /// endpoint, or used on any other endpoint.
    pub app_jwt_rejected: u64,
    /// Requests made with an installation token at or after its `expires_at` (answered 401).
    pub expired_token_uses: u64,
}

impl Stats {
    /// Primary + concurrency + retry-after violations.
    pub fn violations(&self) -> u64 {
        self.primary_violations + self.concurrency_violations + self.retry_after_violations
    }

    /// Injected faults of every kind.
    pub fn faults(&self) -> u64 {
        self.faults_5xx + self.faults_secondary + self.faults_reset + self.faults_truncate + self.faults_malformed
    }

    /// Requests answered with this status.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    /// Requests to this route key, e.g. `GET /repositories`.
    pub fn route(&self, key: &str) -> u64 {
        self.by_route.get(key).copied().unwrap_or(0)
    }

    /// The windows of one token label and resource (`core`, `search`, `graphql`), oldest first.
    pub fn windows_of(&self, token: &str, resource: &str) -> Vec<&WindowUsage> {
        self.windows.iter().filter(|w| w.token == token && w.resource == resource).collect()
    }
}
