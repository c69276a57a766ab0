//! The request path: budget lease, concurrency permit, authorization, send, read rate-limit
//! headers, classify, retry, record. Every GitHub request of octoshard goes through
//! [`GitHub::execute`].

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, IF_NONE_MATCH};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;

use super::budget::{Blocked, BudgetBook, WaitReason};
use super::credentials::{AppCredential, Auth, Secret};
use super::ratelimit::RateLimit;
use super::retry::{Verdict, backoff, classify};
use super::{ClientConfig, Credential, GithubError, Policy, RequestKind, RequestRecord};

/// Retries of connection errors while the API has never answered this process: a host that never
/// did is most likely a wrong URL, so we give up in seconds instead of backing off for minutes.
const RETRIES_BEFORE_FIRST_ANSWER: u32 = 2;

/// An installation token is renewed when less than this share of its life is left (GitHub's
/// tokens live an hour: renewed with 12 minutes to go).
const APP_TOKEN_RENEW_SHARE: f64 = 0.2;

/// A GitHub client that spends its credentials' budgets carefully. Share it behind an `Arc`: all
/// crawl tasks of a process use one client, so they see one budget book and one concurrency cap.
pub struct GitHub {
    http: reqwest::Client,
    /// For the download host: no API headers, no credential, no total timeout (archives are big).
    downloads: reqwest::Client,
    api_url: String,
    graphql_url: String,
    credentials: Vec<Slot>,
    book: BudgetBook,
    policy: Policy,
    /// The concurrency cap (see [`Policy::max_concurrency`]).
    permits: Semaphore,
    answered: AtomicBool,
    /// When a budget wait was last logged (ms since start), to log waits once, not per task.
    last_wait_log: AtomicU64,
    /// Attempts sent so far, every kind and retry included.
    sent: AtomicU64,
    started: Instant,
}

/// A credential and, for a GitHub App, its current installation token.
struct Slot {
    credential: Credential,
    installation: tokio::sync::Mutex<Option<InstallationToken>>,
}

struct InstallationToken {
    token: Secret,
    renew_at: Instant,
}

/// One HTTP request to make.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// GET or POST.
    pub method: Method,
    /// Absolute URL under the API URL.
    pub url: &'a str,
    /// What it is for.
    pub kind: RequestKind,
    /// A stored ETag to send as `If-None-Match`.
    pub etag: Option<&'a str>,
    /// A JSON body.
    pub body: Option<Vec<u8>>,
}

impl<'a> Request<'a> {
    /// A GET request.
    pub fn get(url: &'a str, kind: RequestKind) -> Request<'a> {
        Request { method: Method::GET, url, kind, etag: None, body: None }
    }
}

/// A response the caller should look at, with the accounting of every attempt it took.
#[derive(Debug)]
pub struct ApiResponse {
    /// The URL requested.
    pub url: String,
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes (empty for 204/304).
    pub body: Vec<u8>,
    /// One record per attempt, the last one being this response.
    pub records: Vec<RequestRecord>,
    /// Index of the credential that got this response.
    pub(crate) credential: usize,
}

impl ApiResponse {
    /// The body as JSON, with the URL in the error.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, GithubError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            super::ledger::spill(self.records.clone());
            GithubError::Unexpected { url: self.url.clone(), reason: format!("invalid JSON body ({e})") }
        })
    }

    /// Turns an answer the caller cannot use into `error`, keeping its attempts in the ledger of
    /// failed requests.
    pub fn fail(self, error: GithubError) -> GithubError {
        super::ledger::spill(self.records);
        error
    }

    /// The `rel="next"` link, if any.
    pub fn next_link(&self) -> Option<String> {
        self.headers.get("link").and_then(|v| v.to_str().ok()).and_then(super::link::next_link)
    }

    /// The response's ETag, if any.
    pub fn etag(&self) -> Option<String> {
        self.headers.get("etag").and_then(|v| v.to_str().ok()).map(str::to_string)
    }
}

