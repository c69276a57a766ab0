//! The request path: permit, budget check, send, read rate-limit headers, classify, retry, record.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime};

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, IF_NONE_MATCH};
use tokio::sync::Semaphore;

use super::ratelimit::RateLimit;
use super::retry::{Verdict, backoff, classify};
use super::{ClientConfig, Credential, GithubError, Policy, RequestKind, RequestRecord};

/// A GitHub client that spends one budget carefully. Cheap to share behind an `Arc`: every crawl
/// task of a process uses the same one, so they see one budget and one concurrency cap.
pub struct GitHub {
    http: reqwest::Client,
    api_url: String,
    credential: Credential,
    policy: Policy,
    /// Latest rate-limit reading per resource (`core`, `search`, `graphql`).
    limits: Mutex<HashMap<String, RateLimit>>,
    /// The concurrency cap (see [`Policy::max_concurrency`]).
    permits: Semaphore,
    /// Whether the API ever answered: a host that never did is most likely a wrong URL, so
    /// connection errors give up after [`RETRIES_BEFORE_FIRST_ANSWER`] instead of backing off for minutes.
    answered: AtomicBool,
}

/// Retries of connection errors while the API has never answered this process.
const RETRIES_BEFORE_FIRST_ANSWER: u32 = 2;

/// A response the caller should look at, with the accounting of every attempt it took.
#[derive(Debug)]
pub struct ApiResponse {
    /// The final URL requested.
    pub url: String,
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes (empty for 204/304).
    pub body: Vec<u8>,
    /// One record per attempt, the last one being this response.
    pub records: Vec<RequestRecord>,
}

