//! Timestamps and durations in the one format octoshard writes everywhere.
//!
//! Timestamps are RFC 3339 UTC with milliseconds (`2026-11-23T06:00:00.000Z`): fixed width, so the
//! text order is the time order and SQL can compare `fetched_at` values as strings.

use std::time::{Duration, SystemTime};

/// Now, as an RFC 3339 UTC timestamp with milliseconds.
pub fn now_rfc3339() -> String {
    rfc3339(SystemTime::now())
}

/// A point in time as an RFC 3339 UTC timestamp with milliseconds.
pub fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_millis(at).to_string()
}

/// Seconds since the epoch of an RFC 3339 timestamp (GitHub's `createdAt`, `created_at`).
pub fn epoch_seconds(text: &str) -> Option<u64> {
    let at = humantime::parse_rfc3339(text).ok()?;
    Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs())
}

/// Checks a `YYYY-MM-DD` date (a real day of the calendar) and returns it.
pub fn check_date(text: &str) -> Result<String, String> {
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if well_formed && humantime::parse_rfc3339(&format!("{text}T00:00:00Z")).is_ok() {
        Ok(text.to_string())
    } else {
        Err(format!("`{text}` is not a YYYY-MM-DD date"))
    }
}

/// Parses durations such as `5h30m`, `90s` or `2h 15m` (the manifest and `--deadline` syntax).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| format!("`{text}` is not a duration ({e}); try 5h30m or 90s"))
}

/// Formats a duration the way [`parse_duration`] reads it back (`5h 30m`).
pub fn format_duration(duration: Duration) -> String {
    humantime::format_duration(Duration::from_secs(duration.as_secs())).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        let d = parse_duration("5h30m").unwrap();
        assert_eq!(d, Duration::from_secs(5 * 3600 + 30 * 60));
        assert_eq!(parse_duration(&format_duration(d)).unwrap(), d);
        assert!(parse_duration("soon").unwrap_err().contains("soon"));
    }

    #[test]
    fn dates_are_checked() {
        assert_eq!(check_date("2024-02-29").unwrap(), "2024-02-29");
        for bad in ["2023-02-29", "2024-2-29", "24-02-29", "today", "2024-02-29T00:00:00Z", ""] {
            assert!(check_date(bad).unwrap_err().contains(&format!("`{bad}`")), "{bad}");
        }
    }

    #[test]
    fn timestamps_are_fixed_width() {
        let a = rfc3339(SystemTime::UNIX_EPOCH);
        assert_eq!(a, "1970-01-01T00:00:00.000Z");
        assert_eq!(now_rfc3339().len(), a.len());
    }
}
