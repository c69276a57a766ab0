//! The budget book: what each credential may still spend on each resource (`core`, `search`,
//! `graphql`), learned from the `x-ratelimit-*` headers GitHub sends, and the admission rule every
//! request passes before it is sent.
//!
//! The budget belongs to the account, not to this process: other matrix jobs on the same
//! credential spend it too, so the book trusts GitHub's readings over its own counting and keeps
//! a small reserve. Rules, in order (see [`decide`]):
//!
//! 1. a credential under a secondary limit waits until its `retry-after` has passed;
//! 2. with no reading yet (or after a reset), one probe request finds out where the budget stands;
//! 3. never send what the reading cannot pay for: `remaining - reserve - in flight >= 1`;
//! 4. never have more than a quarter of the spendable budget in flight, so that several
//!    processes sharing a credential cannot overshoot it between readings;
//! 5. pacing: once spending runs ahead of the window (more than `burst` of the budget spent ahead
//!    of an even spread), space requests evenly over the time left until the reset.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

use super::ratelimit::RateLimit;

/// Tuning of the admission rule.
#[derive(Clone, Debug)]
pub struct BudgetPolicy {
    /// Share of each window left unspent for other jobs' in-flight requests (default 1%).
    pub reserve_fraction: f64,
    /// The reserve is at least this many requests.
    pub min_reserve: u64,
    /// How far ahead of an even spread spending may run before pacing starts (default 10%).
    pub burst_fraction: f64,
    /// Extra wait past the advertised reset, for clock skew.
    pub reset_margin: Duration,
    /// Spread spending over the window (see module docs).
    pub pacing: bool,
}

impl Default for BudgetPolicy {
    fn default() -> BudgetPolicy {
        BudgetPolicy {
            reserve_fraction: 0.01,
            min_reserve: 1,
            burst_fraction: 0.10,
            reset_margin: Duration::from_secs(1),
            pacing: true,
        }
    }
}

/// The latest reading of one budget window.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Reading {
    pub limit: u64,
    pub remaining: u64,
    pub reset_epoch: u64,
    pub reset_at: Instant,
}

/// One credential's state on one resource.
#[derive(Clone, Debug, Default)]
pub(crate) struct Lane {
    pub reading: Option<Reading>,
    /// The server sends no rate-limit headers (GHES with rate limiting off): no budget to keep.
    pub unlimited: bool,
    pub in_flight: u64,
    pub last_send: Option<Instant>,
    /// Longest time-to-reset seen: the window length, learned (an hour on github.com).
    pub window: Duration,
}

/// What the admission rule says about a lane.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Decision {
    /// Send now; `rank` orders credentials (more budget left ranks higher).
    Ready { rank: u64 },
    /// Wait until this instant, or (None) until a request in flight returns.
    Wait { until: Option<Instant>, why: WaitReason },
}

/// Why a lane waits, for the log line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WaitReason {
    /// The window's budget is spent.
    Spent,
    /// Spreading the budget over the window.
    Pacing,
    /// Waiting for a request in flight to report the budget.
    InFlight,
    /// A secondary limit asked us to wait.
    Secondary,
}

/// The admission rule for one lane at `now` (rules 2 to 5 of the module docs).
pub(crate) fn decide(lane: &Lane, now: Instant, policy: &BudgetPolicy) -> Decision {
    let in_flight_wait = Decision::Wait { until: None, why: WaitReason::InFlight };
    if lane.unlimited {
        return Decision::Ready { rank: u64::MAX / 2 };
    }
    let reading = match &lane.reading {
        Some(reading) if now < reading.reset_at + policy.reset_margin => reading,
        // No reading, or the window is over: one probe at a time learns the new state. Unknown
        // credentials rank high, so every credential gets probed.
        _ if lane.in_flight == 0 => return Decision::Ready { rank: u64::MAX / 4 },
        _ => return in_flight_wait,
    };
    let reserve = policy.min_reserve.max((reading.limit as f64 * policy.reserve_fraction).ceil() as u64);
    let spendable = reading.remaining.saturating_sub(reserve);
    if spendable <= lane.in_flight {
        if lane.in_flight > 0 {
            return in_flight_wait;
        }
        return Decision::Wait { until: Some(reading.reset_at + policy.reset_margin), why: WaitReason::Spent };
    }
    let usable = spendable - lane.in_flight;
    if lane.in_flight >= (spendable / 4).max(1) {
        return in_flight_wait;
    }
    if policy.pacing
        && let Some(last) = lane.last_send
    {
        let time_left = reading.reset_at.saturating_duration_since(now);
        let window = lane.window.max(time_left).max(Duration::from_millis(1));
        let budget_share = spendable as f64 / (reading.limit.saturating_sub(reserve).max(1)) as f64;
        let time_share = time_left.as_secs_f64() / window.as_secs_f64();
        if budget_share + policy.burst_fraction < time_share {
            let next = last + time_left / (usable.min(u64::from(u32::MAX)) as u32);
            if next > now {
                return Decision::Wait { until: Some(next), why: WaitReason::Pacing };
            }
        }
    }
    Decision::Ready { rank: usable }
}

