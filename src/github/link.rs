//! The `Link` response header (RFC 8288), the only trustworthy end-of-list signal on GitHub:
//! short or even empty pages are normal, the absence of `rel="next"` is the end.

/// The URL of the `rel="next"` link, if there is one.
pub fn next_link(header: &str) -> Option<String> {
    link_with_rel(header, "next")
}

/// The URL of the link whose `rel` list contains `wanted`.
pub fn link_with_rel(header: &str, wanted: &str) -> Option<String> {
    let mut rest = header;
    loop {
        let start = rest.find('<')?;
        let end = start + rest[start..].find('>')?;
        let url = &rest[start + 1..end];
        // Commas and semicolons inside quoted parameter values (`title="a, b"`) separate nothing.
        let params_end = unquoted(&rest[end..], ',').next().map(|i| end + i).unwrap_or(rest.len());
        let params = &rest[end + 1..params_end];
        let has_rel = split_unquoted(params, ';').any(|param| {
            let Some((key, value)) = param.split_once('=') else { return false };
            key.trim().eq_ignore_ascii_case("rel")
                && value.trim().trim_matches('"').split_ascii_whitespace().any(|rel| rel.eq_ignore_ascii_case(wanted))
        });
        if has_rel {
            return Some(url.to_string());
        }
        rest = &rest[params_end..];
        if rest.is_empty() {
            return None;
        }
        rest = &rest[1..];
    }
}

/// Byte offsets of `separator` in `text` outside RFC 8288 quoted strings (`"..."`, `\` escapes).
fn unquoted(text: &str, separator: char) -> impl Iterator<Item = usize> + '_ {
    let (mut quoted, mut escaped) = (false, false);
    text.char_indices()
        .filter(move |&(_, c)| {
            match c {
                _ if escaped => escaped = false,
                '\\' if quoted => escaped = true,
                '"' => quoted = !quoted,
                _ => return c == separator && !quoted,
            }
            false
        })
        .map(|(i, _)| i)
}

/// `text` split at `separator`, except inside quoted strings.
fn split_unquoted(text: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut from = 0;
    unquoted(text, separator).chain([text.len()]).map(move |to| {
        let part = &text[from..to];
        from = to + separator.len_utf8();
        part
    })
}

/// A numeric query parameter of a URL (`since` of a `/repositories` next link).
pub fn query_number(url: &str, name: &str) -> Option<u64> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=')).and_then(|value| value.parse().ok())
}

/// Encodes a search query for a URL: unreserved characters as they are, spaces as `+`, the rest
/// percent-encoded.
pub fn encode_query(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_in_githubs_repositories_header() {
        let header = r#"<https://api.github.com/repositories?since=369>; rel="next", <https://api.github.com/repositories{?since}>; rel="first""#;
        assert_eq!(next_link(header).as_deref(), Some("https://api.github.com/repositories?since=369"));
        assert_eq!(link_with_rel(header, "first").as_deref(), Some("https://api.github.com/repositories{?since}"));
    }

    #[test]
    fn query_parameters_and_encoding() {
        assert_eq!(query_number("https://api.github.com/repositories?since=369", "since"), Some(369));
        assert_eq!(query_number("http://h/repositories?per_page=5&since=7", "since"), Some(7));
        assert_eq!(query_number("http://h/repositories?since=abc", "since"), None);
        assert_eq!(query_number("http://h/repositories?sincere=1", "since"), None);
        assert_eq!(query_number("http://h/repositories", "since"), None);
        assert_eq!(encode_query("stars:>10 language:c++"), "stars%3A%3E10+language%3Ac%2B%2B");
    }

    #[test]
    fn no_next_is_none() {
        assert_eq!(next_link(r#"<https://api.github.com/repositories{?since}>; rel="first""#), None);
        assert_eq!(next_link(""), None);
        assert_eq!(next_link("garbage <"), None);
        assert_eq!(next_link("<a>; rel=\"prev\", <b>; rel=\"last\""), None);
    }

    #[test]
    fn rel_order_case_and_multiple_values() {
        let header = r#"<https://x/?page=1>; rel="prev", <https://x/?page=3>; REL="Next last""#;
        assert_eq!(next_link(header).as_deref(), Some("https://x/?page=3"));
        assert_eq!(next_link(r#"<u>;rel=next"#).as_deref(), Some("u"));
    }

    #[test]
    fn separators_inside_quoted_values_separate_nothing() {
        // Found by tests/fuzz.rs: a quoted comma hid the next link, a quoted `; rel=next` faked one.
        let header = r#"<https://x/?page=2>; title="a, b"; rel="next", <https://x/?page=9>; rel="last""#;
        assert_eq!(next_link(header).as_deref(), Some("https://x/?page=2"));
        let header = r#"<https://x/?page=1>; title="x, <https://evil/>; rel=next"; rel="prev""#;
        assert_eq!(next_link(header), None);
        let header =
            r#"<https://x/?page=1>; title="\"; rel=next, <https://evil/>"; rel=prev, <https://x/?page=3>; rel=next"#;
        assert_eq!(next_link(header).as_deref(), Some("https://x/?page=3"));
    }
}
