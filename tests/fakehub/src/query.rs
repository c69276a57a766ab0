//! Parsing of the `q` of `GET /search/repositories` (already percent-decoded,
//! `+` already a space). Terms are separated by whitespace; double quotes group
//! (`language:"Jupyter Notebook"`, `"hello world"`). Supported qualifiers:
//! `created:` `pushed:` (dates `YYYY-MM-DD` = the whole UTC day, datetimes
//! `YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM]` = that second/minute), `stars:` `forks:`
//! `size:` (numbers), each as `X`, `>X`, `>=X`, `<X`, `<=X`, `A..B` (inclusive),
//! `*..B`, `A..*`; repeated range qualifiers intersect. `language:` `user:`
//! `org:` (repeatable, OR'ed within the kind), `topic:` (AND), `fork:true|only|false`,
//! `archived:true|false`, `is:public|private|internal`, `in:name,description,topics,readme`.
//! Bare words must all occur (case-insensitive substring) in the `in:` fields
//! (default name or description). Anything else with a `key:` prefix is an
//! unknown qualifier (422). Not supported: `-qualifier` negation and
//! `AND`/`OR`/`NOT` (taken as words).

/// Why a query was refused (both are 422 Validation Failed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum QueryError {
    /// No `q`, or only whitespace.
    Missing,
    Invalid(String),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Missing => f.write_str("q is missing"),
            QueryError::Invalid(message) => f.write_str(message),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Forks {
    /// GitHub's default: forks never match.
    Exclude,
    Include,
    Only,
}

pub(crate) const IN_NAME: u8 = 1;
pub(crate) const IN_DESCRIPTION: u8 = 2;
pub(crate) const IN_TOPICS: u8 = 4;
pub(crate) const IN_README: u8 = 8;

/// An inclusive range; `ANY` when unconstrained.
pub(crate) type Range = (i64, i64);
pub(crate) const ANY: Range = (i64::MIN, i64::MAX);

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Query {
    /// Lowercased bare words (all must match).
    pub words: Vec<String>,
    /// Epoch seconds.
    pub created: Range,
    pub pushed: Range,
    pub stars: Range,
    pub forks_count: Range,
    pub size: Range,
    /// Normalised language names (lowercase, spaces as `-`, aliases resolved); empty = any.
    pub languages: Vec<String>,
    /// Lowercased topics, all required.
    pub topics: Vec<String>,
    /// Owner logins from `user:` and `org:` (any of them); empty = any.
    pub owners: Vec<String>,
    pub forks: Forks,
    pub archived: Option<bool>,
    /// `is:private` / `is:internal`: nothing public matches.
    pub private_only: bool,
    /// `IN_*` bits the words are looked for in.
    pub fields: u8,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            words: Vec::new(),
            created: ANY,
            pushed: ANY,
            stars: ANY,
            forks_count: ANY,
            size: ANY,
            languages: Vec::new(),
            topics: Vec::new(),
            owners: Vec::new(),
            forks: Forks::Exclude,
            archived: None,
            private_only: false,
            fields: 0,
        }
    }
}

/// A few of linguist's aliases (GitHub accepts them in `language:`).
const LANGUAGE_ALIASES: &[(&str, &str)] = &[
    ("cpp", "c++"),
    ("csharp", "c#"),
    ("fsharp", "f#"),
    ("js", "javascript"),
    ("ts", "typescript"),
    ("py", "python"),
    ("rs", "rust"),
    ("golang", "go"),
    ("sh", "shell"),
    ("bash", "shell"),
    ("objc", "objective-c"),
    ("vim", "vim-script"),
    ("viml", "vim-script"),
    ("elisp", "emacs-lisp"),
    ("ipynb", "jupyter-notebook"),
];

/// Lowercase, spaces as `-`, aliases resolved: `Jupyter Notebook` -> `jupyter-notebook`.
pub(crate) fn normalize_language(name: &str) -> String {
    let lower = name.trim().to_lowercase().replace(' ', "-");
    LANGUAGE_ALIASES.iter().find(|(alias, _)| *alias == lower).map_or(lower, |(_, real)| (*real).to_string())
}

/// Split on whitespace outside double quotes; quotes are removed.
fn terms(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in q.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut current));
                }
                any = false;
            }
            c => {
                current.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(current);
    }
    out.retain(|t| !t.is_empty());
    out
}

