//! Batch lookup by name in `POST /graphql`: top-level (brace depth 1)
//! `ALIAS: repository(owner: "OWNER", name: "NAME") { ... }` fields, found by
//! a tolerant scanner rather than a parser. It skips comments and string
//! literals, understands the escapes of GraphQL strings (`\"`, `\\`, `\/`,
//! `\n`, `\uXXXX`, ...) and `$variables`, and ignores other arguments
//! (`followRenames`). Without an alias the data key is `repository`. Each
//! answer is the same Repository object as `nodes(ids:)` gives, or `null` plus
//! a NOT_FOUND error for unknown, hidden and deleted repositories; names match
//! case-insensitively. At most [`crate::graphql::MAX_NODES`] lookups per
//! query (more: `data: null` and one error, like too many node ids); a lookup
//! without `owner` or `name` is a validation error (no data), as on GitHub.

use crate::graphql::{self, MAX_NODES};
use crate::universe::Universe;
use serde_json::{Value, json};

/// One `repository(...)` field of the query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Lookup {
    /// The alias, or `repository`.
    pub key: String,
    pub owner: Option<String>,
    pub name: Option<String>,
    /// 1-based position of the field (alias included) in the query.
    pub line: usize,
    pub column: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tok {
    Ident(usize, usize),
    Colon,
    Other,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn skip_blank(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
        i += 1;
    }
    i
}

/// A string literal starting at `b[i] == '"'`: (decoded value, index after it).
fn string(b: &[u8], i: usize) -> (String, usize) {
    if b[i..].starts_with(b"\"\"\"") {
        let body = i + 3;
        let end = b[body..].windows(3).position(|w| w == b"\"\"\"").map_or(b.len(), |p| body + p);
        return (String::from_utf8_lossy(&b[body..end]).into_owned(), (end + 3).min(b.len()));
    }
    let mut out: Vec<u8> = Vec::new();
    let mut j = i + 1;
    while j < b.len() && b[j] != b'"' {
        if b[j] == b'\\' && j + 1 < b.len() {
            j += 1;
            let c = match b[j] {
                b'n' => '\n',
                b't' => '\t',
                b'r' => '\r',
                b'b' => '\u{8}',
                b'f' => '\u{c}',
                b'u' => {
                    let hex = b.get(j + 1..j + 5).and_then(|h| std::str::from_utf8(h).ok());
                    let code = hex.and_then(|h| u32::from_str_radix(h, 16).ok());
                    j += if code.is_some() { 4 } else { 0 };
                    code.and_then(char::from_u32).unwrap_or('\u{fffd}')
                }
                other => other as char, // `\"`, `\\`, `\/` (and anything else, tolerantly)
            };
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        } else {
            out.push(b[j]);
        }
        j += 1;
    }
    (String::from_utf8_lossy(&out).into_owned(), (j + 1).min(b.len()))
}

/// The arguments from `b[i] == '('`: (owner, name, index after `)`).
fn arguments(b: &[u8], mut i: usize, variables: &Value) -> (Option<String>, Option<String>, usize) {
    let (mut owner, mut name) = (None, None);
    i += 1;
    loop {
        i = skip_blank(b, i);
        if i >= b.len() {
            return (owner, name, i);
        }
        if b[i] == b')' {
            return (owner, name, i + 1);
        }
        let key_start = i;
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        let key = &b[key_start..i];
        i = skip_blank(b, i);
        if key.is_empty() || b.get(i) != Some(&b':') {
            // Not `key: value`: give up on this argument list.
            while i < b.len() && b[i] != b')' {
                i += if b[i] == b'"' { string(b, i).1 - i } else { 1 };
            }
            return (owner, name, (i + 1).min(b.len()));
        }
        i = skip_blank(b, i + 1);
        let value = match b.get(i) {
            Some(b'"') => {
                let (s, next) = string(b, i);
                i = next;
                Some(s)
            }
            Some(b'$') => {
                let start = i + 1;
                i = start;
                while i < b.len() && is_ident(b[i]) {
                    i += 1;
                }
                let var = String::from_utf8_lossy(&b[start..i]);
                variables.get(var.as_ref()).and_then(Value::as_str).map(str::to_string)
            }
            _ => {
                while i < b.len() && !(b[i].is_ascii_whitespace() || b[i] == b',' || b[i] == b')') {
                    i += 1;
                }
                None
            }
        };
        match key {
            b"owner" => owner = value,
            b"name" => name = value,
            _ => {}
        }
    }
}