impl ApiResponse {
    /// The body as JSON, with the URL in the error.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, GithubError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| GithubError::Unexpected { url: self.url.clone(), reason: format!("invalid JSON body ({e})") })
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
    /// Builds the client; fails only on an unusable API URL.
    pub fn new(config: ClientConfig) -> Result<GitHub, GithubError> {
        let api_url = config.api_url.trim_end_matches('/').to_string();
        let invalid =
            |reason: &str| GithubError::InvalidUrl { url: config.api_url.clone(), reason: reason.to_string() };
        let parsed = reqwest::Url::parse(&api_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(invalid("expected an http(s) URL such as https://api.github.com"));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(invalid("the API URL must not carry a query or fragment"));
        }
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/vnd.github+json"));
        headers.insert("x-github-api-version", HeaderValue::from_static("2022-11-28"));
        let http = reqwest::Client::builder()
            .user_agent(concat!("octoshard/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .timeout(config.policy.timeout)
            .connect_timeout(config.policy.timeout.min(std::time::Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| invalid(&e.to_string()))?;
        Ok(GitHub {
            http,
            api_url,
            credential: config.credential,
            permits: Semaphore::new(config.policy.max_concurrency.max(1)),
            policy: config.policy,
            limits: Mutex::new(HashMap::new()),
            answered: AtomicBool::new(false),
        })
    }

    /// The REST base URL, without a trailing slash.
    pub fn api_url(&self) -> &str {
        &self.api_url
    }

    /// The label of the credential in use.
    pub fn credential_label(&self) -> &str {
        &self.credential.label
    }

    /// The latest rate-limit reading for a resource, if one was seen.
    pub fn rate_limit(&self, resource: &str) -> Option<RateLimit> {
        self.limits.lock().expect("rate-limit lock").get(resource).cloned()
    }

    /// Builds an absolute URL from an API path (`/repositories?since=0`).
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{}{}", self.api_url, path_and_query)
    }

    /// Checks that a URL (from a `Link` header) is under the API URL before the token goes there.
    pub fn check_same_origin(&self, url: &str) -> Result<(), GithubError> {
        let under = url.strip_prefix(&self.api_url).is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'));
        if under {
            Ok(())
        } else {
            Err(GithubError::ForeignLink { url: url.to_string(), api_url: self.api_url.clone() })
        }
    }

    /// GETs `url` through the policy: waits for budget, retries what is worth retrying, and
    /// returns every other answer (including 404/409/410/422) for the caller to judge.
    pub async fn get(&self, url: &str, kind: RequestKind, etag: Option<&str>) -> Result<ApiResponse, GithubError> {
        self.check_same_origin(url)?;
        let mut records = Vec::new();
        let mut failures = 0u32;
        let mut secondary_hits = 0u32;
        loop {
            self.wait_for_budget(kind.resource()).await;
            let permit = self.permits.acquire().await.expect("semaphore never closed");
            let started_at = crate::time::now_rfc3339();
            let clock = Instant::now();
            let mut request = self.http.get(url);
            if let Some(token) = &self.credential.token {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                    GithubError::BadCredentials { url: url.to_string(), label: self.credential.label.clone() }
                })?;
                value.set_sensitive(true);
                request = request.header(AUTHORIZATION, value);
            }
            if let Some(etag) = etag.and_then(|e| HeaderValue::from_str(e).ok()) {
                request = request.header(IF_NONE_MATCH, etag);
            }
            let outcome = match request.send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    response.bytes().await.map(|body| (status, headers, body.to_vec()))
                }
                Err(error) => Err(error),
            };
            drop(permit);
            let attempt = records.len() as u32 + 1;
            let mut record = RequestRecord {
                at: started_at,
                kind,
                path: url.strip_prefix(&self.api_url).unwrap_or(url).to_string(),
                status: 0,
                cost: 0,
                latency_ms: clock.elapsed().as_millis() as u64,
                attempt,
                credential: self.credential.label.clone(),
                error: None,
            };
            let (status, headers, body) = match outcome {
                Ok(answer) => answer,
                Err(error) => {
                    let reason = transport_reason(&error);
                    record.error = Some(reason.clone());
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
                    tracing::warn!("{} failed ({reason}); retry {failures} in {wait:?}", record_path(&records));
                    tokio::time::sleep(wait).await;
                    continue;
                }
            };
            record.status = status;
            self.answered.store(true, Ordering::Relaxed);
            let limit = RateLimit::from_headers(&headers);
            if status != 304 && limit.is_some() {
                record.cost = 1;
            }
            if let Some(limit) = limit {
                self.limits.lock().expect("rate-limit lock").insert(limit.resource.clone(), limit);
            }
            tracing::debug!(status, latency_ms = record.latency_ms, "GET {}", record.path);
            match classify(status, &headers, &body, self.policy.secondary_wait) {
                Verdict::Done => {
                    records.push(record);
                    return Ok(ApiResponse { url: url.to_string(), status, headers, body, records });
                }
                Verdict::BadCredentials => {
                    return Err(GithubError::BadCredentials {
                        url: url.to_string(),
                        label: self.credential.label.clone(),
                    });
                }
                Verdict::Forbidden => {
                    return Err(GithubError::Forbidden { url: url.to_string(), message: github_message(&body) });
                }
                Verdict::PrimaryLimit => {
                    record.error = Some("primary rate limit".into());
                    records.push(record);
                    // The headers now say remaining = 0; the next loop turn sleeps until the reset.
                    self.mark_exhausted(kind.resource());
                }
                Verdict::SecondaryLimit { wait } => {
                    record.error = Some("secondary rate limit".into());
                    records.push(record);
                    secondary_hits += 1;
                    let extra = backoff(secondary_hits, self.policy.backoff_base, self.policy.backoff_cap);
                    let wait = wait + extra.saturating_sub(self.policy.backoff_base);
                    tracing::warn!("secondary rate limit on {}; waiting {wait:?}", record_path(&records));
                    tokio::time::sleep(wait).await;
                }
                Verdict::Transient => {
                    record.error = Some(format!("HTTP {status}"));
                    records.push(record);
                    failures += 1;
                    if failures > self.policy.max_retries {
                        return Err(GithubError::ServerError { url: url.to_string(), status, attempts: attempt });
                    }
                    let wait = backoff(failures, self.policy.backoff_base, self.policy.backoff_cap);
                    tracing::warn!("{} answered {status}; retry {failures} in {wait:?}", record_path(&records));
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Sleeps until the window resets when the last reading says the budget is spent.
    async fn wait_for_budget(&self, resource: &str) {
        let Some(limit) = self.rate_limit(resource) else { return };
        if limit.remaining > 0 {
            return;
        }
        let wait = limit.until_reset(SystemTime::now());
        if wait.is_zero() {
            self.forget(resource);
            return;
        }
        let wait = wait + self.policy.reset_margin;
        tracing::info!(
            "rate limit: the {resource} budget of {} is spent; sleeping {} until it resets",
            self.credential.label,
            crate::time::format_duration(wait.max(std::time::Duration::from_secs(1)))
        );
        tokio::time::sleep(wait).await;
        self.forget(resource);
    }

    fn mark_exhausted(&self, resource: &str) {
        if let Some(limit) = self.limits.lock().expect("rate-limit lock").get_mut(resource) {
            limit.remaining = 0;
        }
    }

    fn forget(&self, resource: &str) {
        let mut limits = self.limits.lock().expect("rate-limit lock");
        if limits.get(resource).is_some_and(|l| l.remaining == 0) {
            limits.remove(resource);
        }
    }
}

fn record_path(records: &[RequestRecord]) -> &str {
    records.last().map(|r| r.path.as_str()).unwrap_or("request")
}

/// The error text of a reqwest failure without the URL (callers add it once).
fn transport_reason(error: &reqwest::Error) -> String {
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
fn github_message(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
}
