//! Rate limiting as GitHub reports it, plus fault dice. Primary budgets are
//! kept per (caller, resource); a window starts at the caller's first request
//! and ends at the integer second advertised in `x-ratelimit-reset`
//! (`ceil(start + window)`), after which the next request opens a new window.
//! Every window is remembered (limit and use) so tests can see whether a
//! client spent its budgets; see [`crate::WindowUsage`].
//! Callers are anonymous, a configured (or any) token, or an installation
//! access token issued to the GitHub App, valid until it expires.
//! The secondary limit tracks requests in flight per caller and the
//! `retry-after` deadline after a secondary-limit response. `FaultDice` is the
//! seeded RNG deciding which requests get an injected fault.

use crate::options::Options;
use crate::stats::{WINDOW_LOG_CAP, WindowUsage};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Which budget a request draws from (`x-ratelimit-resource`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Core,
    Search,
    Graphql,
}

impl Resource {
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Core => "core",
            Resource::Search => "search",
            Resource::Graphql => "graphql",
        }
    }
}

/// Who is calling: anonymous callers share one identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Caller {
    Anonymous,
    /// Index into `Options::tokens` (or order of first use when any token is accepted).
    Token(usize),
    /// The n-th installation access token issued (from 0).
    Installation(usize),
}

/// Why credentials were refused (both answer 401 Bad credentials).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuthError {
    /// Unknown or unusable.
    Bad,
    /// An installation token used at or after its `expires_at`.
    Expired,
}

impl Caller {
    pub fn label(self) -> String {
        match self {
            Caller::Anonymous => "anonymous".to_string(),
            Caller::Token(i) => format!("token{i}"),
            Caller::Installation(i) => format!("installation{i}"),
        }
    }
}

/// A budget as reported in the `x-ratelimit-*` headers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RateSnapshot {
    pub limit: u32,
    pub used: u32,
    /// Epoch second at which the window ends.
    pub reset: u64,
    pub resource: Resource,
}

