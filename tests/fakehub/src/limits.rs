//! Rate limiting as GitHub reports it, plus fault dice. Primary budgets are
//! kept per (caller, resource); a window starts at the caller's first request
//! and ends at the integer second advertised in `x-ratelimit-reset`
//! (`ceil(start + window)`), after which the next request opens a new window.
//! The secondary limit tracks requests in flight per caller and the
//! `retry-after` deadline after a secondary-limit response. `FaultDice` is the
//! seeded RNG deciding which requests get an injected fault.

use crate::options::Options;
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
}

impl Caller {
    pub fn label(self) -> String {
        match self {
            Caller::Anonymous => "anonymous".to_string(),
            Caller::Token(i) => format!("token{i}"),
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
}

fn limit_for(options: &Options, caller: Caller, resource: Resource) -> u32 {
    match (caller, resource) {
        (Caller::Anonymous, Resource::Core) => options.anonymous_limit,
        (Caller::Anonymous, Resource::Search) => 10,
        (Caller::Anonymous, Resource::Graphql) => 0,
        (Caller::Token(_), Resource::Core) => options.core_limit,
        (Caller::Token(_), Resource::Search) => options.search_limit,
        (Caller::Token(_), Resource::Graphql) => options.graphql_limit,
    }
}

fn window_end(options: &Options, now: f64) -> u64 {
    (now + options.window.as_secs_f64()).ceil() as u64
}

#[derive(Debug, Default)]
pub(crate) struct Limits {
    budgets: HashMap<(Caller, Resource), Budget>,
    in_flight: HashMap<Caller, usize>,
    total_in_flight: usize,
    blocked_until: HashMap<Caller, Instant>,
    seen_tokens: HashMap<String, usize>,
}

impl Limits {
    /// Map a bearer token (None = anonymous) to a caller; Err for bad credentials.
    pub fn identify(&mut self, token: Option<&str>, options: &Options) -> Result<Caller, ()> {
        let Some(token) = token else { return Ok(Caller::Anonymous) };
        if token.is_empty() {
            return Err(());
        }
        if !options.tokens.is_empty() {
            return options.tokens.iter().position(|t| t == token).map(Caller::Token).ok_or(());
        }
        let next = self.seen_tokens.len();
        Ok(Caller::Token(*self.seen_tokens.entry(token.to_string()).or_insert(next)))
    }

    /// The budget as it would be reported now, without changing anything.
    pub fn peek(&self, caller: Caller, resource: Resource, options: &Options, now: f64) -> RateSnapshot {
        let limit = limit_for(options, caller, resource);
        match self.budgets.get(&(caller, resource)) {
            Some(b) if b.reset != 0 && now < b.reset as f64 => {
                RateSnapshot { limit, used: b.used, reset: b.reset, resource }
            }
            _ => RateSnapshot { limit, used: 0, reset: window_end(options, now), resource },
        }
    }

    /// The current budget, opening a new window if none is running.
    pub fn roll(&mut self, caller: Caller, resource: Resource, options: &Options, now: f64) -> RateSnapshot {
        let budget = self.budgets.entry((caller, resource)).or_default();
        if budget.reset == 0 || now >= budget.reset as f64 {
            *budget = Budget { reset: window_end(options, now), used: 0 };
        }
        let limit = limit_for(options, caller, resource);
        RateSnapshot { limit, used: budget.used, reset: budget.reset, resource }
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

    /// Time left before the caller may come back after a secondary-limit response.
    pub fn blocked_for(&self, caller: Caller, now: Instant) -> Option<Duration> {
        self.blocked_until.get(&caller).and_then(|&until| until.checked_duration_since(now)).filter(|d| !d.is_zero())
    }

    /// Forbid the caller until `until`.
    pub fn block(&mut self, caller: Caller, until: Instant) {
        let entry = self.blocked_until.entry(caller).or_insert(until);
        *entry = (*entry).max(until);
    }

    /// Forget budgets and retry-after deadlines (requests in flight stay counted).
    pub fn reset(&mut self) {
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
