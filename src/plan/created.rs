//! The `created:` qualifiers of a search query, read the way GitHub reads them, so that slicing by
//! creation time stays inside the range the user asked for. A date is the whole UTC day, a time
//! without seconds the whole minute; `>`, `>=`, `<`, `<=`, `A..B`, `*..B`, `A..*` and repeated
//! qualifiers (which intersect) are understood.

/// An inclusive range of epoch seconds.
pub type Seconds = (i64, i64);

/// A query taken apart: the terms other than `created:`, and the creation range they ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    /// The query without its `created:` terms (the others untouched, quotes kept).
    pub rest: String,
    /// The intersection of every `created:` term; `None` when the query has none.
    pub range: Option<Seconds>,
}

/// Takes the `created:` terms out of `query`. An error says why a term cannot be read (a negated
/// `-created:`, a malformed date): such a query cannot be sliced by creation time.
pub fn split(query: &str) -> Result<Created, String> {
    let mut rest = Vec::new();
    let mut range: Option<Seconds> = None;
    for term in terms(query) {
        let lower = term.to_ascii_lowercase();
        if lower.starts_with("-created:") {
            return Err(format!("`{term}` excludes a creation range"));
        }
        let Some(value) = lower.strip_prefix("created:") else {
            rest.push(term);
            continue;
        };
        let value = value.trim_matches('"');
        let parsed = bounds(value).ok_or_else(|| format!("`{term}` is not a creation date or range GitHub reads"))?;
        range = Some(match range {
            Some((lo, hi)) => (lo.max(parsed.0), hi.min(parsed.1)),
            None => parsed,
        });
    }
    Ok(Created { rest: rest.join(" "), range })
}

/// Terms separated by whitespace outside double quotes, as written (quotes kept).
fn terms(query: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quoted = false;
    for (at, c) in query.char_indices() {
        if c == '"' {
            quoted = !quoted;
        }
        if c.is_whitespace() && !quoted {
            if let Some(from) = start.take() {
                out.push(&query[from..at]);
            }
        } else if start.is_none() {
            start = Some(at);
        }
    }
    if let Some(from) = start {
        out.push(&query[from..]);
    }
    out
}

/// `X`, `>X`, `>=X`, `<X`, `<=X`, `A..B`, `*..B`, `A..*`.
fn bounds(value: &str) -> Option<Seconds> {
    if let Some(x) = value.strip_prefix(">=") {
        return Some((point(x)?.0, i64::MAX));
    }
    if let Some(x) = value.strip_prefix("<=") {
        return Some((i64::MIN, point(x)?.1));
    }
    if let Some(x) = value.strip_prefix('>') {
        return Some((point(x)?.1.saturating_add(1), i64::MAX));
    }
    if let Some(x) = value.strip_prefix('<') {
        return Some((i64::MIN, point(x)?.0.saturating_sub(1)));
    }
    if let Some((a, b)) = value.split_once("..") {
        let lo = if a == "*" { i64::MIN } else { point(a)?.0 };
        let hi = if b == "*" { i64::MAX } else { point(b)?.1 };
        return Some((lo, hi));
    }
    point(value)
}

/// A date (the whole UTC day) or a date and time (that second; that minute without seconds), with
/// `Z`, an offset `+HH:MM` / `-HH:MM`, or no zone (UTC).
fn point(text: &str) -> Option<Seconds> {
    let text = text.to_ascii_uppercase();
    let Some((date, time)) = text.split_once('T') else {
        let day = day(&text)?;
        return Some((day, day + 86_399));
    };
    let day = day(date)?;
    let (clock, offset) = if let Some(clock) = time.strip_suffix('Z') {
        (clock, 0)
    } else if let Some(at) = time.rfind(['+', '-']) {
        let (clock, zone) = time.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (h, m) = zone[1..].split_once(':').unwrap_or((&zone[1..], "00"));
        let (h, m) = (number(h, 2, 23)?, number(m, 2, 59)?);
        (clock, sign * (h * 3600 + m * 60))
    } else {
        (time, 0)
    };
    let mut parts = clock.split(':');
    let h = number(parts.next()?, 2, 23)?;
    let m = number(parts.next()?, 2, 59)?;
    let s = parts.next().map(|s| number(s, 2, 59));
    if parts.next().is_some() {
        return None;
    }
    let at = day + h * 3600 + m * 60 - offset;
    match s {
        None => Some((at, at + 59)),
        Some(Some(s)) => Some((at + s, at + s)),
        Some(None) => None,
    }
}

