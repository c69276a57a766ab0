//! Credentials: the secret token and the harmless label that stands for it everywhere else.
//! `Secret` has no `Display` and a redacting `Debug`, so a token cannot reach a log or an error
//! by accident; only the request path calls [`Secret::expose`].

use std::fmt;

/// A token. Printing it (`{:?}`) shows `Secret(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a token read by the CLI layer.
    pub fn new(token: impl Into<String>) -> Secret {
        Secret(token.into())
    }

    /// The token itself, for the `Authorization` header and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One credential the client may spend: a token with a label, or anonymous access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credential {
    /// What logs, databases and summaries call this credential (`token-1`, `anonymous`).
    pub label: String,
    /// The token; `None` is anonymous access (60 requests/hour on github.com).
    pub token: Option<Secret>,
}

impl Credential {
    /// Anonymous access.
    pub fn anonymous() -> Credential {
        Credential { label: "anonymous".into(), token: None }
    }

    /// A personal access token or `GITHUB_TOKEN`, labelled by position.
    pub fn token(label: impl Into<String>, token: Secret) -> Credential {
        Credential { label: label.into(), token: Some(token) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let credential = Credential::token("token-1", Secret::new("ghp_supersecret"));
        let printed = format!("{credential:?} {:?}", credential.token);
        assert!(!printed.contains("supersecret"), "{printed}");
        assert!(printed.contains("token-1"));
    }
}