impl GitHub {
    /// Builds the client; fails only on an unusable API URL or an empty credential list.
    pub fn new(config: ClientConfig) -> Result<GitHub, GithubError> {
        let api_url = config.api_url.trim_end_matches('/').to_string();
        check_base_url("GITHUB_API_URL", &config.api_url)?;
        let graphql_url = config.graphql_url.unwrap_or_else(|| format!("{api_url}/graphql"));
        check_base_url("GITHUB_GRAPHQL_URL", &graphql_url)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/vnd.github+json"));
        headers.insert("x-github-api-version", HeaderValue::from_static("2022-11-28"));
        // Both clients: our user agent and a bounded connect; the download host's has no API
        // headers, no total timeout (archives are big) and follows its own redirects.
        let builder = || {
            reqwest::Client::builder()
                .user_agent(concat!("octoshard/", env!("CARGO_PKG_VERSION")))
                .connect_timeout(config.policy.timeout.min(Duration::from_secs(10)))
        };
        let unusable = |e: reqwest::Error| GithubError::InvalidUrl {
            variable: "GITHUB_API_URL",
            url: api_url.clone(),
            reason: e.to_string(),
        };
        let http = builder()
            .default_headers(headers)
            .timeout(config.policy.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(unusable)?;
        let downloads = builder()
            .read_timeout(super::download::read_timeout(config.policy.timeout))
            .redirect(reqwest::redirect::Policy::limited(3))
            .no_gzip()
            .build()
            .map_err(unusable)?;
        let mut credentials = config.credentials;
        if credentials.is_empty() {
            credentials.push(Credential::anonymous());
        }
        Ok(GitHub {
            http,
            downloads,
            api_url,
            graphql_url,
            book: BudgetBook::new(credentials.len(), config.policy.budget.clone()),
            credentials: credentials
                .into_iter()
                .map(|credential| Slot { credential, installation: tokio::sync::Mutex::new(None) })
                .collect(),
            permits: Semaphore::new(config.policy.max_concurrency.max(1)),
            policy: config.policy,
            answered: AtomicBool::new(false),
            last_wait_log: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            started: Instant::now(),
        })
    }

    /// The REST base URL, without a trailing slash.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The GraphQL endpoint.
    pub fn graphql_url(&self) -> &str {
        &self.graphql_url
    }

    /// The labels of the credentials in use.
    pub fn credential_labels(&self) -> Vec<&str> {
        self.credentials.iter().map(|slot| slot.credential.label.as_str()).collect()
    }

    /// True when the only credential is anonymous.
    pub fn is_anonymous(&self) -> bool {
        self.credentials.iter().all(|slot| slot.credential.is_anonymous())
    }

    /// The client for the download host.
    pub(super) fn download_client(&self) -> &reqwest::Client {
        &self.downloads
    }

    /// The retry and budget policy.
    pub(crate) fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Marks a credential's budget on a resource as spent until `reset_epoch`.
    pub(crate) fn book_exhaust(&self, credential: usize, resource: &'static str, reset_epoch: Option<u64>) {
        self.book.exhaust(credential, resource, reset_epoch);
    }

    /// The latest reading of a credential's budget on a resource: `(limit, remaining, reset epoch)`.
    pub fn rate_limit(&self, credential: usize, resource: &str) -> Option<(u64, u64, u64)> {
        self.book.reading(credential, resource)
    }

    /// Requests sent through this client so far (every attempt, retries and App token requests
    /// included): what a caller spent is the difference between two readings.
    pub fn requests_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Sends one attempt, counting it.
    async fn send(&self, builder: reqwest::RequestBuilder) -> Result<(u16, HeaderMap, Vec<u8>), reqwest::Error> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        send(builder).await
    }