/// 1-based (line, column) of byte `at`.
fn position(query: &str, at: usize) -> (usize, usize) {
    let before = &query[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Every top-level `repository(...)` field, in query order.
pub(crate) fn scan(query: &str, variables: &Value) -> Vec<Lookup> {
    let b = query.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut i) = (0i32, 0usize);
    let (mut p2, mut p1) = (Tok::Other, Tok::Other);
    while i < b.len() {
        let c = b[i];
        let tok = match c {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i = string(b, i).1;
                Tok::Other
            }
            c if c.is_ascii_whitespace() || c == b',' => {
                i += 1;
                continue;
            }
            b':' => {
                i += 1;
                Tok::Colon
            }
            c if is_ident_start(c) => {
                let start = i;
                while i < b.len() && is_ident(b[i]) {
                    i += 1;
                }
                let paren = skip_blank(b, i);
                if &b[start..i] == b"repository" && depth == 1 && b.get(paren) == Some(&b'(') {
                    let (key, at) = match (p2, p1) {
                        (Tok::Ident(s, e), Tok::Colon) => (query[s..e].to_string(), s),
                        _ => ("repository".to_string(), start),
                    };
                    let (owner, name, next) = arguments(b, paren, variables);
                    let (line, column) = position(query, at);
                    out.push(Lookup { key, owner, name, line, column });
                    i = next;
                    Tok::Other
                } else {
                    Tok::Ident(start, i)
                }
            }
            b'{' => {
                depth += 1;
                i += 1;
                Tok::Other
            }
            b'}' => {
                depth -= 1;
                i += 1;
                Tok::Other
            }
            _ => {
                i += 1;
                Tok::Other
            }
        };
        (p2, p1) = (p1, tok);
    }
    out
}

/// Answers to the lookups: `data` entries (alias, node or null) and errors.
pub(crate) type Resolved = (Vec<(String, Value)>, Vec<Value>);

/// The lookups' answers, or the whole error body when the query is refused.
pub(crate) fn resolve(universe: &Universe, lookups: &[Lookup]) -> Result<Resolved, Value> {
    if lookups.len() > MAX_NODES {
        return Err(json!({"data": null, "errors": [{
            "path": [lookups[MAX_NODES].key],
            "locations": [{"line": lookups[MAX_NODES].line, "column": lookups[MAX_NODES].column}],
            "message": format!("fakehub allows at most {MAX_NODES} repository lookups per query, like node ids; this one has {}.", lookups.len())
        }]}));
    }
    let invalid: Vec<Value> = lookups
        .iter()
        .filter_map(|l| {
            let missing: Vec<&str> = [("owner", &l.owner), ("name", &l.name)]
                .iter()
                .filter(|(_, v)| v.is_none())
                .map(|(k, _)| *k)
                .collect();
            (!missing.is_empty()).then(|| {
                json!({
                    "path": ["query", l.key],
                    "extensions": {"code": "missingRequiredArguments", "className": "Field", "name": "repository", "arguments": missing.join(", ")},
                    "locations": [{"line": l.line, "column": l.column}],
                    "message": format!("Field 'repository' is missing required arguments: {}", missing.join(", "))
                })
            })
        })
        .collect();
    if !invalid.is_empty() {
        return Err(json!({"errors": invalid}));
    }
    let mut data = Vec::with_capacity(lookups.len());
    let mut errors = Vec::new();
    for l in lookups {
        let (owner, name) = (l.owner.as_deref().unwrap_or(""), l.name.as_deref().unwrap_or(""));
        match universe.by_owner_and_name(owner, name).filter(|r| !r.deleted) {
            Some(repo) => data.push((l.key.clone(), graphql::repository(repo))),
            None => {
                data.push((l.key.clone(), Value::Null));
                errors.push(json!({
                    "type": "NOT_FOUND",
                    "path": [l.key],
                    "locations": [{"line": l.line, "column": l.column}],
                    "message": format!("Could not resolve to a Repository with the name '{owner}/{name}'.")
                }));
            }
        }
    }
    Ok((data, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(lookups: &[Lookup]) -> Vec<(String, Option<String>, Option<String>)> {
        lookups.iter().map(|l| (l.key.clone(), l.owner.clone(), l.name.clone())).collect()
    }

    fn some(key: &str, owner: &str, name: &str) -> (String, Option<String>, Option<String>) {
        (key.into(), Some(owner.into()), Some(name.into()))
    }

    #[test]
    fn scanner() {
        let q = "query {\n  rateLimit { cost }\n  r0: repository(owner: \"octo\", name: \"hello\") { nameWithOwner repositoryTopics(first: 5) { totalCount } }\n  r1 : repository ( name:\"a\\\"b\\\\c\" owner: \"x\" followRenames: false ) { id }\n  # r9: repository(owner: \"no\", name: \"no\")\n  r2: repository(owner: $o, name: \"u\\u0041\") { owner { login } }\n}";
        let vars = json!({"o": "var-owner"});
        let found = scan(q, &vars);
        assert_eq!(
            keys(&found),
            [some("r0", "octo", "hello"), some("r1", "x", "a\"b\\c"), some("r2", "var-owner", "uA")]
        );
        assert_eq!((found[0].line, found[0].column), (3, 3));
        // Unaliased, nested (not top level), inside strings, and incomplete.
        let q = "{ repository(owner: \"a\", name: \"b\") { parent { repository(owner: \"p\", name: \"q\") } } \
                 s: search(query: \"r: repository(owner: \\\"z\\\")\") { n } bad: repository(name: \"only\") { id } }";
        assert_eq!(
            keys(&scan(q, &Value::Null)),
            [some("repository", "a", "b"), ("bad".into(), None, Some("only".into()))]
        );
        assert!(scan("query($ids: [ID!]!) { nodes(ids: $ids) { ... on Repository { id } } }", &Value::Null).is_empty());
        assert!(scan("{ r: repository(owner: \"unterminated", &Value::Null).len() == 1);
    }
}