/// Per-credential state.
#[derive(Debug, Default)]
struct CredentialState {
    lanes: HashMap<&'static str, Lane>,
    blocked_until: Option<Instant>,
    secondary_hits: u32,
    disabled: bool,
}

/// A permit to send one request with one credential.
#[derive(Debug)]
pub(crate) struct Lease {
    pub credential: usize,
    pub resource: &'static str,
}

/// What the book says when nothing can be sent now.
#[derive(Debug)]
pub(crate) enum Blocked {
    /// Every credential is disabled (refused by GitHub).
    NoCredentials,
}

/// The shared book of every credential's budgets.
pub(crate) struct BudgetBook {
    credentials: Mutex<Vec<CredentialState>>,
    released: Notify,
    policy: BudgetPolicy,
}

impl BudgetBook {
    pub fn new(credentials: usize, policy: BudgetPolicy) -> BudgetBook {
        BudgetBook {
            credentials: Mutex::new((0..credentials).map(|_| CredentialState::default()).collect()),
            released: Notify::new(),
            policy,
        }
    }

    /// Waits until some credential may send a request on `resource`; picks the one with the most
    /// budget left. `on_wait` is told about long waits (for the log line).
    pub async fn acquire(
        &self,
        resource: &'static str,
        mut on_wait: impl FnMut(usize, Duration, WaitReason),
    ) -> Result<Lease, Blocked> {
        loop {
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            let wake = {
                let mut credentials = self.credentials.lock().expect("budget lock");
                let now = Instant::now();
                let mut best: Option<(usize, u64)> = None;
                let mut wake: Option<(Instant, usize, WaitReason)> = None;
                let mut any_enabled = false;
                for (index, state) in credentials.iter().enumerate() {
                    if state.disabled {
                        continue;
                    }
                    any_enabled = true;
                    let decision = match state.blocked_until {
                        Some(until) if until > now => Decision::Wait { until: Some(until), why: WaitReason::Secondary },
                        _ => decide(state.lanes.get(resource).unwrap_or(&Lane::default()), now, &self.policy),
                    };
                    match decision {
                        Decision::Ready { rank } if best.is_none_or(|(_, r)| rank > r) => best = Some((index, rank)),
                        Decision::Ready { .. } => {}
                        Decision::Wait { until: Some(until), why } if wake.is_none_or(|(w, _, _)| until < w) => {
                            wake = Some((until, index, why));
                        }
                        Decision::Wait { .. } => {}
                    }
                }
                if !any_enabled {
                    return Err(Blocked::NoCredentials);
                }
                if let Some((index, _)) = best {
                    let lane = credentials[index].lanes.entry(resource).or_default();
                    lane.in_flight += 1;
                    lane.last_send = Some(now);
                    return Ok(Lease { credential: index, resource });
                }
                wake.map(|(until, index, why)| (until, until.saturating_duration_since(now), index, why))
            };
            match wake {
                Some((until, wait, index, why)) => {
                    on_wait(index, wait, why);
                    tokio::select! {
                        _ = released => {}
                        _ = tokio::time::sleep_until(until.into()) => {}
                    }
                }
                None => released.await,
            }
        }
    }

    /// Returns a lease with what the response said about the budget. `answered` is false when no
    /// response arrived (the request may or may not have been counted).
    pub fn release(&self, lease: &Lease, reading: Option<&RateLimit>, answered: bool) {
        {
            let mut credentials = self.credentials.lock().expect("budget lock");
            let lane = credentials[lease.credential].lanes.entry(lease.resource).or_default();
            lane.in_flight = lane.in_flight.saturating_sub(1);
            match reading {
                Some(reading) => record(lane, reading),
                None if answered => lane.unlimited = true,
                None => {
                    if let Some(current) = &mut lane.reading {
                        current.remaining = current.remaining.saturating_sub(1);
                    }
                }
            }
        }
        self.released.notify_waiters();
    }

    /// Returns a lease whose request was never sent.
    pub fn cancel(&self, lease: &Lease) {
        {
            let mut credentials = self.credentials.lock().expect("budget lock");
            let lane = credentials[lease.credential].lanes.entry(lease.resource).or_default();
            lane.in_flight = lane.in_flight.saturating_sub(1);
        }
        self.released.notify_waiters();
    }