fn intersect(a: Range, b: Range) -> Range {
    (a.0.max(b.0), a.1.min(b.1))
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok()).flatten()
}

/// Epoch second of `YYYY-MM-DD` at midnight UTC.
fn parse_date(s: &str) -> Option<i64> {
    let mut parts = s.split('-');
    let (y, m, d) = (digits(parts.next()?, 4)?, digits(parts.next()?, 2)?, digits(parts.next()?, 2)?);
    if parts.next().is_some() || !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if d > month_days[(m - 1) as usize] {
        return None;
    }
    Some(days_from_civil(i64::from(y), m, d) * 86_400)
}

/// A date (the whole day) or a datetime (that second; that minute without seconds).
fn time_point(s: &str) -> Option<Range> {
    let Some((date, time)) = s.split_once('T') else {
        let day = parse_date(s)?;
        return Some((day, day + 86_399));
    };
    let day = parse_date(date)?;
    let (clock, offset) = if let Some(clock) = time.strip_suffix('Z') {
        (clock, 0)
    } else if let Some(at) = time.rfind(['+', '-']) {
        let (clock, zone) = time.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (h, m) = zone[1..].split_once(':').unwrap_or((&zone[1..], "00"));
        let (h, m) = (digits(h, 2)?, digits(m, 2)?);
        if h > 23 || m > 59 {
            return None;
        }
        (clock, sign * i64::from(h * 3600 + m * 60))
    } else {
        (time, 0)
    };
    let mut parts = clock.split(':');
    let h = digits(parts.next()?, 2)?;
    let m = digits(parts.next()?, 2)?;
    let s = parts.next().map(|s| digits(s, 2));
    if parts.next().is_some() || h > 23 || m > 59 {
        return None;
    }
    let at = day + i64::from(h * 3600 + m * 60) - offset;
    match s {
        None => Some((at, at + 59)),
        Some(Some(s)) if s <= 59 => Some((at + i64::from(s), at + i64::from(s))),
        Some(_) => None,
    }
}

fn number_point(s: &str) -> Option<Range> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = s.parse().ok()?;
    Some((n, n))
}

/// `X`, `>X`, `>=X`, `<X`, `<=X`, `A..B`, `*..B`, `A..*` over `point`.
fn range(v: &str, point: fn(&str) -> Option<Range>) -> Option<Range> {
    if let Some(x) = v.strip_prefix(">=") {
        return Some((point(x)?.0, i64::MAX));
    }
    if let Some(x) = v.strip_prefix("<=") {
        return Some((i64::MIN, point(x)?.1));
    }
    if let Some(x) = v.strip_prefix('>') {
        return Some((point(x)?.1.saturating_add(1), i64::MAX));
    }
    if let Some(x) = v.strip_prefix('<') {
        return Some((i64::MIN, point(x)?.0.saturating_sub(1)));
    }
    if let Some((a, b)) = v.split_once("..") {
        let lo = if a == "*" { i64::MIN } else { point(a)?.0 };
        let hi = if b == "*" { i64::MAX } else { point(b)?.1 };
        return Some((lo, hi));
    }
    point(v)
}

/// The range of a search-syntax date qualifier value: `>=2025-01-01`,
/// `2025-01-01..2025-02-01`, `<=2025-01-01T12:00:00Z`, `2025-01-01`, ...
pub(crate) fn date_range(value: &str) -> Option<Range> {
    range(value.trim(), time_point)
}

/// The epoch second of an ISO 8601 date or datetime (`since=`, GraphQL `DateTime`).
pub(crate) fn instant(value: &str) -> Option<i64> {
    let value = value.trim();
    // Fractional seconds (`12:00:00.000Z`) are dropped.
    let value = match value.find('.') {
        Some(dot) if value[..dot].contains('T') => {
            let end = value[dot + 1..].find(|c: char| !c.is_ascii_digit()).map_or(value.len(), |i| dot + 1 + i);
            format!("{}{}", &value[..dot], &value[end..])
        }
        _ => value.to_string(),
    };
    time_point(&value).map(|(start, _)| start)
}

fn invalid(key: &str, value: &str) -> QueryError {
    QueryError::Invalid(format!("The value \"{value}\" of the qualifier \"{key}:\" is not valid."))
}

