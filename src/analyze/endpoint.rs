//! One OpenAI-compatible chat completions endpoint: a request with a timeout, retried after
//! timeouts, connection errors, 429 and 5xx; the answer's text and the tokens it cost (as the
//! endpoint reports in `usage`, else estimated). The key goes into the `Authorization` header
//! and nowhere else.

use std::time::Duration;

use serde_json::{Value, json};

use crate::github::Secret;

/// Where and how to ask a model.
#[derive(Clone, Debug)]
pub struct LlmConfig {
    /// The chat completions URL (`.../v1/chat/completions`), or a base URL it is appended to.
    pub url: String,
    /// The model name sent with each request.
    pub model: String,
    /// The API key (None: no `Authorization` header, for local servers).
    pub key: Option<Secret>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries after a timeout, connection error, 429 or 5xx.
    pub retries: u32,
    /// First retry delay, doubled per retry.
    pub retry_delay: Duration,
    /// The model's context size in tokens: batches are cut to fit.
    pub context_tokens: u64,
    /// Stop sending batches once this many tokens (prompt + completion) are spent.
    pub max_tokens: Option<u64>,
}

impl LlmConfig {
    /// The URL requests go to: the given one if it ends in `/chat/completions`, else that path
    /// appended; an error for anything but an http(s) URL.
    pub fn endpoint(&self) -> Result<reqwest::Url, String> {
        let trimmed = self.url.trim().trim_end_matches('/');
        let full = if trimmed.ends_with("/chat/completions") {
            trimmed.to_string()
        } else {
            format!("{trimmed}/chat/completions")
        };
        let url = reqwest::Url::parse(&full).map_err(|e| format!("--llm-url `{}` is not a URL ({e})", self.url))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(format!("--llm-url `{}` is not an http(s) URL", self.url));
        }
        Ok(url)
    }
}

/// A completion: the text and what it cost.
#[derive(Clone, Debug)]
pub struct Completion {
    /// `choices[0].message.content` (empty when the body has none; the caller's check rejects it).
    pub content: String,
    /// Prompt + completion tokens: `usage.total_tokens` (or the sum of its parts), else estimated.
    pub tokens: u64,
    /// Whether `tokens` came from the endpoint.
    pub reported: bool,
}

/// Why a request gave no completion.
#[derive(Debug)]
pub enum CallError {
    /// Timeouts, connection errors, 429 or 5xx, through every retry.
    Unavailable(String),
    /// An answer no retry changes (401, 404, 400, ...): stop asking.
    Refused(String),
}

/// A client for one endpoint.
pub struct Endpoint {
    http: reqwest::Client,
    url: reqwest::Url,
    config: LlmConfig,
    /// Requests sent, retries included.
    pub requests: u64,
}

impl Endpoint {
    /// A client for `config` (its URL already checked by [`LlmConfig::endpoint`]).
    pub fn new(config: &LlmConfig) -> Result<Endpoint, String> {
        let url = config.endpoint()?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("octoshard/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| format!("cannot build the HTTP client ({e})"))?;
        Ok(Endpoint { http, url, config: config.clone(), requests: 0 })
    }

    /// Asks for a completion of `system` + `user`, with at most `max_completion` tokens of answer.
    pub async fn complete(&mut self, system: &str, user: &str, max_completion: u64) -> Result<Completion, CallError> {
        let body = json!({
            "model": self.config.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": 0,
            "max_tokens": max_completion,
        });
        let mut delay = self.config.retry_delay;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.requests += 1;
            let error = match self.send(&body).await {
                Ok(value) => return Ok(completion(&value, system, user)),
                Err(Attempt::Retry(error)) => error,
                Err(Attempt::Stop(error)) => return Err(CallError::Refused(error)),
            };
            if attempt > self.config.retries {
                return Err(CallError::Unavailable(format!("{error} (after {attempt} attempt(s))")));
            }
            tracing::debug!("LLM request failed ({error}); retrying in {delay:?}");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(60));
        }
    }

    async fn send(&self, body: &Value) -> Result<Value, Attempt> {
        let mut request = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some(key) = &self.config.key {
            request = request.bearer_auth(key.expose());
        }
        let response = request.send().await.map_err(|e| Attempt::Retry(describe(e)))?;
        let status = response.status();
        let text = response.text().await.map_err(|e| Attempt::Retry(describe(e)))?;
        if status.as_u16() == 429 || status.is_server_error() {
            return Err(Attempt::Retry(format!("the endpoint answered {status}")));
        }
        if !status.is_success() {
            let said: String = text.chars().take(200).collect();
            return Err(Attempt::Stop(format!("the endpoint answered {status}: {}", said.trim())));
        }
        // A body that is not JSON is an answer like any other: the caller's check rejects it.
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

enum Attempt {
    Retry(String),
    Stop(String),
}

/// A transport error in a few words (reqwest's chain without the URL, which is the user's own).
fn describe(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "the request timed out".into()
    } else if error.is_connect() {
        "cannot connect to the endpoint".into()
    } else {
        format!("the request failed ({})", error.without_url())
    }
}

/// The text and cost of a chat completions body.
fn completion(value: &Value, system: &str, user: &str) -> Completion {
    let content = value["choices"][0]["message"]["content"].as_str().unwrap_or("").to_string();
    let usage = &value["usage"];
    let reported = usage["total_tokens"].as_u64().or_else(|| {
        let (prompt, answer) = (usage["prompt_tokens"].as_u64(), usage["completion_tokens"].as_u64());
        (prompt.is_some() || answer.is_some()).then(|| prompt.unwrap_or(0) + answer.unwrap_or(0))
    });
    let estimated =
        || super::llm::estimate_tokens(system.chars().count() + user.chars().count() + content.chars().count());
    Completion { tokens: reported.unwrap_or_else(estimated), reported: reported.is_some(), content }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> LlmConfig {
        LlmConfig {
            url: url.into(),
            model: "m".into(),
            key: None,
            timeout: Duration::from_secs(1),
            retries: 0,
            retry_delay: Duration::from_millis(1),
            context_tokens: 1000,
            max_tokens: None,
        }
    }

    #[test]
    fn the_endpoint_url_is_completed_and_checked() {
        assert_eq!(
            config("https://api.example.org/v1").endpoint().unwrap().as_str(),
            "https://api.example.org/v1/chat/completions"
        );
        assert_eq!(
            config("http://127.0.0.1:8080/v1/chat/completions/").endpoint().unwrap().path(),
            "/v1/chat/completions"
        );
        assert!(config("ftp://x/v1").endpoint().unwrap_err().contains("http(s)"));
        assert!(config("not a url").endpoint().unwrap_err().contains("not a URL"));
    }

    #[test]
    fn usage_is_read_or_estimated() {
        let body =
            json!({"choices": [{"message": {"content": "[]"}}], "usage": {"prompt_tokens": 7, "completion_tokens": 3}});
        let c = completion(&body, "s", "u");
        assert_eq!((c.content.as_str(), c.tokens, c.reported), ("[]", 10, true));
        let body = json!({"choices": [{"message": {"content": "abcd"}}], "usage": {"total_tokens": 99}});
        assert_eq!(completion(&body, "s", "u").tokens, 99);
        let body = json!({"choices": [{"message": {"content": "abcd"}}]});
        let c = completion(&body, "ssss", "uuuu");
        assert_eq!((c.tokens, c.reported), (3, false));
        assert_eq!(completion(&Value::Null, "", "").content, "");
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let mut c = config("http://x/v1");
        c.key = Some(Secret::new("sk-secret-value"));
        assert!(!format!("{c:?}").contains("sk-secret-value"));
    }
}