    /// Marks a budget as spent (GraphQL reports `RATE_LIMITED` without always saying `remaining: 0`).
    pub fn exhaust(&self, credential: usize, resource: &'static str, reset_epoch: Option<u64>) {
        let mut credentials = self.credentials.lock().expect("budget lock");
        let lane = credentials[credential].lanes.entry(resource).or_default();
        match &mut lane.reading {
            Some(reading) => reading.remaining = 0,
            None => {
                let reset_epoch = reset_epoch.unwrap_or_else(|| epoch_now() + 60);
                lane.reading = Some(Reading { limit: 1, remaining: 0, reset_epoch, reset_at: instant_of(reset_epoch) });
            }
        }
    }

    /// A secondary limit: the whole credential waits `wait` times a growing factor; returns the wait.
    pub fn block(&self, credential: usize, retry_after: Duration, extra: impl Fn(u32) -> Duration) -> Duration {
        let mut credentials = self.credentials.lock().expect("budget lock");
        let state = &mut credentials[credential];
        state.secondary_hits += 1;
        let wait = retry_after + extra(state.secondary_hits);
        let until = Instant::now() + wait;
        state.blocked_until = Some(state.blocked_until.map_or(until, |b| b.max(until)));
        wait
    }

    /// True while a credential waits out a secondary limit (checked again right before sending,
    /// because the limit may have arrived while this request waited for a permit).
    pub fn is_blocked(&self, credential: usize) -> bool {
        let credentials = self.credentials.lock().expect("budget lock");
        credentials[credential].blocked_until.is_some_and(|until| until > Instant::now())
    }

    /// A response that was not a secondary limit: the credential's backoff starts over.
    pub fn clear_secondary(&self, credential: usize) {
        let mut credentials = self.credentials.lock().expect("budget lock");
        credentials[credential].secondary_hits = 0;
    }

    /// Stops using a credential GitHub refused; wakes waiters so they pick another.
    pub fn disable(&self, credential: usize) {
        self.credentials.lock().expect("budget lock")[credential].disabled = true;
        self.released.notify_waiters();
    }

    /// True while some credential is still usable.
    pub fn any_enabled(&self) -> bool {
        self.credentials.lock().expect("budget lock").iter().any(|state| !state.disabled)
    }

    /// The latest reading of a credential's budget, as `(limit, remaining, reset epoch)`.
    pub fn reading(&self, credential: usize, resource: &str) -> Option<(u64, u64, u64)> {
        let credentials = self.credentials.lock().expect("budget lock");
        let reading = credentials.get(credential)?.lanes.get(resource)?.reading.as_ref()?;
        Some((reading.limit, reading.remaining, reading.reset_epoch))
    }
}

/// Folds a reading into a lane: a later window replaces the reading; within one window,
/// `remaining` only goes down (responses can arrive out of order).
fn record(lane: &mut Lane, reading: &RateLimit) {
    let reset_at = instant_of(reading.reset);
    lane.unlimited = false;
    let time_left = reset_at.saturating_duration_since(Instant::now());
    lane.window = lane.window.max(time_left);
    match &mut lane.reading {
        Some(current) if current.reset_epoch == reading.reset => {
            current.remaining = current.remaining.min(reading.remaining);
            current.limit = reading.limit;
        }
        Some(current) if current.reset_epoch > reading.reset => {}
        _ => {
            lane.reading = Some(Reading {
                limit: reading.limit,
                remaining: reading.remaining,
                reset_epoch: reading.reset,
                reset_at,
            });
        }
    }
}

