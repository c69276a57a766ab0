//! GraphQL through the same policy. GitHub answers rate limiting and per-node failures with HTTP
//! 200 and an `errors` array beside partial `data`; this keeps the data, hands the per-node errors
//! to the caller, treats `RATE_LIMITED` as a spent budget (wait for the reset, then resend), and
//! records the query's real cost from `rateLimit { cost }`.

use reqwest::Method;
use serde::Deserialize;
use serde_json::Value;

use super::client::{Request, github_message};
use super::retry::backoff;
use super::{GitHub, GithubError, RequestKind, RequestRecord};

/// GitHub's limit of ids per `nodes(ids:)` query (and of aliased lookups octoshard puts in one).
pub const NODES_PER_QUERY: usize = 100;

/// One entry of a GraphQL `errors` array.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct GraphqlError {
    /// `NOT_FOUND`, `FORBIDDEN`, `RATE_LIMITED`, ... (absent for some server errors).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// Where in the data it applies (`["nodes", 3]`).
    #[serde(default)]
    pub path: Vec<Value>,
    /// GitHub's message.
    #[serde(default)]
    pub message: String,
}

/// A GraphQL string literal (quotes, backslashes and control characters escaped), for values
/// written into a query (names, node ids, cursors).
pub fn literal(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

impl GraphqlError {
    /// The index into a top-level list field (`nodes`) this error is about.
    pub fn index_in(&self, field: &str) -> Option<usize> {
        match self.path.as_slice() {
            [Value::String(name), Value::Number(index), ..] if name == field => index.as_u64().map(|i| i as usize),
            _ => None,
        }
    }
}

/// A GraphQL answer with data (possibly partial).
#[derive(Debug)]
pub struct GraphqlResponse {
    /// The `data` object.
    pub data: Value,
    /// Per-field errors that came with the data.
    pub errors: Vec<GraphqlError>,
    /// Every attempt.
    pub records: Vec<RequestRecord>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

impl GraphqlError {
    /// GitHub could not run the query within its limits: a timeout or too many nodes.
    pub fn is_too_big(&self) -> bool {
        let kind = self.kind.as_deref().unwrap_or_default();
        matches!(kind, "MAX_NODE_LIMIT_EXCEEDED" | "TIMEOUT") || self.message.to_ascii_lowercase().contains("timeout")
    }
}

impl GitHub {
    /// Runs a query. Errors only when no data came back after retries.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        kind: RequestKind,
    ) -> Result<GraphqlResponse, GithubError> {
        let body = serde_json::to_vec(&serde_json::json!({ "query": query, "variables": variables }))
            .expect("JSON serializes");
        let mut records = Vec::new();
        let result = self.graphql_attempts(body, kind, &mut records).await;
        if result.is_err() {
            super::ledger::spill(records);
        }
        result
    }

    /// [`GitHub::graphql`]'s loop; `records` holds the attempts whose answers were not usable.
    async fn graphql_attempts(
        &self,
        body: Vec<u8>,
        kind: RequestKind,
        records: &mut Vec<RequestRecord>,
    ) -> Result<GraphqlResponse, GithubError> {
        let url = self.graphql_url().to_string();
        let mut failures = 0;
        loop {
            let response = self
                .execute(Request { method: Method::POST, url: &url, kind, etag: None, body: Some(body.clone()) })
                .await?;
            let credential = response.credential;
            records.extend(response.records);
            let problem = if response.status != 200 {
                if (400..500).contains(&response.status) {
                    return Err(GithubError::Graphql {
                        url,
                        message: format!("HTTP {}: {}", response.status, github_message(&response.body)),
                    });
                }
                format!("HTTP {}", response.status)
            } else {
                match serde_json::from_slice::<Envelope>(&response.body) {
                    Err(error) => format!("invalid JSON ({error})"),
                    Ok(envelope) if envelope.errors.iter().any(|e| e.kind.as_deref() == Some("RATE_LIMITED")) => {
                        if let Some(last) = records.last_mut() {
                            last.error = Some("RATE_LIMITED".into());
                        }
                        let reset = response
                            .headers
                            .get("x-ratelimit-reset")
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.parse().ok());
                        self.book_exhaust(credential, "graphql", reset);
                        continue;
                    }
                    Ok(Envelope { data: Some(data), errors }) if !data.is_null() => {
                        if let (Some(last), Some(cost)) =
                            (records.last_mut(), data.pointer("/rateLimit/cost").and_then(Value::as_u64))
                        {
                            last.cost = cost as u32;
                        }
                        return Ok(GraphqlResponse { data, errors, records: std::mem::take(records) });
                    }
                    Ok(Envelope { errors, .. }) => {
                        let message = errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
                        if errors.iter().any(GraphqlError::is_too_big) {
                            return Err(GithubError::GraphqlTooBig { url, message });
                        }
                        // A query GitHub refuses outright (bad syntax, too many ids) will not improve.
                        if errors
                            .iter()
                            .any(|e| matches!(e.kind.as_deref(), Some(k) if k != "INTERNAL" && k != "TIMEOUT"))
                        {
                            return Err(GithubError::Graphql { url, message });
                        }
                        format!("no data ({message})")
                    }
                }
            };
            failures += 1;
            if let Some(last) = records.last_mut() {
                last.error = Some(problem.clone());
            }
            if failures > self.policy().max_retries {
                return Err(GithubError::Graphql { url, message: format!("{problem} after {failures} attempts") });
            }
            let wait = backoff(failures, self.policy().backoff_base, self.policy().backoff_cap);
            tracing::warn!("GraphQL query failed ({problem}); retry {failures} in {wait:?}");
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_at_their_node() {
        let error: GraphqlError = serde_json::from_value(serde_json::json!({
            "type": "NOT_FOUND", "path": ["nodes", 3], "message": "Could not resolve to a node"
        }))
        .unwrap();
        assert_eq!(error.index_in("nodes"), Some(3));
        assert_eq!(error.index_in("repository"), None);
        let bare: GraphqlError =
            serde_json::from_value(serde_json::json!({ "message": "Something went wrong" })).unwrap();
        assert_eq!((bare.index_in("nodes"), bare.kind), (None, None));
    }
}
