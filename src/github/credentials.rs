//! Credentials: the secrets and the harmless labels that stand for them everywhere else.
//!
//! `Secret` and `AppKey` have no `Display` and a redacting `Debug`, so a token or key cannot reach
//! a log or an error by accident; only the request path calls [`Secret::expose`].

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

/// A token. Printing it (`{:?}`) shows `Secret(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a token (read by the CLI layer, or minted for an App installation).
    pub fn new(token: impl Into<String>) -> Secret {
        let token = token.into();
        // Inside GitHub Actions, hide it from the job log before anything could print it.
        crate::actions::mask(&token);
        Secret(token)
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

/// A GitHub App's private key, parsed once. `Debug` shows nothing of it.
pub struct AppKey(RsaKeyPair);

impl AppKey {
    /// Reads the PEM GitHub hands out (`BEGIN RSA PRIVATE KEY`, PKCS#1) or a PKCS#8 key.
    pub fn from_pem(pem: &str) -> Result<AppKey, String> {
        let (label, der) = pem_body(pem)?;
        let pair = match label.as_str() {
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der).map_err(|e| format!("not a usable RSA key ({e})"))?,
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der).map_err(|e| format!("not a usable RSA key ({e})"))?,
            other => return Err(format!("expected an RSA private key, found a PEM `{other}` block")),
        };
        Ok(AppKey(pair))
    }

    /// An app JWT (RS256) for `app_id`, valid from a minute ago (clock skew) for nine minutes
    /// (GitHub allows at most ten).
    pub fn jwt(&self, app_id: u64, now_epoch: u64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({ "iat": now_epoch.saturating_sub(60), "exp": now_epoch + 540, "iss": app_id.to_string() });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let message = format!("{header}.{claims}");
        let mut signature = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(&RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), message.as_bytes(), &mut signature)
            .expect("RSA signing with a valid key does not fail");
        format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

impl fmt::Debug for AppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppKey(***)")
    }
}

fn pem_body(pem: &str) -> Result<(String, Vec<u8>), String> {
    let mut lines = pem.lines().map(str::trim).skip_while(|l| !l.starts_with("-----BEGIN "));
    let begin = lines.next().ok_or("no `-----BEGIN ... PRIVATE KEY-----` line found")?;
    let label = begin.trim_start_matches("-----BEGIN ").trim_end_matches('-').trim().to_string();
    let body: String = lines.take_while(|l| !l.starts_with("-----END ")).collect();
    let der = STANDARD.decode(body).map_err(|_| "the PEM body is not valid base64".to_string())?;
    Ok((label, der))
}

/// A GitHub App installation: the scalable credential (5,000 to 12,500 requests/hour each).
#[derive(Debug)]
pub struct AppCredential {
    /// The App's id.
    pub app_id: u64,
    /// The installation whose token to use.
    pub installation_id: u64,
    /// The App's private key.
    pub key: AppKey,
}

/// How a credential authenticates.
#[derive(Debug)]
pub enum Auth {
    /// No token: 60 requests/hour on github.com.
    Anonymous,
    /// A personal access token or Actions `GITHUB_TOKEN`.
    Token(Secret),
    /// A GitHub App installation; the client exchanges a JWT for installation tokens.
    App(Box<AppCredential>),
}

/// One credential the client may spend, with the label logs and databases use for it.
#[derive(Debug)]
pub struct Credential {
    /// What logs, databases and summaries call this credential (`token-1`, `app-123/4567`).
    pub label: String,
    /// How it authenticates.
    pub auth: Auth,
}

impl Credential {
    /// Anonymous access.
    pub fn anonymous() -> Credential {
        Credential { label: "anonymous".into(), auth: Auth::Anonymous }
    }

    /// A token, labelled by the caller (`token-1`, ...).
    pub fn token(label: impl Into<String>, token: Secret) -> Credential {
        Credential { label: label.into(), auth: Auth::Token(token) }
    }

    /// A GitHub App installation.
    pub fn app(app: AppCredential) -> Credential {
        Credential { label: format!("app-{}/{}", app.app_id, app.installation_id), auth: Auth::App(Box::new(app)) }
    }

    /// True for anonymous access.
    pub fn is_anonymous(&self) -> bool {
        matches!(self.auth, Auth::Anonymous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = include_str!("../../tests/fixtures/app-key.pem");

    #[test]
    fn debug_never_shows_a_secret() {
        let credential = Credential::token("token-1", Secret::new("ghp_supersecret"));
        let app = Credential::app(AppCredential { app_id: 1, installation_id: 2, key: AppKey::from_pem(KEY).unwrap() });
        let printed = format!("{credential:?} {app:?}");
        assert!(!printed.contains("supersecret"), "{printed}");
        assert!(
            printed.contains("token-1") && printed.contains("AppKey(***)") && printed.contains("app-1/2"),
            "{printed}"
        );
    }

    #[test]
    fn app_jwts_verify_with_the_public_key() {
        let key = AppKey::from_pem(KEY).unwrap();
        let jwt = key.jwt(42, 1_700_000_000);
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims, serde_json::json!({ "iat": 1_699_999_940u64, "exp": 1_700_000_540u64, "iss": "42" }));
        let public = include_bytes!("../../tests/fixtures/app-key.pub.der");
        let verifier = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public);
        let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        verifier.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature).unwrap();
    }

    #[test]
    fn bad_keys_say_why() {
        assert!(AppKey::from_pem("hello").unwrap_err().contains("no `-----BEGIN"));
        assert!(
            AppKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")
                .unwrap_err()
                .contains("CERTIFICATE")
        );
        assert!(
            AppKey::from_pem("-----BEGIN RSA PRIVATE KEY-----\n!!!\n-----END RSA PRIVATE KEY-----")
                .unwrap_err()
                .contains("base64")
        );
    }
}
