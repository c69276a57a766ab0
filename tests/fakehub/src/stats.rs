//! Counters a test can read (`FakeHub::stats`) to check how a client behaved:
//! requests per status/route/token, rate-limit violations of each kind, every
//! secondary-limit response sent, conditional-request hits, concurrency and
//! each kind of injected fault. Tokens appear only as short labels
//! (`token0` = first of `Options::tokens`, `anonymous`, `invalid`).

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

/// One secondary-limit response.
#[derive(Clone, Debug)]
pub struct SecondaryResponse {
    pub token: String,
    pub status: u16,
    pub retry_after: u64,
    pub cause: SecondaryCause,
    /// Time since the server started.
    pub at: Duration,
}

/// At most this many secondary responses are kept in `Stats::secondary_responses`.
pub const SECONDARY_LOG_CAP: usize = 10_000;

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
    /// GraphQL points charged.
    pub graphql_points: u64,
    /// GraphQL node ids asked for.
    pub graphql_nodes: u64,
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
}