    /// Builds an absolute URL from an API path (`/repositories?since=0`).
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.api_url, path_and_query)
    }

    /// Checks that a URL (from a `Link` header) is under the API URL before a token goes there.
    pub fn check_same_origin(&self, url: &str) -> Result<(), GithubError> {
        let under =
            |base: &str| url.strip_prefix(base).is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']));
        if under(&self.api_url) || under(&self.graphql_url) {
            Ok(())
        } else {
            Err(GithubError::ForeignLink { url: url.to_string(), api_url: self.api_url.clone() })
        }
    }

    /// GETs `url` (see [`GitHub::execute`]).
    pub async fn get(&self, url: &str, kind: RequestKind, etag: Option<&str>) -> Result<ApiResponse, GithubError> {
        self.execute(Request { etag, ..Request::get(url, kind) }).await
    }

    /// GETs JSON: like [`GitHub::get`], but a 200 whose body is not the expected JSON (a truncated
    /// or garbled answer) is retried like a server error. `None` for non-200 answers.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        url: &str,
        kind: RequestKind,
        etag: Option<&str>,
    ) -> Result<(ApiResponse, Option<T>), GithubError> {
        let mut earlier = Vec::new();
        let mut failures = 0;
        loop {
            let mut response = match self.get(url, kind, etag).await {
                Ok(response) => response,
                Err(error) => {
                    super::ledger::spill(earlier);
                    return Err(error);
                }
            };
            if response.status != 200 {
                earlier.append(&mut response.records);
                response.records = earlier;
                return Ok((response, None));
            }
            match serde_json::from_slice::<T>(&response.body) {
                Ok(value) => {
                    earlier.append(&mut response.records);
                    response.records = earlier;
                    return Ok((response, Some(value)));
                }
                Err(error) => {
                    failures += 1;
                    if let Some(last) = response.records.last_mut() {
                        last.error = Some(format!("invalid JSON ({error})"));
                    }
                    earlier.append(&mut response.records);
                    if failures > self.policy.max_retries {
                        super::ledger::spill(earlier);
                        return Err(GithubError::Unexpected {
                            url: url.to_string(),
                            reason: format!("invalid JSON body after {failures} attempts ({error})"),
                        });
                    }
                    let wait = backoff(failures, self.policy.backoff_base, self.policy.backoff_cap);
                    tracing::warn!("{url} answered invalid JSON ({error}); retry {failures} in {wait:?}");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Sends a request through the policy: waits for budget, retries what is worth retrying, and
    /// returns every other answer (including 304/404/409/410/422) for the caller to judge.
    pub async fn execute(&self, request: Request<'_>) -> Result<ApiResponse, GithubError> {
        self.check_same_origin(request.url)?;
        let mut records = Vec::new();
        let result = self.attempt(request, &mut records).await;
        if result.is_err() {
            super::ledger::spill(records);
        }
        result
    }

    /// [`GitHub::execute`]'s loop; `records` holds the attempts made so far.
    async fn attempt(
        &self,
        request: Request<'_>,
        records: &mut Vec<RequestRecord>,
    ) -> Result<ApiResponse, GithubError> {
        let url = request.url;
        let mut failures = 0u32;
        let mut waited = Duration::ZERO;
        let resource = request.kind.resource();
        loop {
            let wait_started = Instant::now();
            let lease = self
                .book
                .acquire(resource, |credential, wait, why| self.log_wait(credential, resource, wait, why))
                .await
                .map_err(|Blocked::NoCredentials| GithubError::BadCredentials {
                    url: url.to_string(),
                    label: self.credential_labels().join(", "),
                })?;
            let slot = &self.credentials[lease.credential];
            let authorization = match self.authorization(lease.credential, records).await {
                Ok(value) => value,
                Err(error) => {
                    self.book.cancel(&lease);
                    return Err(error);
                }
            };
            let permit = self.permits.acquire().await.expect("semaphore never closed");
            if self.book.is_blocked(lease.credential) {
                // A secondary limit arrived while this request waited: do not send it now.
                drop(permit);
                self.book.cancel(&lease);
                continue;
            }
            waited += wait_started.elapsed();
            let started_at = crate::time::now_rfc3339();
            let clock = Instant::now();
            let mut builder = self.http.request(request.method.clone(), url);
            if let Some(value) = authorization {
                builder = builder.header(AUTHORIZATION, value);
            }
            if let Some(etag) = request.etag.and_then(|e| HeaderValue::from_str(e).ok()) {
                builder = builder.header(IF_NONE_MATCH, etag);
            }
            if let Some(body) = &request.body {
                builder = builder.header(CONTENT_TYPE, "application/json").body(body.clone());
            }
            let outcome = self.send(builder).await;
            drop(permit);
            let mut record = RequestRecord {
                at: started_at,
                kind: request.kind,
                path: url.strip_prefix(&self.api_url).unwrap_or(url).to_string(),
                status: 0,
                cost: 0,
                latency_ms: clock.elapsed().as_millis() as u64,
                waited_ms: waited.as_millis() as u64,
                attempt: records.iter().filter(|r: &&RequestRecord| r.kind == request.kind).count() as u32 + 1,
                credential: slot.credential.label.clone(),
                conditional: request.etag.is_some(),
                error: None,
            };
            waited = Duration::ZERO;
            let (status, headers, body) = match outcome {
                Ok(answer) => answer,
                Err(error) => {
                    self.book.release(&lease, None, false);
                    let reason = transport_reason(&error);
                    record.error = Some(reason.clone());
                    let attempt = record.attempt;
                    records.push(record);
                    failures += 1;
                    let never_answered = !self.answered.load(Ordering::Relaxed) && error.is_connect();
                    let allowed = if never_answered {
                        self.policy.max_retries.min(RETRIES_BEFORE_FIRST_ANSWER)
                    } else {
                        self.policy.max_retries
                    };
                    if failures > allowed {
                        return Err(GithubError::Unreachable { url: url.to_string(), attempts: attempt, reason });
                    }
                    let wait = backoff(failures, self.policy.backoff_base, self.policy.backoff_cap);
                    tracing::warn!("{} failed ({reason}); retry {failures} in {wait:?}", record_path(records));
                    tokio::time::sleep(wait).await;
                    waited += wait;
                    continue;
                }
            };
            self.answered.store(true, Ordering::Relaxed);
            record.status = status;
            let limit = RateLimit::from_headers(&headers);
            if status != 304 && limit.is_some() {
                record.cost = 1;
            }
            self.book.release(&lease, limit.as_ref(), true);
            tracing::debug!(status, latency_ms = record.latency_ms, credential = %record.credential, "{} {}", request.method, record.path);
            let verdict = classify(status, &headers, &body, self.policy.secondary_wait);
            if !matches!(verdict, Verdict::SecondaryLimit { .. }) {
                self.book.clear_secondary(lease.credential);
            }
            match verdict {
                Verdict::Done => {
                    records.push(record);
                    return Ok(ApiResponse {
                        url: url.to_string(),
                        status,
                        headers,
                        body,
                        records: std::mem::take(records),
                        credential: lease.credential,
                    });
                }
                Verdict::BadCredentials => {
                    record.error = Some("401 Bad credentials".into());
                    records.push(record);
                    if self.refused(lease.credential).await {
                        continue;
                    }
                    return Err(GithubError::BadCredentials {
                        url: url.to_string(),
                        label: slot.credential.label.clone(),
                    });
                }
                Verdict::Forbidden => {
                    return Err(GithubError::Forbidden { url: url.to_string(), message: github_message(&body) });
                }
                Verdict::PrimaryLimit => {
                    record.error = Some("primary rate limit".into());
                    records.push(record);
                    // The headers say remaining = 0 (or we mark it so): the next lease waits for the reset.
                    self.book.exhaust(lease.credential, resource, limit.map(|l| l.reset));
                }
                Verdict::SecondaryLimit { wait } => {
                    record.error = Some("secondary rate limit".into());
                    records.push(record);
                    let policy = &self.policy;
                    let wait = self.book.block(lease.credential, wait, |hits| {
                        backoff(hits, policy.backoff_base, policy.backoff_cap).saturating_sub(policy.backoff_base / 2)
                    });
                    tracing::warn!(
                        "secondary rate limit for {} on {}; {} waits {wait:?}",
                        slot.credential.label,
                        record_path(records),
                        slot.credential.label
                    );
                }
                Verdict::Transient => {
                    record.error = Some(format!("HTTP {status}"));
                    let attempt = record.attempt;
                    records.push(record);
                    failures += 1;
                    if failures > self.policy.max_retries {
                        return Err(GithubError::ServerError { url: url.to_string(), status, attempts: attempt });
                    }
                    let wait = backoff(failures, self.policy.backoff_base, self.policy.backoff_cap);
                    tracing::warn!("{} answered {status}; retry {failures} in {wait:?}", record_path(records));
                    tokio::time::sleep(wait).await;
                    waited += wait;
                }
            }
        }
    }

    /// Handles a 401: a GitHub App gets one fresh installation token; any other credential is
    /// set aside. True when the request should be tried again (with this or another credential).
    async fn refused(&self, credential: usize) -> bool {
        let slot = &self.credentials[credential];
        if let Auth::App(_) = slot.credential.auth {
            let mut cached = slot.installation.lock().await;
            if cached.take().is_some() {
                return true;
            }
        }
        self.book.disable(credential);
        let others = self.credentials.len() > 1;
        tracing::error!(
            "GitHub refused credential {} (401 Bad credentials){}",
            slot.credential.label,
            if others { "; continuing with the others" } else { "" }
        );
        others && self.book.any_enabled()
    }

    /// The `Authorization` header for a credential (fetching an installation token if needed).
    async fn authorization(
        &self,
        credential: usize,
        records: &mut Vec<RequestRecord>,
    ) -> Result<Option<HeaderValue>, GithubError> {
        let slot = &self.credentials[credential];
        let token = match &slot.credential.auth {
            Auth::Anonymous => return Ok(None),
            Auth::Token(token) => token.clone(),
            Auth::App(app) => {
                let mut cached = slot.installation.lock().await;
                match cached.as_ref() {
                    Some(current) if Instant::now() < current.renew_at => current.token.clone(),
                    _ => {
                        let fresh = self.installation_token(app, &slot.credential.label, records).await?;
                        let token = fresh.token.clone();
                        *cached = Some(fresh);
                        token
                    }
                }
            }
        };
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
            GithubError::BadCredentials { url: self.api_url.clone(), label: slot.credential.label.clone() }
        })?;
        value.set_sensitive(true);
        Ok(Some(value))
    }

    /// Exchanges an app JWT for an installation token (not charged to any budget), with the same
    /// retry rules as every other request.
    async fn installation_token(
        &self,
        app: &AppCredential,
        label: &str,
        records: &mut Vec<RequestRecord>,
    ) -> Result<InstallationToken, GithubError> {
        let url = format!("{}/app/installations/{}/access_tokens", self.api_url, app.installation_id);
        let mut failures = 0;
        loop {
            let now_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
            let mut jwt = HeaderValue::from_str(&format!("Bearer {}", app.key.jwt(app.app_id, now_epoch)))
                .expect("a JWT is a valid header value");
            jwt.set_sensitive(true);
            let started_at = crate::time::now_rfc3339();
            let clock = Instant::now();
            let permit = self.permits.acquire().await.expect("semaphore never closed");
            let outcome = self.send(self.http.post(&url).header(AUTHORIZATION, jwt)).await;
            drop(permit);
            let mut record = RequestRecord {
                at: started_at,
                kind: RequestKind::AppToken,
                path: url.strip_prefix(&self.api_url).unwrap_or(&url).to_string(),
                status: 0,
                cost: 0,
                latency_ms: clock.elapsed().as_millis() as u64,
                waited_ms: 0,
                attempt: failures + 1,
                credential: label.to_string(),
                conditional: false,
                error: None,
            };
            let retry = match outcome {
                Ok((status, _, body)) => {
                    record.status = status;
                    self.answered.store(true, Ordering::Relaxed);
                    match status {
                        200 | 201 => {
                            records.push(record);
                            return parse_installation_token(&url, &body);
                        }
                        500..=599 => format!("HTTP {status}"),
                        _ => {
                            records.push(record);
                            return Err(GithubError::AppRefused {
                                url,
                                label: label.to_string(),
                                status,
                                message: github_message(&body),
                            });
                        }
                    }
                }
                Err(error) => transport_reason(&error),
            };
            record.error = Some(retry.clone());
            records.push(record);
            failures += 1;
            if failures > self.policy.max_retries {
                return Err(GithubError::Unreachable { url, attempts: failures, reason: retry });
            }
            tokio::time::sleep(backoff(failures, self.policy.backoff_base, self.policy.backoff_cap)).await;
        }
    }

    /// Logs a budget wait once (not once per waiting task), at info level when it is long enough
    /// for a person to wonder why nothing moves.
    fn log_wait(&self, credential: usize, resource: &str, wait: Duration, why: WaitReason) {
        if wait < LONG_WAIT || matches!(why, WaitReason::InFlight) {
            tracing::trace!(?why, ?wait, "waiting for budget");
            return;
        }
        let now = self.started.elapsed().as_millis() as u64;
        let last = self.last_wait_log.load(Ordering::Relaxed);
        if last != 0 && now < last + 10_000 {
            return;
        }
        self.last_wait_log.store(now.max(1), Ordering::Relaxed);
        let label = &self.credentials[credential].credential.label;
        let wait_text = crate::time::format_duration(wait.max(Duration::from_secs(1)));
        match why {
            WaitReason::Secondary => {
                tracing::info!("secondary rate limit: {label} waits {wait_text} before its next request")
            }
            WaitReason::Pacing => tracing::info!(
                "pacing: the {resource} budget of {label} is spread until its reset; next request in {wait_text}"
            ),
            _ => tracing::info!(
                "rate limit: the {resource} budget of every credential is spent; sleeping {wait_text} until {label}'s resets"
            ),
        }
    }
}

/// Waits at least this long are logged at the default level, with their reason and length.
const LONG_WAIT: Duration = Duration::from_secs(3);

fn check_base_url(variable: &'static str, url: &str) -> Result<(), GithubError> {
    let invalid = |reason: &str| GithubError::InvalidUrl { variable, url: url.to_string(), reason: reason.to_string() };
    let parsed = reqwest::Url::parse(url.trim_end_matches('/')).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid("expected an http(s) URL such as https://api.github.com"));
    }
    if parsed.query().is_some()
        || parsed.fragment().is_some()
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(invalid("the URL must not carry credentials, a query or a fragment"));
    }
    Ok(())
}