impl RateSnapshot {
    pub fn remaining(&self) -> u32 {
        self.limit.saturating_sub(self.used)
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Budget {
    /// 0 = no window started yet.
    reset: u64,
    used: u32,
    /// The limit last reported for this window.
    limit: u32,
}

impl Budget {
    fn usage(&self, caller: Caller, resource: Resource, closed: bool) -> WindowUsage {
        WindowUsage {
            token: caller.label(),
            resource: resource.as_str().to_string(),
            limit: self.limit,
            used: self.used,
            reset: self.reset,
            closed,
        }
    }
}

fn limit_for(options: &Options, caller: Caller, resource: Resource) -> u32 {
    match (caller, resource) {
        (Caller::Anonymous, Resource::Core) => options.anonymous_limit,
        (Caller::Anonymous, Resource::Search) => 10,
        (Caller::Anonymous, Resource::Graphql) => 0,
        (Caller::Token(_), Resource::Core) => options.core_limit,
        (Caller::Token(_), Resource::Search) => options.search_limit,
        (Caller::Token(_), Resource::Graphql) => options.graphql_limit,
        (Caller::Installation(_), Resource::Core) => options.core_limit,
        (Caller::Installation(_), Resource::Search) => options.search_limit,
        (Caller::Installation(_), Resource::Graphql) => options.graphql_limit,
    }
}

/// The search budget's window is `min(window, search_window)` (GitHub: one minute).
fn window_end(options: &Options, resource: Resource, now: f64) -> u64 {
    let window = match resource {
        Resource::Search => options.window.min(options.search_window),
        Resource::Core | Resource::Graphql => options.window,
    };
    (now + window.as_secs_f64()).ceil() as u64
}

/// How long after a secondary-limit answer other requests of the same caller still count as
/// "already in flight" (sent before the caller could have read the answer). Loopback answers
/// arrive in well under a millisecond, but on a loaded two-core machine a request that passed the
/// client's check may reach the socket 70 ms later (seen while the whole suite ran); a client that
/// ignores `retry-after` (1 s in the tests) keeps sending well past this.
pub const IN_FLIGHT_GRACE: Duration = Duration::from_millis(250);

/// A secondary-limit deadline.
#[derive(Clone, Debug)]
struct Block {
    since: Instant,
    until: Instant,
    /// The requests that were answered with the limit (their resends are always violations).
    keys: Vec<u64>,
}

#[derive(Debug, Default)]
pub(crate) struct Limits {
    budgets: HashMap<(Caller, Resource), Budget>,
    in_flight: HashMap<Caller, usize>,
    total_in_flight: usize,
    blocked_until: HashMap<Caller, Block>,
    seen_tokens: HashMap<String, usize>,
    /// Installation token -> (index, epoch second it expires at).
    installation_tokens: HashMap<String, (usize, u64)>,
    /// Windows that ended, oldest first (capped at `WINDOW_LOG_CAP`).
    closed_windows: Vec<WindowUsage>,
}

impl Limits {
    /// Map a bearer token (None = anonymous) to a caller at epoch time `now`.
    /// Issued installation tokens are recognised first; with an app configured,
    /// any other `ghs_` token is refused even when any token is accepted.
    pub fn identify(&mut self, token: Option<&str>, options: &Options, now: f64) -> Result<Caller, AuthError> {
        let Some(token) = token else { return Ok(Caller::Anonymous) };
        if token.is_empty() {
            return Err(AuthError::Bad);
        }
        if let Some(&(index, expires)) = self.installation_tokens.get(token) {
            return if now < expires as f64 { Ok(Caller::Installation(index)) } else { Err(AuthError::Expired) };
        }
        if options.app.is_some() && token.starts_with("ghs_") {
            return Err(AuthError::Bad);
        }
        if !options.tokens.is_empty() {
            return options.tokens.iter().position(|t| t == token).map(Caller::Token).ok_or(AuthError::Bad);
        }
        let next = self.seen_tokens.len();
        Ok(Caller::Token(*self.seen_tokens.entry(token.to_string()).or_insert(next)))
    }

    /// What requests that are never charged report (the GitHub App's own JWT requests).
    pub fn unmetered(options: &Options, now: f64) -> RateSnapshot {
        RateSnapshot {
            limit: options.core_limit,
            used: 0,
            reset: window_end(options, Resource::Core, now),
            resource: Resource::Core,
        }
    }

    /// The budget as it would be reported now, without changing anything.
    pub fn peek(&self, caller: Caller, resource: Resource, options: &Options, now: f64) -> RateSnapshot {
        let limit = limit_for(options, caller, resource);
        match self.budgets.get(&(caller, resource)) {
            Some(b) if b.reset != 0 && now < b.reset as f64 => {
                RateSnapshot { limit, used: b.used, reset: b.reset, resource }
            }
            _ => RateSnapshot { limit, used: 0, reset: window_end(options, resource, now), resource },
        }
    }

    /// Accept `token` as the next installation token until epoch second `expires`; returns its index.
    pub fn issue_installation_token(&mut self, token: String, expires: u64) -> usize {
        let index = self.installation_tokens.len();
        self.installation_tokens.insert(token, (index, expires));
        index
    }

    /// The current budget, opening a new window if none is running.
    pub fn roll(&mut self, caller: Caller, resource: Resource, options: &Options, now: f64) -> RateSnapshot {
        let limit = limit_for(options, caller, resource);
        let budget = self.budgets.entry((caller, resource)).or_default();
        if budget.reset == 0 || now >= budget.reset as f64 {
            if budget.reset != 0 && self.closed_windows.len() < WINDOW_LOG_CAP {
                self.closed_windows.push(budget.usage(caller, resource, true));
            }
            *budget = Budget { reset: window_end(options, resource, now), used: 0, limit };
        }
        budget.limit = limit;
        RateSnapshot { limit, used: budget.used, reset: budget.reset, resource }
    }

    /// Every window: the closed ones, then those still recorded (closed once
    /// their reset second has passed at `now`), grouped by token label and
    /// resource, oldest first within a group.
    pub fn windows(&self, now: f64) -> Vec<WindowUsage> {
        let mut all = self.closed_windows.clone();
        all.extend(
            self.budgets
                .iter()
                .filter(|(_, b)| b.reset != 0)
                .map(|(&(caller, resource), b)| b.usage(caller, resource, now >= b.reset as f64)),
        );
        // Stable: within a group the closed windows (oldest first) precede the running one.
        all.sort_by(|a, b| (&a.token, &a.resource).cmp(&(&b.token, &b.resource)));
        all
    }

    /// Forget the windows that ended (the running ones stay).
    pub fn forget_closed_windows(&mut self) {
        self.closed_windows.clear();
    }

    /// Charge `cost` to the running window (opening one if needed; never beyond the limit).
    pub fn charge(
        &mut self,
        caller: Caller,
        resource: Resource,
        cost: u32,
        options: &Options,
        now: f64,
    ) -> RateSnapshot {
        let snap = self.roll(caller, resource, options, now);
        let used = snap.used.saturating_add(cost).min(snap.limit.max(snap.used));
        if let Some(b) = self.budgets.get_mut(&(caller, resource)) {
            b.used = used;
        }
        RateSnapshot { used, ..snap }
    }

    /// Give back a charge, if it was made in the window that is still running.
    pub fn refund(&mut self, caller: Caller, resource: Resource, cost: u32, charged: &RateSnapshot) {
        if let Some(b) = self.budgets.get_mut(&(caller, resource))
            && b.reset == charged.reset
        {
            b.used = b.used.saturating_sub(cost);
        }
    }

    /// A request starts: returns (in flight for this caller, in flight in total).
    pub fn enter(&mut self, caller: Caller) -> (usize, usize) {
        let n = self.in_flight.entry(caller).or_default();
        *n += 1;
        self.total_in_flight += 1;
        (*n, self.total_in_flight)
    }

    /// A request ends.
    pub fn leave(&mut self, caller: Caller) {
        if let Some(n) = self.in_flight.get_mut(&caller) {
            *n = n.saturating_sub(1);
        }
        self.total_in_flight = self.total_in_flight.saturating_sub(1);
    }

    /// Time left before the caller may come back after a secondary-limit response, for a
    /// request identified by `key` arriving at `now`. A request already in flight when the limit
    /// was answered cannot have seen it: other requests arriving within [`IN_FLIGHT_GRACE`] of
    /// the answer pass; the limited request itself (same `key`) never does.
    pub fn blocked_for(&self, caller: Caller, now: Instant, key: u64) -> Option<Duration> {
        let block = self.blocked_until.get(&caller)?;
        let left = block.until.checked_duration_since(now).filter(|d| !d.is_zero())?;
        let in_flight = now.saturating_duration_since(block.since) < IN_FLIGHT_GRACE;
        if in_flight && !block.keys.contains(&key) { None } else { Some(left) }
    }

    /// Forbid the caller from `since` until `until`; `key` identifies the limited request.
    pub fn block(&mut self, caller: Caller, since: Instant, until: Instant, key: u64) {
        let entry = self.blocked_until.entry(caller).or_insert(Block { since, until, keys: Vec::new() });
        if until > entry.until {
            if since > entry.until {
                entry.keys.clear();
                entry.since = since;
            }
            entry.until = until;
        }
        entry.keys.push(key);
    }

    /// Forget budgets and retry-after deadlines (requests in flight and
    /// issued installation tokens stay); running windows end here.
    pub fn reset(&mut self) {
        let mut ended: Vec<WindowUsage> = self
            .budgets
            .iter()
            .filter(|(_, b)| b.reset != 0)
            .map(|(&(caller, resource), b)| b.usage(caller, resource, true))
            .collect();
        ended.sort_by(|a, b| (&a.token, &a.resource).cmp(&(&b.token, &b.resource)));
        let room = WINDOW_LOG_CAP.saturating_sub(self.closed_windows.len());
        self.closed_windows.extend(ended.into_iter().take(room));
        self.budgets.clear();
        self.blocked_until.clear();
    }
}

/// What, if anything, goes wrong with one request.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FaultPlan {
    pub reset: bool,
    pub five_xx: Option<u16>,
    pub secondary: Option<u16>,
    pub truncate: bool,
    pub malformed: bool,
    pub slow: bool,
}

/// Seeded fault RNG. Every request draws the same number of values, so a
/// sequential client sees the same faults on every run.
#[derive(Debug)]
pub(crate) struct FaultDice {
    rng: fastrand::Rng,
    seed: u64,
    secondary_count: u64,
}

impl FaultDice {
    pub fn new(seed: u64) -> Self {
        FaultDice { rng: fastrand::Rng::with_seed(seed), seed, secondary_count: 0 }
    }

