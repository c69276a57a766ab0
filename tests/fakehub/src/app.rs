//! The request pipeline shared by every route: authentication, the secondary
//! limit (concurrency and retry-after), the primary budget, fault injection,
//! the handler, ETag / `If-None-Match`, rate-limit headers, latency and stats.
//! `/rate_limit` skips budgets, the secondary limit and faults, like GitHub.
//! The `/_fakehub/...` controls (`control.rs`) skip the whole pipeline.
//!
//! GitHub App authentication: `POST /app/installations/{id}/access_tokens`
//! takes only the app's JWT (anything else: 401 "A JSON web token could not
//! be decoded"), checked as in [`crate::jwt`]; unknown installation: 404; then
//! 201 with a `ghs_` token valid until `expires_at` (401 Bad credentials and
//! `expired_token_uses` after that). The endpoint is never charged, limited or
//! faulted (latency still applies) and its requests are labelled `app`. A JWT on
//! any other endpoint is answered 401 Bad credentials, also uncharged.

use crate::control;
use crate::graphql;
use crate::http::{Delivery, Reply, Request, Response};
use crate::jwt;
use crate::limits::{AuthError, Caller, FaultDice, FaultPlan, Limits, RateSnapshot, Resource};
use crate::options::Options;
use crate::rest_deep;
use crate::routes::{self, Ctx, Route};
use crate::stats::{SECONDARY_LOG_CAP, SecondaryCause, SecondaryResponse, Stats};
use crate::time::{Timestamp, http_date, now_epoch};
use crate::universe::Universe;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

const SECONDARY_DOC: &str = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits";
const PRIMARY_DOC: &str = "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting";
const REST_DOC: &str = "https://docs.github.com/rest";
const ACCESS_TOKEN_DOC: &str = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app";

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Shared server state.
pub(crate) struct App {
    pub universe: Arc<Universe>,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The download host's `http://HOST:PORT`.
    pub codeload_url: String,
    options: Mutex<Options>,
    limits: Mutex<Limits>,
    stats: Mutex<Stats>,
    dice: Mutex<FaultDice>,
    request_seq: AtomicU64,
    started: Instant,
}

/// Counts a request as in flight for its caller until dropped.
pub(crate) struct InFlight {
    app: Arc<App>,
    caller: Caller,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.app.limits).leave(self.caller);
    }
}