/// Sends and reads the whole body (a body cut short is an error, retried like any transport error).
async fn send(builder: reqwest::RequestBuilder) -> Result<(u16, HeaderMap, Vec<u8>), reqwest::Error> {
    let response = builder.send().await?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = if status == StatusCode::NOT_MODIFIED || status == StatusCode::NO_CONTENT {
        Vec::new()
    } else {
        response.bytes().await?.to_vec()
    };
    Ok((status.as_u16(), headers, body))
}

fn parse_installation_token(url: &str, body: &[u8]) -> Result<InstallationToken, GithubError> {
    #[derive(serde::Deserialize)]
    struct Answer {
        token: String,
        expires_at: String,
    }
    let answer: Answer = serde_json::from_slice(body).map_err(|e| GithubError::Unexpected {
        url: url.to_string(),
        reason: format!("invalid installation token answer ({e})"),
    })?;
    let expires = humantime::parse_rfc3339_weak(&answer.expires_at).map_err(|e| GithubError::Unexpected {
        url: url.to_string(),
        reason: format!("invalid expires_at `{}` ({e})", answer.expires_at),
    })?;
    let life = expires.duration_since(SystemTime::now()).unwrap_or_default();
    let renew_at = Instant::now() + life.mul_f64(1.0 - APP_TOKEN_RENEW_SHARE);
    Ok(InstallationToken { token: Secret::new(answer.token), renew_at })
}

fn record_path(records: &[RequestRecord]) -> &str {
    records.last().map(|r| r.path.as_str()).unwrap_or("request")
}

/// The error text of a reqwest failure without the URL (callers add it once).
pub(super) fn transport_reason(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "response body interrupted"
    } else {
        "request failed"
    };
    let mut detail = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        detail = cause.to_string();
        source = cause.source();
    }
    if detail.is_empty() { kind.to_string() } else { format!("{kind}: {detail}") }
}

/// GitHub's `message` field, or the start of the body.
pub fn github_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}
