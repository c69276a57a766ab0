//! GitHub's page-based pagination: `per_page` (default 30, at most 100; 0 or
//! garbage = 30), `page` (default 1; 0 or garbage = 1) and the `Link` header
//! with `rel="prev"`, `rel="next"`, `rel="last"`, `rel="first"` in GitHub's
//! order. Next and last are left out on the last page, prev and first on the
//! first; a single page gets no `Link` at all. Page URLs keep the request's
//! query parameters (re-encoded, spaces as `+`) with `page` replaced.

use crate::http::{Request, Response};
use serde_json::Value;

pub(crate) const DEFAULT_PER_PAGE: usize = 30;
pub(crate) const MAX_PER_PAGE: usize = 100;

/// (page >= 1, 1 <= per_page <= 100) of a request.
pub(crate) fn params(request: &Request) -> (usize, usize) {
    let number = |name: &str| request.query_param(name).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
    let page = usize::try_from(number("page")).unwrap_or(usize::MAX).max(1);
    let per_page = match number("per_page") {
        0 => DEFAULT_PER_PAGE,
        n => usize::try_from(n).unwrap_or(MAX_PER_PAGE).min(MAX_PER_PAGE),
    };
    (page, per_page)
}

/// Percent-encode a query component (unreserved characters kept, space as `+`).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `url?query` with `page` set to `page` (in place of the first `page`, else appended).
pub(crate) fn page_url(url: &str, query: &[(String, String)], page: usize) -> String {
    let mut parts = Vec::with_capacity(query.len() + 1);
    let mut placed = false;
    for (k, v) in query {
        if k == "page" {
            if !placed {
                parts.push(format!("page={page}"));
                placed = true;
            }
        } else {
            parts.push(format!("{}={}", encode(k), encode(v)));
        }
    }
    if !placed {
        parts.push(format!("page={page}"));
    }
    format!("{url}?{}", parts.join("&"))
}

/// The `Link` header for `page` of `last` pages (None when there is nothing to link).
pub(crate) fn link(url: &str, query: &[(String, String)], page: usize, last: usize) -> Option<String> {
    let mut rels = Vec::new();
    let mut add = |p: usize, rel: &str| rels.push(format!("<{}>; rel=\"{rel}\"", page_url(url, query, p)));
    if page > 1 {
        add(page - 1, "prev");
    }
    if page < last {
        add(page + 1, "next");
        add(last, "last");
    }
    if page > 1 {
        add(1, "first");
    }
    (!rels.is_empty()).then(|| rels.join(", "))
}

/// Page `page` of `total` items (each rendered by `render(index)`) as a JSON
/// array, with the `Link` header pointing at `url`; and the number of items on it.
pub(crate) fn json_page(
    request: &Request,
    total: usize,
    url: &str,
    render: impl Fn(usize) -> Value,
) -> (Response, usize) {
    let (page, per_page) = params(request);
    let start = (page - 1).saturating_mul(per_page).min(total);
    let end = start.saturating_add(per_page).min(total);
    let body = Value::Array((start..end).map(render).collect());
    let mut response = Response::json(200, &body);
    if let Some(link) = link(url, &request.query, page, total.div_ceil(per_page)) {
        response.set_header("link", link);
    }
    (response, end - start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn links() {
        let query = q(&[("q", "language:c++ created:>2020-01-01"), ("page", "2"), ("per_page", "50")]);
        let url = "http://h/search/repositories";
        assert_eq!(
            page_url(url, &query, 3),
            "http://h/search/repositories?q=language%3Ac%2B%2B+created%3A%3E2020-01-01&page=3&per_page=50"
        );
        assert_eq!(page_url("http://h/x", &[], 2), "http://h/x?page=2");
        assert_eq!(link("http://h/x", &[], 1, 1), None);
        assert_eq!(link("http://h/x", &[], 1, 0), None);
        assert_eq!(
            link("http://h/x", &[], 1, 3).as_deref(),
            Some("<http://h/x?page=2>; rel=\"next\", <http://h/x?page=3>; rel=\"last\"")
        );
        assert_eq!(
            link("http://h/x", &[], 2, 3).as_deref(),
            Some(
                "<http://h/x?page=1>; rel=\"prev\", <http://h/x?page=3>; rel=\"next\", \
                 <http://h/x?page=3>; rel=\"last\", <http://h/x?page=1>; rel=\"first\""
            )
        );
        assert_eq!(
            link("http://h/x", &[], 3, 3).as_deref(),
            Some("<http://h/x?page=2>; rel=\"prev\", <http://h/x?page=1>; rel=\"first\"")
        );
    }

    #[test]
    fn params_default_and_clamp() {
        let req = |query: &str| Request {
            method: "GET".into(),
            path: "/x".into(),
            query: crate::http::parse_query(query),
            headers: Vec::new(),
            body: Vec::new(),
            close: false,
        };
        assert_eq!(params(&req("")), (1, 30));
        assert_eq!(params(&req("page=0&per_page=0")), (1, 30));
        assert_eq!(params(&req("page=x&per_page=-3")), (1, 30));
        assert_eq!(params(&req("page=4&per_page=500")), (4, 100));
        assert_eq!(params(&req("page=2&per_page=7")), (2, 7));
    }
}