impl App {
    pub fn new(universe: Arc<Universe>, options: Options, base_url: String, codeload_url: String) -> App {
        App {
            universe,
            base_url,
            codeload_url,
            dice: Mutex::new(FaultDice::new(options.seed)),
            options: Mutex::new(options),
            limits: Mutex::new(Limits::default()),
            stats: Mutex::new(Stats::default()),
            request_seq: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    pub fn options(&self) -> Options {
        lock(&self.options).clone()
    }

    pub fn set_options(&self, options: Options) {
        lock(&self.dice).reseed(options.seed);
        *lock(&self.options) = options;
    }

    pub fn stats(&self) -> Stats {
        let mut stats = lock(&self.stats).clone();
        stats.windows = lock(&self.limits).windows(now_epoch());
        stats
    }

    pub fn reset_stats(&self) {
        *lock(&self.stats) = Stats::default();
        lock(&self.limits).forget_closed_windows();
    }

    pub fn reset_limits(&self) {
        lock(&self.limits).reset();
    }

    fn next_request_id(&self) -> String {
        let seq = self.request_seq.fetch_add(1, Ordering::Relaxed) + 1;
        let mix = seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        format!(
            "FA4E:{:04X}:{:06X}:{:07X}:{:08X}",
            (mix >> 48) & 0xFFFF,
            seq & 0xFF_FFFF,
            (mix >> 20) & 0xFFF_FFFF,
            seq
        )
    }

    /// A request the HTTP layer could not parse: counted, answered, connection closed.
    pub fn reject(&self, status: u16, message: &str) -> Response {
        let options = self.options();
        let rate = lock(&self.limits).peek(Caller::Anonymous, Resource::Core, &options, now_epoch());
        let mut response =
            Response::json(status, &json!({"message": message, "documentation_url": "https://docs.github.com/rest"}));
        self.decorate(&mut response, &rate, &self.next_request_id());
        let mut stats = lock(&self.stats);
        stats.requests += 1;
        *stats.by_status.entry(status).or_default() += 1;
        response
    }

    /// Run one request through the pipeline.
    pub async fn handle(self: &Arc<Self>, request: Request) -> Reply {
        let route = Route::parse(&request.method, &request.path);
        if let Route::Control(control) = route {
            // Not GitHub: no authentication, limits, faults, latency or stats.
            let app = self.clone();
            let answer = tokio::task::spawn_blocking(move || {
                control::handle(control, &request, &app.universe, &app.options().big_archives, || app.stats())
            })
            .await;
            let mut response = answer.unwrap_or_else(|_| Response::json(500, &json!({"message": "control failed"})));
            response.set_header("date", http_date(now_epoch() as i64));
            response.set_header("server", "fakehub");
            return Reply { response, delivery: Delivery::Full, hold: None };
        }
        let options = self.options();
        let now = now_epoch();
        let resource = route.resource();
        let request_id = self.next_request_id();
        {
            let mut stats = lock(&self.stats);
            stats.requests += 1;
            *stats.by_route.entry(route.key(&request.method)).or_default() += 1;
        }

        // Authentication.
        let credential = bearer_token(&request);
        if let Route::AppAccessTokens { installation } = &route {
            let response = self.access_token(installation, &request, credential, &options, now);
            let rate = Limits::unmetered(&options, now);
            return self.finish(response, rate, &request_id, &options, Duration::ZERO, None).await;
        }
        if let Ok(Some(token)) = credential
            && jwt::looks_like_jwt(token)
        {
            self.count(|s| {
                *s.by_token.entry("app".into()).or_default() += 1;
                s.app_jwt_rejected += 1;
            });
            let rate = Limits::unmetered(&options, now);
            return self.finish(bad_credentials(), rate, &request_id, &options, Duration::ZERO, None).await;
        }
        let caller = match credential {
            Ok(token) => lock(&self.limits).identify(token, &options, now),
            Err(()) => Err(AuthError::Bad),
        };
        let caller = match caller {
            Ok(caller) => caller,
            Err(error) => {
                self.count(|s| {
                    *s.by_token.entry("invalid".into()).or_default() += 1;
                    s.expired_token_uses += u64::from(error == AuthError::Expired);
                });
                let rate = lock(&self.limits).peek(Caller::Anonymous, Resource::Core, &options, now);
                return self.finish(bad_credentials(), rate, &request_id, &options, Duration::ZERO, None).await;
            }
        };
        let label = caller.label();
        *lock(&self.stats).by_token.entry(label.clone()).or_default() += 1;
        if route.requires_auth() && caller == Caller::Anonymous {
            let body = json!({
                "message": "This endpoint requires you to be authenticated.",
                "documentation_url": "https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql"
            });
            let rate = lock(&self.limits).peek(caller, Resource::Core, &options, now);
            return self.finish(Response::json(401, &body), rate, &request_id, &options, Duration::ZERO, None).await;
        }
        if route == Route::RateLimit {
            let (core, search, graphql) = {
                let limits = lock(&self.limits);
                (
                    limits.peek(caller, Resource::Core, &options, now),
                    limits.peek(caller, Resource::Search, &options, now),
                    limits.peek(caller, Resource::Graphql, &options, now),
                )
            };
            let mut response = Response::json(200, &routes::rate_limit_body(&core, &search, &graphql));
            add_etag(&mut response);
            return self.finish(response, core, &request_id, &options, Duration::ZERO, None).await;
        }

        let hold = self.enter(caller, &label);
        let in_flight = hold.1;
        let hold = Some(hold.0);
        let instant = Instant::now();

        // Secondary limit: retry-after deadline, then concurrency.
        let key = request_key(&request);
        let blocked = lock(&self.limits).blocked_for(caller, instant, key);
        if let Some(left) = blocked {
            let retry = left.as_secs_f64().ceil().max(1.0) as u64;
            self.count(|s| s.retry_after_violations += 1);
            let response =
                self.secondary(403, retry, SecondaryCause::RetryAfterViolation, &label, &request_id, instant);
            let rate = lock(&self.limits).charge(caller, resource, 1, &options, now);
            return self.finish(response, rate, &request_id, &options, Duration::ZERO, hold).await;
        }
        if in_flight > options.max_concurrency {
            self.count(|s| s.concurrency_violations += 1);
            self.block(caller, &options, instant, key);
            let response = self.secondary(
                403,
                options.retry_after_secs,
                SecondaryCause::Concurrency,
                &label,
                &request_id,
                instant,
            );
            let rate = lock(&self.limits).charge(caller, resource, 1, &options, now);
            return self.finish(response, rate, &request_id, &options, Duration::ZERO, hold).await;
        }

        // GraphQL: parse, validate and cost the query before the budget is touched.
        let prepared = (route == Route::Graphql).then(|| graphql::prepare(&request.body));
        let cost = prepared.as_ref().map_or(1, graphql::Prepared::points);

        // Primary budget (a GraphQL query costing more than what remains is refused too).
        let snapshot = lock(&self.limits).roll(caller, resource, &options, now);
        if snapshot.remaining() == 0 || (resource == Resource::Graphql && cost > snapshot.remaining()) {
            self.count(|s| s.primary_violations += 1);
            let response = if resource == Resource::Graphql {
                graphql::rate_limited(&limit_subject(caller, &options))
            } else {
                primary_exceeded(caller, &options)
            };
            return self.finish(response, snapshot, &request_id, &options, Duration::ZERO, hold).await;
        }

        // Faults, then the handler.
        let plan: FaultPlan = lock(&self.dice).roll(&options);
        let charged = lock(&self.limits).charge(caller, resource, cost, &options, now);
        if let Some(prepared) = &prepared {
            self.count(|s| {
                s.graphql_points += u64::from(cost);
                s.graphql_requests += prepared.requests();
            });
        }
        if plan.reset {
            self.count(|s| s.faults_reset += 1);
            tokio::time::sleep(options.latency).await;
            return Reply { response: Response::empty(0), delivery: Delivery::Reset, hold };
        }
        let mut response = if let Some(status) = plan.secondary {
            self.count(|s| s.faults_secondary += 1);
            self.block(caller, &options, instant, key);
            self.secondary(status, options.retry_after_secs, SecondaryCause::Injected, &label, &request_id, instant)
        } else if let Some(status) = plan.five_xx {
            self.count(|s| s.faults_5xx += 1);
            server_error(status)
        } else {
            self.dispatch(&route, &request, &charged, prepared, &request_id, &options)
        };
        if request.method == "GET" && response.status == 200 {
            let etag = add_etag(&mut response);
            if if_none_match(request.header("if-none-match"), &etag) {
                lock(&self.limits).refund(caller, resource, cost, &charged);
                self.count(|s| s.not_modified += 1);
                let mut not_modified = Response::empty(304);
                for name in ["etag", "cache-control", "vary"] {
                    if let Some(v) = response.header(name) {
                        not_modified.set_header(name, v.to_string());
                    }
                }
                response = not_modified;
            }
        }
        let mut delivery = Delivery::Full;
        if plan.malformed && response.status == 200 && !response.body.is_empty() {
            self.count(|s| s.faults_malformed += 1);
            let keep = response.body.len() / 2;
            response.body.truncate(keep);
            response.body.extend_from_slice(b"<!-- fakehub: malformed -->");
            response.remove_header("etag");
        }
        if plan.truncate && response.body.len() > 1 {
            self.count(|s| s.faults_truncate += 1);
            delivery = Delivery::Truncate(response.body.len() / 2);
        }
        let delay = if plan.slow { options.slow_delay } else { Duration::ZERO };
        let rate = lock(&self.limits).peek(caller, resource, &options, now_epoch());
        let mut reply = self.finish(response, rate, &request_id, &options, delay, hold).await;
        reply.delivery = delivery;
        reply
    }

    fn dispatch(
        &self,
        route: &Route,
        request: &Request,
        charged: &RateSnapshot,
        prepared: Option<graphql::Prepared>,
        request_id: &str,
        options: &Options,
    ) -> Response {
        if let Some(prepared) = prepared {
            return match prepared {
                graphql::Prepared::Refused(response, asked) => {
                    self.count(|s| s.graphql_nodes += asked);
                    response
                }
                graphql::Prepared::Ready(plan) => {
                    let (response, outcome) = graphql::execute(
                        &self.universe,
                        &plan,
                        charged,
                        options.graphql_timeout_nodes,
                        request_id,
                        !options.legacy_ids_only,
                    );
                    self.count(|s| {
                        s.graphql_nodes += plan.asked;
                        s.graphql_queries += 1;
                        s.graphql_returned += outcome.returned;
                        s.graphql_timeouts += u64::from(outcome.timed_out);
                    });
                    response
                }
            };
        }
        let link_base = options.link_base.as_deref().unwrap_or(&self.base_url);
        let ctx = Ctx {
            universe: &self.universe,
            base: &self.base_url,
            link_base,
            ignore_since: options.ignore_since,
            codeload: &self.codeload_url,
            tree_entry_limit: options.tree_entry_limit,
            big_archives: &options.big_archives,
        };
        if let Route::Deep { repo, part } = route {
            let (response, items) = rest_deep::handle(repo, part, request, &ctx);
            if items > 0 {
                self.count(|s| *s.items_served.entry(part.kind().to_string()).or_default() += items as u64);
            }
            return response;
        }
        routes::handle(route, request, &ctx)
    }

    fn count(&self, f: impl FnOnce(&mut Stats)) {
        f(&mut lock(&self.stats));
    }

    fn enter(self: &Arc<Self>, caller: Caller, label: &str) -> (InFlight, usize) {
        let (mine, total) = lock(&self.limits).enter(caller);
        let mut stats = lock(&self.stats);
        stats.max_in_flight = stats.max_in_flight.max(total);
        let max = stats.max_in_flight_by_token.entry(label.to_string()).or_default();
        *max = (*max).max(mine);
        (InFlight { app: self.clone(), caller }, mine)
    }

    fn block(&self, caller: Caller, options: &Options, now: Instant, key: u64) {
        let until = now.checked_add(Duration::from_secs(options.retry_after_secs)).unwrap_or(now);
        lock(&self.limits).block(caller, now, until, key);
    }

    /// A secondary-limit response (403 or 429) to a request received at `received`, logged in the stats.
    fn secondary(
        &self,
        status: u16,
        retry_after: u64,
        cause: SecondaryCause,
        label: &str,
        request_id: &str,
        received: Instant,
    ) -> Response {
        let message = format!(
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. \
             If you reach out to GitHub Support for help, please include the request ID {request_id}."
        );
        let mut response = Response::json(status, &json!({"message": message, "documentation_url": SECONDARY_DOC}));
        response.set_header("retry-after", retry_after.to_string());
        let at = received.saturating_duration_since(self.started);
        let mut stats = lock(&self.stats);
        stats.secondary_sent += 1;
        if stats.secondary_responses.len() < SECONDARY_LOG_CAP {
            stats.secondary_responses.push(SecondaryResponse {
                token: label.to_string(),
                status,
                retry_after,
                cause,
                at,
            });
        }
        response
    }

    /// `POST /app/installations/{installation}/access_tokens`: verify the app
    /// JWT, then issue an installation token.
    fn access_token(
        &self,
        installation: &str,
        request: &Request,
        credential: Result<Option<&str>, ()>,
        options: &Options,
        now: f64,
    ) -> Response {
        *lock(&self.stats).by_token.entry("app".into()).or_default() += 1;
        let app = options.app.as_ref();
        let verdict = match credential {
            Ok(Some(token)) => {
                jwt::verify(token, app.map(|a| a.app_id), app.map_or(&[][..], |a| a.public_key_der.as_slice()), now)
            }
            _ => Err(jwt::JwtError::Undecodable),
        };
        if let Err(error) = verdict {
            self.count(|s| s.app_jwt_rejected += 1);
            return Response::json(
                401,
                &json!({"message": error.message(), "documentation_url": REST_DOC, "status": "401"}),
            );
        }
        let Some(app) = app.filter(|a| installation.parse::<u64>().ok() == Some(a.installation_id)) else {
            return routes::not_found(ACCESS_TOKEN_DOC);
        };
        if !request.body.is_empty() && serde_json::from_slice::<serde_json::Value>(&request.body).is_err() {
            return Response::json(
                400,
                &json!({"message": "Problems parsing JSON", "documentation_url": ACCESS_TOKEN_DOC, "status": "400"}),
            );
        }
        let expires = (now + app.token_ttl.as_secs_f64()).ceil() as u64;
        let token: String = format!("ghs_{}", (0..36).map(|_| fastrand::alphanumeric()).collect::<String>());
        lock(&self.limits).issue_installation_token(token.clone(), expires);
        self.count(|s| s.app_tokens_issued += 1);
        Response::json(
            201,
            &json!({
                "token": token,
                "expires_at": Timestamp(expires as i64).to_string(),
                "permissions": {"metadata": "read", "contents": "read"},
                "repository_selection": "all"
            }),
        )
    }

    /// Common headers, stats by status, latency.
    async fn finish(
        &self,
        mut response: Response,
        rate: RateSnapshot,
        request_id: &str,
        options: &Options,
        extra_delay: Duration,
        hold: Option<InFlight>,
    ) -> Reply {
        self.decorate(&mut response, &rate, request_id);
        *lock(&self.stats).by_status.entry(response.status).or_default() += 1;
        let delay = options.latency + extra_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        Reply { response, delivery: Delivery::Full, hold }
    }

    fn decorate(&self, response: &mut Response, rate: &RateSnapshot, request_id: &str) {
        response.set_header("date", http_date(now_epoch() as i64));
        response.set_header("server", "fakehub");
        response.set_header("x-github-api-version-selected", "2022-11-28");
        response.set_header("x-ratelimit-limit", rate.limit.to_string());
        response.set_header("x-ratelimit-remaining", rate.remaining().to_string());
        response.set_header("x-ratelimit-used", rate.used.to_string());
        response.set_header("x-ratelimit-reset", rate.reset.to_string());
        response.set_header("x-ratelimit-resource", rate.resource.as_str());
        response.set_header("x-github-request-id", request_id);
    }
}

/// `Authorization: Bearer X` / `token X`; Ok(None) when absent, Err when unusable.
fn bearer_token(request: &Request) -> Result<Option<&str>, ()> {
    let Some(value) = request.header("authorization") else { return Ok(None) };
    let (scheme, token) = value.trim().split_once(' ').ok_or(())?;
    if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") {
        let token = token.trim();
        if token.is_empty() { Err(()) } else { Ok(Some(token)) }
    } else {
        Err(())
    }
}

fn bad_credentials() -> Response {
    Response::json(401, &json!({"message": "Bad credentials", "documentation_url": REST_DOC, "status": "401"}))
}

/// Whom a primary-limit message names: `user ID 2` (token i is user i + 1),
/// `installation ID 7`.
fn limit_subject(caller: Caller, options: &Options) -> String {
    match caller {
        Caller::Anonymous => "user ID 0".to_string(),
        Caller::Token(i) => format!("user ID {}", i + 1),
        Caller::Installation(_) => {
            format!("installation ID {}", options.app.as_ref().map_or(0, |a| a.installation_id))
        }
    }
}

fn primary_exceeded(caller: Caller, options: &Options) -> Response {
    let message = match caller {
        Caller::Anonymous => "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)".to_string(),
        _ => format!("API rate limit exceeded for {}.", limit_subject(caller, options)),
    };
    Response::json(403, &json!({"message": message, "documentation_url": PRIMARY_DOC}))
}

fn server_error(status: u16) -> Response {
    let message = match status {
        502 => "Server Error",
        503 => "Service Unavailable",
        _ => "Server Error",
    };
    Response::json(status, &json!({"message": message}))
}

/// Two 64-bit FNV-1a hashes (starting from `basis_a` and `basis_b`) in one
/// pass: the two multiply chains overlap, which halves the time on big pages.
fn fnv1a_pair(bytes: &[u8], basis_a: u64, basis_b: u64) -> (u64, u64) {
    const PRIME: u64 = 0x0000_0100_0000_01B3;
    bytes.iter().fold((basis_a, basis_b), |(a, b), &byte| {
        ((a ^ u64::from(byte)).wrapping_mul(PRIME), (b ^ u64::from(byte)).wrapping_mul(PRIME))
    })
}

/// Set `etag` (and GitHub's caching headers) from the body; returns the etag.
fn add_etag(response: &mut Response) -> String {
    let (a, b) = fnv1a_pair(&response.body, 0xCBF2_9CE4_8422_2325, 0x6C62_272E_07BB_0142);
    let etag = format!("W/\"{a:016x}{b:016x}\"");
    response.set_header("etag", etag.clone());
    response.set_header("cache-control", "private, max-age=60, s-maxage=60");
    response.set_header("vary", "Accept, Authorization, Cookie, X-GitHub-OTP, Accept-Encoding");
    etag
}

/// Weak comparison of `If-None-Match` against an etag.
fn if_none_match(header: Option<&str>, etag: &str) -> bool {
    let Some(header) = header else { return false };
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header.split(',').any(|candidate| candidate.trim() == "*" || bare(candidate) == bare(etag))
}

/// Identifies a request for retry-after checks: method, path, query and body.
fn request_key(request: &crate::http::Request) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (&request.method, &request.path, &request.query, &request.body).hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_hashes_are_fnv1a() {
        let one = |bytes: &[u8], basis: u64| {
            bytes.iter().fold(basis, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3))
        };
        let body = b"{\"id\":1}";
        assert_eq!(fnv1a_pair(body, 1, 2), (one(body, 1), one(body, 2)));
        assert_eq!(fnv1a_pair(b"", 0xCBF2_9CE4_8422_2325, 3).0, 0xCBF2_9CE4_8422_2325);
    }

    #[test]
    fn etag_matching() {
        assert!(if_none_match(Some("W/\"abc\""), "W/\"abc\""));
        assert!(if_none_match(Some("\"abc\""), "W/\"abc\""));
        assert!(if_none_match(Some("\"x\", W/\"abc\""), "W/\"abc\""));
        assert!(if_none_match(Some("*"), "W/\"abc\""));
        assert!(!if_none_match(Some("W/\"abd\""), "W/\"abc\""));
        assert!(!if_none_match(None, "W/\"abc\""));
    }
}
