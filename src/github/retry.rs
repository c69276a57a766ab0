//! Retry decisions: what a response or a transport error means for the next step, and how long to
//! back off. Kept apart from the request path so every rule is a table test.

use std::time::Duration;

use reqwest::header::HeaderMap;

/// What the request path does with a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to the caller (2xx, 304, and answers that mean something: 404, 409, 410, 422, 451...).
    Done,
    /// The primary budget is spent: wait for the window to reset, then resend.
    PrimaryLimit,
    /// A secondary limit: wait at least this long, then resend.
    SecondaryLimit {
        /// `retry-after`, or the default when GitHub gave none.
        wait: Duration,
    },
    /// A server-side failure worth retrying with backoff.
    Transient,
    /// The credential is refused; retrying cannot help.
    BadCredentials,
    /// Forbidden for another reason (no access, blocked); retrying cannot help.
    Forbidden,
}

/// Classifies a response. `secondary_default` is the wait when GitHub sends no `retry-after`.
pub fn classify(status: u16, headers: &HeaderMap, body: &[u8], secondary_default: Duration) -> Verdict {
    match status {
        401 => Verdict::BadCredentials,
        403 | 429 => {
            let retry_after = headers
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let remaining_zero = headers.get("x-ratelimit-remaining").and_then(|v| v.to_str().ok()) == Some("0");
            let message = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_ascii_lowercase();
            if let Some(wait) = retry_after {
                Verdict::SecondaryLimit { wait }
            } else if message.contains("secondary rate limit") || message.contains("abuse") {
                Verdict::SecondaryLimit { wait: secondary_default }
            } else if remaining_zero || message.contains("rate limit exceeded") {
                Verdict::PrimaryLimit
            } else if status == 429 {
                Verdict::SecondaryLimit { wait: secondary_default }
            } else {
                Verdict::Forbidden
            }
        }
        500..=599 => Verdict::Transient,
        _ => Verdict::Done,
    }
}

/// Exponential backoff with jitter for retry number `attempt` (1, 2, ...): a random wait between
/// half and all of `base * 2^(attempt-1)`, never above `cap`. Jitter keeps many workers that
/// failed together from retrying together.
pub fn backoff(attempt: u32, base: Duration, cap: Duration) -> Duration {
    let exponential = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20)).min(cap);
    let half = exponential / 2;
    half + half.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn classification_table() {
        let default = Duration::from_secs(60);
        let none = HeaderMap::new();
        let cases: Vec<(u16, HeaderMap, &str, Verdict)> = vec![
            (200, none.clone(), "", Verdict::Done),
            (304, none.clone(), "", Verdict::Done),
            (404, none.clone(), "", Verdict::Done),
            (410, none.clone(), "", Verdict::Done),
            (422, none.clone(), "", Verdict::Done),
            (401, none.clone(), "Bad credentials", Verdict::BadCredentials),
            (
                403,
                headers(&[("x-ratelimit-remaining", "0")]),
                "API rate limit exceeded for user ID 1.",
                Verdict::PrimaryLimit,
            ),
            (429, headers(&[("x-ratelimit-remaining", "0")]), "", Verdict::PrimaryLimit),
            (403, headers(&[("retry-after", "30")]), "", Verdict::SecondaryLimit { wait: Duration::from_secs(30) }),
            (
                403,
                headers(&[("x-ratelimit-remaining", "10")]),
                "You have exceeded a secondary rate limit.",
                Verdict::SecondaryLimit { wait: default },
            ),
            (429, none.clone(), "", Verdict::SecondaryLimit { wait: default }),
            (403, headers(&[("x-ratelimit-remaining", "10")]), "Resource not accessible", Verdict::Forbidden),
            (500, none.clone(), "", Verdict::Transient),
            (502, none.clone(), "", Verdict::Transient),
            (503, none.clone(), "", Verdict::Transient),
        ];
        for (status, headers, body, expected) in cases {
            assert_eq!(classify(status, &headers, body.as_bytes(), default), expected, "{status} {body}");
        }
    }

    #[test]
    fn backoff_grows_is_jittered_and_capped() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(2);
        for attempt in 1..30 {
            let wait = backoff(attempt, base, cap);
            let ceiling = base.saturating_mul(1 << (attempt - 1).min(20)).min(cap);
            assert!(wait >= ceiling / 2 && wait <= ceiling, "attempt {attempt}: {wait:?}");
        }
        let waits: std::collections::HashSet<_> = (0..20).map(|_| backoff(3, base, cap)).collect();
        assert!(waits.len() > 1, "jitter varies the wait");
    }
}
