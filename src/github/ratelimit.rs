//! Primary rate limits as GitHub reports them in `x-ratelimit-*` headers. The budget belongs to
//! the account, not to this process, so the client trusts the headers it sees over any private
//! count: several matrix jobs on one credential all read the same `remaining`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;

/// One rate-limit reading from a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// `core`, `search`, `graphql`, ...
    pub resource: String,
    /// Requests (or points) per window.
    pub limit: u64,
    /// Left in this window.
    pub remaining: u64,
    /// When the window ends, as epoch seconds.
    pub reset: u64,
}

impl RateLimit {
    /// Reads the headers; `None` when the response carries none (some error pages, proxies).
    pub fn from_headers(headers: &HeaderMap) -> Option<RateLimit> {
        let number = |name: &str| headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok();
        Some(RateLimit {
            resource: headers.get("x-ratelimit-resource").and_then(|v| v.to_str().ok()).unwrap_or("core").to_string(),
            limit: number("x-ratelimit-limit")?,
            remaining: number("x-ratelimit-remaining")?,
            reset: number("x-ratelimit-reset")?,
        })
    }

    /// How long until the window resets, from `now`.
    pub fn until_reset(&self, now: SystemTime) -> Duration {
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        Duration::from_secs(self.reset).saturating_sub(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn reads_githubs_headers() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4999"),
            ("x-ratelimit-reset", "1700000000"),
            ("x-ratelimit-resource", "search"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        let limit = RateLimit::from_headers(&headers).unwrap();
        assert_eq!(limit, RateLimit { resource: "search".into(), limit: 5000, remaining: 4999, reset: 1_700_000_000 });
        let now = UNIX_EPOCH + Duration::from_secs(1_699_999_990);
        assert_eq!(limit.until_reset(now), Duration::from_secs(10));
        assert_eq!(limit.until_reset(now + Duration::from_secs(60)), Duration::ZERO);
        headers.remove("x-ratelimit-remaining");
        assert_eq!(RateLimit::from_headers(&headers), None);
    }
}