fn epoch_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// The local instant of an epoch second (the reset GitHub advertises).
fn instant_of(epoch: u64) -> Instant {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let target = Duration::from_secs(epoch);
    if target >= now {
        Instant::now() + (target - now)
    } else {
        Instant::now() - (now - target).min(Duration::from_secs(86_400))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lane(limit: u64, remaining: u64, reset_in: Duration, in_flight: u64, now: Instant) -> Lane {
        Lane {
            reading: Some(Reading { limit, remaining, reset_epoch: 1, reset_at: now + reset_in }),
            unlimited: false,
            in_flight,
            last_send: None,
            window: Duration::from_secs(3600),
        }
    }

    fn policy() -> BudgetPolicy {
        BudgetPolicy { reset_margin: Duration::from_millis(100), ..BudgetPolicy::default() }
    }

    #[test]
    fn one_probe_at_a_time_without_a_reading() {
        let now = Instant::now();
        let mut fresh = Lane::default();
        assert!(matches!(decide(&fresh, now, &policy()), Decision::Ready { .. }));
        fresh.in_flight = 1;
        assert_eq!(decide(&fresh, now, &policy()), Decision::Wait { until: None, why: WaitReason::InFlight });
    }

    #[test]
    fn never_spends_the_reserve_and_waits_for_the_reset() {
        let now = Instant::now();
        let hour = Duration::from_secs(3600);
        // limit 5000: reserve 50.
        assert_eq!(decide(&lane(5000, 4000, hour, 0, now), now, &policy()), Decision::Ready { rank: 3950 });
        let spent = lane(5000, 50, hour, 0, now);
        assert_eq!(
            decide(&spent, now, &policy()),
            Decision::Wait { until: Some(now + hour + Duration::from_millis(100)), why: WaitReason::Spent }
        );
        // Budget still there but all of it in flight: wait for a response, not for the reset.
        assert_eq!(
            decide(&lane(5000, 52, hour, 2, now), now, &policy()).clone(),
            Decision::Wait { until: None, why: WaitReason::InFlight }
        );
        // After the reset (plus margin) a probe goes out.
        assert!(matches!(decide(&spent, now + hour + Duration::from_millis(101), &policy()), Decision::Ready { .. }));
    }

    #[test]
    fn in_flight_is_capped_by_a_quarter_of_the_spendable_budget() {
        let now = Instant::now();
        let hour = Duration::from_secs(3600);
        // spendable 20 -> at most 5 in flight.
        assert!(matches!(decide(&lane(100, 21, hour, 4, now), now, &policy()), Decision::Ready { .. }));
        assert_eq!(
            decide(&lane(100, 21, hour, 5, now), now, &policy()),
            Decision::Wait { until: None, why: WaitReason::InFlight }
        );
    }

    #[test]
    fn pacing_spreads_the_rest_of_a_window_only_when_spending_runs_ahead() {
        let now = Instant::now();
        let mut ahead = lane(1000, 400, Duration::from_secs(3000), 0, now);
        ahead.last_send = Some(now);
        // 390 spendable of 990 (39%) with 83% of the window left: pace at 3000 s / 390.
        match decide(&ahead, now, &policy()) {
            Decision::Wait { until: Some(until), why: WaitReason::Pacing } => {
                let interval = until - now;
                assert!(
                    interval > Duration::from_millis(7600) && interval < Duration::from_millis(7800),
                    "{interval:?}"
                );
            }
            other => panic!("expected pacing, got {other:?}"),
        }
        // The same budget late in the window: no pacing.
        let mut late = lane(1000, 400, Duration::from_secs(600), 0, now);
        late.last_send = Some(now);
        assert!(matches!(decide(&late, now, &policy()), Decision::Ready { .. }));
        // Spending a little ahead (within the burst allowance): no pacing either.
        let mut burst = lane(1000, 900, Duration::from_secs(3500), 0, now);
        burst.last_send = Some(now);
        assert!(matches!(decide(&burst, now, &policy()), Decision::Ready { .. }));
    }

    #[test]
    fn readings_only_go_down_within_a_window() {
        let mut lane = Lane::default();
        let reset = epoch_now() + 100;
        record(&mut lane, &RateLimit { resource: "core".into(), limit: 5000, remaining: 10, reset });
        record(&mut lane, &RateLimit { resource: "core".into(), limit: 5000, remaining: 12, reset });
        assert_eq!(lane.reading.as_ref().unwrap().remaining, 10);
        record(&mut lane, &RateLimit { resource: "core".into(), limit: 5000, remaining: 4999, reset: reset + 3600 });
        assert_eq!(lane.reading.as_ref().unwrap().remaining, 4999);
        record(&mut lane, &RateLimit { resource: "core".into(), limit: 5000, remaining: 3, reset });
        assert_eq!(lane.reading.as_ref().unwrap().remaining, 4999, "a stale window is ignored");
    }

    #[tokio::test]
    async fn acquire_prefers_the_credential_with_most_budget_left() {
        let book = BudgetBook::new(2, BudgetPolicy { pacing: false, ..policy() });
        let reset = epoch_now() + 3600;
        let first = book.acquire("core", |_, _, _| {}).await.unwrap();
        book.release(&first, Some(&RateLimit { resource: "core".into(), limit: 5000, remaining: 100, reset }), true);
        let second = book.acquire("core", |_, _, _| {}).await.unwrap();
        assert_eq!(second.credential, 1, "the unknown credential is probed");
        book.release(&second, Some(&RateLimit { resource: "core".into(), limit: 5000, remaining: 4000, reset }), true);
        let third = book.acquire("core", |_, _, _| {}).await.unwrap();
        assert_eq!(third.credential, 1, "then the one with more left wins");
        book.disable(1);
        book.release(&third, None, false);
        assert_eq!(book.acquire("core", |_, _, _| {}).await.unwrap().credential, 0);
        book.disable(0);
        assert!(matches!(book.acquire("core", |_, _, _| {}).await, Err(Blocked::NoCredentials)));
    }
}