    /// Restart the sequence if the seed changed.
    pub fn reseed(&mut self, seed: u64) {
        if seed != self.seed {
            *self = FaultDice::new(seed);
        }
    }

    pub fn roll(&mut self, options: &Options) -> FaultPlan {
        let draws: [f64; 7] = std::array::from_fn(|_| self.rng.f64());
        let mut plan = FaultPlan {
            reset: draws[0] < options.fault_reset,
            truncate: draws[3] < options.fault_truncate,
            malformed: draws[4] < options.fault_malformed,
            slow: draws[5] < options.slow_fraction,
            ..FaultPlan::default()
        };
        if draws[1] < options.fault_secondary {
            self.secondary_count += 1;
            plan.secondary = Some(if self.secondary_count % 2 == 1 { 403 } else { 429 });
        } else if draws[2] < options.fault_5xx {
            plan.five_xx = Some([500, 502, 503][(draws[6] * 3.0) as usize % 3]);
        }
        plan
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_secondary_limit_tolerates_requests_in_flight_but_never_the_resend() {
        let mut limits = Limits::default();
        let caller = Caller::Anonymous;
        let start = Instant::now();
        limits.block(caller, start, start + Duration::from_secs(1), 7);
        let soon = start + Duration::from_millis(5);
        assert_eq!(limits.blocked_for(caller, soon, 8), None, "another request already in flight passes");
        assert!(limits.blocked_for(caller, soon, 7).is_some(), "the limited request resent at once is a violation");
        let later = start + IN_FLIGHT_GRACE + Duration::from_millis(1);
        assert!(limits.blocked_for(caller, later, 8).is_some(), "past the grace, any request is a violation");
        assert_eq!(limits.blocked_for(caller, start + Duration::from_secs(1), 7), None, "after retry-after, all pass");
    }

    use super::*;
    use crate::options::AppOptions;

    fn options() -> Options {
        Options { core_limit: 3, graphql_limit: 10, window: Duration::from_secs(1), ..Options::default() }
    }

    fn summary(windows: &[WindowUsage]) -> Vec<(String, &str, u32, u32, bool)> {
        windows.iter().map(|w| (w.token.clone(), w.resource.as_str(), w.used, w.limit, w.closed)).collect()
    }

    #[test]
    fn windows_are_recorded_per_caller_and_resource() {
        let o = options();
        let mut l = Limits::default();
        let (a, b) = (Caller::Token(0), Caller::Token(1));
        assert!(l.windows(1000.0).is_empty(), "peek opens nothing");
        let _ = l.peek(a, Resource::Core, &o, 1000.0);
        assert!(l.windows(1000.0).is_empty());
        for _ in 0..3 {
            l.charge(a, Resource::Core, 1, &o, 1000.2);
        }
        assert_eq!(l.roll(a, Resource::Core, &o, 1000.3).reset, 1002);
        let snap = l.charge(a, Resource::Core, 1, &o, 1000.4);
        assert_eq!(snap.used, 3, "never beyond the limit");
        l.charge(b, Resource::Graphql, 4, &o, 1000.5);
        assert_eq!(
            summary(&l.windows(1001.9)),
            [("token0".into(), "core", 3, 3, false), ("token1".into(), "graphql", 4, 10, false)]
        );
        // The reset second passed: reported closed before any new request.
        assert!(l.windows(1002.0).iter().all(|w| w.closed));
        // A new window; the old one is kept as closed. A 304 refund lowers use.
        let charged = l.charge(a, Resource::Core, 1, &o, 1002.0);
        assert_eq!(charged.reset, 1003);
        l.charge(a, Resource::Core, 1, &o, 1002.1);
        l.refund(a, Resource::Core, 1, &charged);
        let w = l.windows(1002.5);
        assert_eq!(
            summary(&w),
            [
                ("token0".into(), "core", 3, 3, true),
                ("token0".into(), "core", 1, 3, false),
                ("token1".into(), "graphql", 4, 10, true)
            ]
        );
        assert_eq!((w[0].reset, w[1].reset), (1002, 1003));
        // A window left idle for long still closes once.
        l.charge(a, Resource::Core, 1, &o, 2000.0);
        assert_eq!(l.windows(2000.0).iter().filter(|w| w.token == "token0").count(), 3);
        // The limit reported is the latest one of the window.
        let raised = Options { core_limit: 5, ..o.clone() };
        l.charge(a, Resource::Core, 1, &raised, 2000.1);
        let last = l.windows(2000.2).into_iter().find(|w| w.token == "token0" && !w.closed).expect("open");
        assert_eq!((last.used, last.limit), (2, 5));
        // reset() ends the running windows; forgetting the closed ones keeps running ones.
        l.reset();
        assert!(l.windows(2000.3).iter().all(|w| w.closed));
        assert_eq!(l.windows(2000.3).len(), 4);
        l.charge(b, Resource::Search, 1, &o, 2000.4);
        l.forget_closed_windows();
        assert_eq!(summary(&l.windows(2000.5)), [("token1".into(), "search", 1, 30, false)]);
    }

    #[test]
    fn search_window_is_the_shorter_one() {
        let mut l = Limits::default();
        let o = Options { window: Duration::from_secs(3600), ..Options::default() };
        assert_eq!(l.charge(Caller::Token(0), Resource::Search, 1, &o, 1000.5).reset, 1061);
        assert_eq!(l.charge(Caller::Token(0), Resource::Core, 1, &o, 1000.5).reset, 4601);
        let short = Options { window: Duration::from_secs(2), ..Options::default() };
        assert_eq!(l.peek(Caller::Token(1), Resource::Search, &short, 1000.5).reset, 1003);
    }

    #[test]
    fn installation_tokens_expire() {
        let mut o = Options::with_tokens(["pat"]);
        let mut l = Limits::default();
        let first = l.issue_installation_token("ghs_a".into(), 1010);
        let second = l.issue_installation_token("ghs_b".into(), 1020);
        assert_eq!((first, second), (0, 1));
        assert_eq!(l.identify(Some("ghs_a"), &o, 1009.9), Ok(Caller::Installation(0)));
        assert_eq!(l.identify(Some("ghs_a"), &o, 1010.0), Err(AuthError::Expired));
        assert_eq!(l.identify(Some("ghs_b"), &o, 1010.0), Ok(Caller::Installation(1)));
        assert_eq!(Caller::Installation(1).label(), "installation1");
        assert_eq!(l.identify(Some("pat"), &o, 1010.0), Ok(Caller::Token(0)));
        assert_eq!(l.identify(Some("ghs_c"), &o, 1010.0), Err(AuthError::Bad));
        // Any-token mode takes a made-up ghs_ token unless an app is configured.
        o.tokens.clear();
        assert_eq!(l.identify(Some("ghs_c"), &o, 1010.0), Ok(Caller::Token(0)));
        o.app = Some(AppOptions {
            app_id: 1,
            installation_id: 2,
            public_key_der: Vec::new(),
            token_ttl: Duration::from_secs(60),
        });
        assert_eq!(l.identify(Some("ghs_d"), &o, 1010.0), Err(AuthError::Bad));
        assert_eq!(l.identify(Some("other"), &o, 1010.0), Ok(Caller::Token(1)));
        // Installation tokens have token-sized budgets of their own.
        let snap = l.charge(Caller::Installation(0), Resource::Core, 1, &o, 1000.0);
        assert_eq!((snap.limit, snap.used), (o.core_limit, 1));
        assert_eq!(l.peek(Caller::Token(0), Resource::Core, &o, 1000.0).used, 0);
    }
}