/// Exactly `width` digits, at most `max`.
fn number(text: &str, width: usize, max: i64) -> Option<i64> {
    let ok = text.len() == width && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.parse::<i64>().ok()).flatten().filter(|n| *n <= max)
}

/// Epoch second of midnight UTC of `YYYY-MM-DD`, a real calendar day.
fn day(text: &str) -> Option<i64> {
    crate::time::check_date(text).ok()?;
    let at = humantime::parse_rfc3339(&format!("{text}T00:00:00Z")).ok()?;
    let seconds = match at.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => after.as_secs() as i64,
        Err(before) => -(before.duration().as_secs() as i64),
    };
    Some(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 1_420_070_400; // 2015-01-01T00:00:00Z

    fn range(query: &str) -> Seconds {
        split(query).unwrap().range.unwrap()
    }

    #[test]
    fn every_operator_reads_as_github_does() {
        assert_eq!(range("created:2015-01-01"), (DAY, DAY + 86_399));
        assert_eq!(range("created:>2015-01-01"), (DAY + 86_400, i64::MAX));
        assert_eq!(range("created:>=2015-01-01"), (DAY, i64::MAX));
        assert_eq!(range("created:<2015-01-01"), (i64::MIN, DAY - 1));
        assert_eq!(range("created:<=2015-01-01"), (i64::MIN, DAY + 86_399));
        assert_eq!(range("created:2015-01-01..2015-01-02"), (DAY, DAY + 2 * 86_400 - 1));
        assert_eq!(range("created:*..2015-01-01"), (i64::MIN, DAY + 86_399));
        assert_eq!(range("created:2015-01-01..*"), (DAY, i64::MAX));
        assert_eq!(range("created:2015-01-01T10:00:05Z"), (DAY + 36_005, DAY + 36_005));
        assert_eq!(range("created:2015-01-01T10:00"), (DAY + 36_000, DAY + 36_059));
        assert_eq!(range("created:>2015-01-01T10:00:00+02:00"), (DAY + 28_801, i64::MAX));
        assert_eq!(range("created:2015-01-01T10:00:00-01:30..*"), (DAY + 41_400, i64::MAX));
    }

    #[test]
    fn other_terms_stay_and_repeated_ranges_intersect() {
        let created =
            split("is:public  created:>=2015-01-01 language:\"Jupyter Notebook\" CREATED:<2015-01-03").unwrap();
        assert_eq!(created.rest, "is:public language:\"Jupyter Notebook\"");
        assert_eq!(created.range, Some((DAY, DAY + 2 * 86_400 - 1)));
        let none = split("stars:>10 \"created:2015\"").unwrap();
        assert_eq!((none.rest.as_str(), none.range), ("stars:>10 \"created:2015\"", None));
        assert_eq!(split("created:>2015-01-01").unwrap().rest, "");
    }

    #[test]
    fn unreadable_terms_are_named() {
        for (query, term) in [
            ("-created:2015-01-01", "-created:2015-01-01"),
            ("stars:1 created:2015", "created:2015"),
            ("created:2015-02-30", "created:2015-02-30"),
            ("created:2015-01-01...2015-01-02", "created:2015-01-01...2015-01-02"),
            ("created:2015-01-01T25:00", "created:2015-01-01T25:00"),
        ] {
            let error = split(query).unwrap_err();
            assert!(error.contains(&format!("`{term}`")), "{query}: {error}");
        }
    }
}