/// Parse a search query.
pub(crate) fn parse(q: &str) -> Result<Query, QueryError> {
    let terms = terms(q);
    if terms.is_empty() {
        return Err(QueryError::Missing);
    }
    let mut query = Query::default();
    for term in terms {
        let qualifier = term
            .split_once(':')
            .filter(|(key, _)| !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_'));
        let Some((key, value)) = qualifier else {
            let negated = term.strip_prefix('-').and_then(|t| t.split_once(':'));
            if negated.is_some_and(|(key, _)| !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphabetic())) {
                return Err(QueryError::Invalid(format!("fakehub does not support negated qualifiers (\"{term}\").")));
            }
            query.words.push(term.to_lowercase());
            continue;
        };
        let lower_key = key.to_ascii_lowercase();
        let lower = value.to_ascii_lowercase();
        let bad = || invalid(key, value);
        match lower_key.as_str() {
            "created" => query.created = intersect(query.created, range(value, time_point).ok_or_else(bad)?),
            "pushed" => query.pushed = intersect(query.pushed, range(value, time_point).ok_or_else(bad)?),
            "stars" => query.stars = intersect(query.stars, range(value, number_point).ok_or_else(bad)?),
            "forks" => query.forks_count = intersect(query.forks_count, range(value, number_point).ok_or_else(bad)?),
            "size" => query.size = intersect(query.size, range(value, number_point).ok_or_else(bad)?),
            "language" if !value.is_empty() => query.languages.push(normalize_language(value)),
            "topic" if !value.is_empty() => query.topics.push(value.to_lowercase()),
            "user" | "org" if !value.is_empty() => query.owners.push(value.to_string()),
            "fork" => {
                query.forks = match lower.as_str() {
                    "true" => Forks::Include,
                    "only" => Forks::Only,
                    "false" => Forks::Exclude,
                    _ => return Err(bad()),
                }
            }
            "archived" => {
                query.archived = Some(match lower.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad()),
                })
            }
            "is" => match lower.as_str() {
                "public" => {}
                "private" | "internal" => query.private_only = true,
                _ => return Err(bad()),
            },
            "in" => {
                for field in lower.split(',') {
                    query.fields |= match field {
                        "name" => IN_NAME,
                        "description" => IN_DESCRIPTION,
                        "topics" => IN_TOPICS,
                        "readme" => IN_README,
                        _ => return Err(bad()),
                    };
                }
            }
            "language" | "topic" | "user" | "org" => return Err(bad()),
            _ => {
                return Err(QueryError::Invalid(format!(
                    "\"{key}:\" is not a supported search qualifier (in \"{term}\")."
                )));
            }
        }
    }
    if query.fields == 0 {
        query.fields = IN_NAME | IN_DESCRIPTION;
    }
    Ok(query)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(date: &str) -> i64 {
        time_point(date).map(|r| r.0).unwrap_or(i64::MIN)
    }

    #[test]
    fn dates_and_datetimes() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(time_point("2014-03-05"), Some((1_393_977_600, 1_393_977_600 + 86_399)));
        assert_eq!(time_point("2014-03-05T11:22:33Z"), Some((1_394_018_553, 1_394_018_553)));
        assert_eq!(time_point("2014-03-05T11:22:33"), Some((1_394_018_553, 1_394_018_553)));
        assert_eq!(time_point("2014-03-05T12:22:33+01:00"), Some((1_394_018_553, 1_394_018_553)));
        assert_eq!(time_point("2014-03-05T10:22:33-01:00"), Some((1_394_018_553, 1_394_018_553)));
        assert_eq!(time_point("2014-03-05T11:22Z"), Some((1_394_018_520, 1_394_018_579)));
        assert_eq!(time_point("2000-02-29"), Some((951_782_400, 951_782_400 + 86_399)));
        for bad in ["2001-02-29", "2014-13-01", "2014-00-10", "2014-1-05", "14-03-05", "2014-03-05T25:00:00Z", "x", ""]
        {
            assert_eq!(time_point(bad), None, "{bad}");
        }
    }

    #[test]
    fn qualifier_table() {
        let day = |d: &str| time_point(d).unwrap_or(ANY);
        let cases: Vec<(&str, Query)> = vec![
            ("created:2014-03-05", Query { created: day("2014-03-05"), ..Query::default() }),
            ("created:>2014-03-05", Query { created: (day("2014-03-05").1 + 1, i64::MAX), ..Query::default() }),
            ("created:>=2014-03-05", Query { created: (at("2014-03-05"), i64::MAX), ..Query::default() }),
            ("created:<2014-03-05", Query { created: (i64::MIN, at("2014-03-05") - 1), ..Query::default() }),
            ("created:<=2014-03-05", Query { created: (i64::MIN, day("2014-03-05").1), ..Query::default() }),
            (
                "created:2014-03-05..2014-03-07",
                Query { created: (at("2014-03-05"), day("2014-03-07").1), ..Query::default() },
            ),
            (
                "created:2014-03-05T11:22:33Z..2014-03-05T11:22:40Z",
                Query { created: (1_394_018_553, 1_394_018_560), ..Query::default() },
            ),
            ("created:*..2014-03-05", Query { created: (i64::MIN, day("2014-03-05").1), ..Query::default() }),
            ("pushed:2014-03-05..*", Query { pushed: (at("2014-03-05"), i64::MAX), ..Query::default() }),
            ("created:*..*", Query::default()),
            ("stars:>100", Query { stars: (101, i64::MAX), ..Query::default() }),
            ("stars:>=100", Query { stars: (100, i64::MAX), ..Query::default() }),
            ("stars:<100", Query { stars: (i64::MIN, 99), ..Query::default() }),
            ("stars:<=100", Query { stars: (i64::MIN, 100), ..Query::default() }),
            ("stars:10..50", Query { stars: (10, 50), ..Query::default() }),
            ("stars:7", Query { stars: (7, 7), ..Query::default() }),
            ("stars:>5 stars:<10", Query { stars: (6, 9), ..Query::default() }),
            ("forks:1..* size:0", Query { forks_count: (1, i64::MAX), size: (0, 0), ..Query::default() }),
            ("language:Rust", Query { languages: vec!["rust".into()], ..Query::default() }),
            ("LANGUAGE:c++ language:cpp", Query { languages: vec!["c++".into(), "c++".into()], ..Query::default() }),
            ("language:\"Jupyter Notebook\"", Query { languages: vec!["jupyter-notebook".into()], ..Query::default() }),
            ("user:Octo org:gh-labs", Query { owners: vec!["Octo".into(), "gh-labs".into()], ..Query::default() }),
            ("topic:CLI", Query { topics: vec!["cli".into()], ..Query::default() }),
            ("fork:true", Query { forks: Forks::Include, ..Query::default() }),
            ("fork:ONLY", Query { forks: Forks::Only, ..Query::default() }),
            ("fork:false", Query::default()),
            ("archived:true", Query { archived: Some(true), ..Query::default() }),
            ("archived:false", Query { archived: Some(false), ..Query::default() }),
            ("is:public", Query::default()),
            ("is:private", Query { private_only: true, ..Query::default() }),
            ("Hello  WORLD", Query { words: vec!["hello".into(), "world".into()], ..Query::default() }),
            ("\"hello world\"", Query { words: vec!["hello world".into()], ..Query::default() }),
            ("in:name cli", Query { words: vec!["cli".into()], fields: IN_NAME, ..Query::default() }),
            (
                "in:description,topics x",
                Query { words: vec!["x".into()], fields: IN_DESCRIPTION | IN_TOPICS, ..Query::default() },
            ),
            ("http//x", Query { words: vec!["http//x".into()], ..Query::default() }),
        ];
        for (q, expected) in cases {
            let mut expected = expected;
            if expected.fields == 0 {
                expected.fields = IN_NAME | IN_DESCRIPTION;
            }
            assert_eq!(parse(q), Ok(expected), "{q}");
        }
    }

    #[test]
    fn refused() {
        assert_eq!(parse(""), Err(QueryError::Missing));
        assert_eq!(parse("   "), Err(QueryError::Missing));
        for q in [
            "foo:bar",
            "license:mit",
            "-language:rust",
            "stars:abc",
            "stars:-5",
            "stars:>",
            "created:2014",
            "created:>2014-02-30",
            "created:2014-03-05...2014-03-07",
            "fork:maybe",
            "archived:yes",
            "is:sponsorable",
            "in:everything",
            "language:",
            "user:",
        ] {
            assert!(matches!(parse(q), Err(QueryError::Invalid(_))), "{q}: {:?}", parse(q));
        }
    }

    #[test]
    fn languages_normalise() {
        assert_eq!(normalize_language("Jupyter Notebook"), "jupyter-notebook");
        assert_eq!(normalize_language("C#"), "c#");
        assert_eq!(normalize_language("csharp"), "c#");
        assert_eq!(normalize_language("Vim Script"), "vim-script");
    }
}
