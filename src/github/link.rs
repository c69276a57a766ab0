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
        let params_end = rest[end..].find(",").map(|i| end + i).unwrap_or(rest.len());
        // A comma inside the parameters would be unusual; GitHub never sends one.
        let params = &rest[end + 1..params_end];
        let has_rel = params.split(';').any(|param| {
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
}
