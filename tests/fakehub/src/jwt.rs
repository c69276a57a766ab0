//! GitHub App JSON web tokens, checked the way GitHub checks them before it
//! issues an installation access token: three unpadded base64url parts, a
//! header with `alg` RS256, an RS256 (PKCS#1 v1.5, SHA-256) signature over
//! `header.payload` made with the app's key, `iss` = the app id (a number or
//! a string of digits), `iat` at most 60 s in the future, `exp` in the future
//! and at most 600 s ahead of the server's clock (GitHub's "no more than 10
//! minutes into the future"). Every failure maps to one of GitHub's 401 messages.

use serde_json::Value;

/// Why a JWT was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JwtError {
    /// Not three base64url parts of JSON, not RS256, bad signature, unknown app.
    Undecodable,
    /// `iss` is missing or not an integer.
    Issuer,
    /// `iat` is missing, not numeric or too far in the future.
    IssuedAt,
    /// `exp` is missing, not numeric or not in the future.
    Expired,
    /// `exp` is more than 10 minutes ahead.
    TooFar,
}

impl JwtError {
    /// GitHub's `message` for this failure.
    pub fn message(self) -> &'static str {
        match self {
            JwtError::Undecodable => "A JSON web token could not be decoded",
            JwtError::Issuer => "'Issuer' claim ('iss') must be an Integer",
            JwtError::IssuedAt => {
                "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
            }
            JwtError::Expired => {
                "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
            }
            JwtError::TooFar => "'Expiration time' claim ('exp') is too far in the future",
        }
    }
}

/// How far in the future `iat` may be (clock drift), seconds.
pub(crate) const IAT_LEEWAY: i64 = 60;
/// How far ahead of now `exp` may be, seconds.
pub(crate) const MAX_LIFETIME: i64 = 600;

/// Whether a bearer credential is shaped like a JWT (three dot-separated parts).
pub(crate) fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

/// Verify an app JWT for `app_id` against its PKCS#1 RSAPublicKey DER at epoch time `now`.
/// `app_id` None (no app configured) refuses every token as undecodable.
pub(crate) fn verify(token: &str, app_id: Option<u64>, public_key_der: &[u8], now: f64) -> Result<(), JwtError> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts.as_slice() else {
        return Err(JwtError::Undecodable);
    };
    let json = |part: &str| -> Result<serde_json::Map<String, Value>, JwtError> {
        let bytes = base64url_decode(part).ok_or(JwtError::Undecodable)?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(JwtError::Undecodable),
        }
    };
    let header = json(header_b64)?;
    let claims = json(payload_b64)?;
    let signature = base64url_decode(signature_b64).ok_or(JwtError::Undecodable)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(JwtError::Undecodable);
    }
    if header.get("typ").is_some_and(|t| !t.as_str().is_some_and(|t| t.eq_ignore_ascii_case("JWT"))) {
        return Err(JwtError::Undecodable);
    }
    // `iss` selects the key: it must be an integer, and the app must exist.
    let iss = match claims.get("iss") {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        _ => None,
    };
    let Some(iss) = iss else { return Err(JwtError::Issuer) };
    if app_id != Some(iss) {
        return Err(JwtError::Undecodable);
    }
    let message = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public_key_der)
        .verify(message, &signature)
        .map_err(|_| JwtError::Undecodable)?;
    let now = now.floor() as i64;
    let iat = claims.get("iat").and_then(numeric).ok_or(JwtError::IssuedAt)?;
    if iat > now + IAT_LEEWAY {
        return Err(JwtError::IssuedAt);
    }
    let exp = claims.get("exp").and_then(numeric).ok_or(JwtError::Expired)?;
    if exp <= now {
        return Err(JwtError::Expired);
    }
    if exp > now + MAX_LIFETIME {
        return Err(JwtError::TooFar);
    }
    Ok(())
}

/// A JSON number as whole seconds (fractions are dropped).
fn numeric(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f.floor() as i64))
}

/// Decode unpadded base64url (RFC 7515 section 2); None for any other character,
/// padding included, or an impossible length.
pub(crate) fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        } as u32)
    };
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.as_bytes().chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = (acc << 6) | value(c)?;
        }
        let bits = chunk.len() * 6;
        acc <<= 24 - bits;
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..1 + bits / 8]);
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// Unpadded base64url.
    pub(crate) fn base64url_encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut acc = 0u32;
            for (i, &b) in chunk.iter().enumerate() {
                acc |= u32::from(b) << (16 - 8 * i);
            }
            for i in 0..=chunk.len() {
                out.push(ALPHABET[(acc >> (18 - 6 * i) & 63) as usize] as char);
            }
        }
        out
    }

    /// The PKCS#1 DER of the test key in `tests/fixtures/app-key.pem`.
    fn private_der() -> Vec<u8> {
        let pem = include_str!("../../fixtures/app-key.pem");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let url: String = body
            .chars()
            .map(|c| {
                if c == '+' {
                    '-'
                } else if c == '/' {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        base64url_decode(url.trim_end_matches('=')).expect("PEM body")
    }

    pub(crate) const PUBLIC_DER: &[u8] = include_bytes!("../../fixtures/app-key.pub.der");

    fn sign(header: &Value, claims: &Value) -> String {
        let key = ring::signature::RsaKeyPair::from_der(&private_der()).expect("key");
        let input = format!(
            "{}.{}",
            base64url_encode(header.to_string().as_bytes()),
            base64url_encode(claims.to_string().as_bytes())
        );
        let mut sig = vec![0; key.public().modulus_len()];
        key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), input.as_bytes(), &mut sig)
            .expect("sign");
        format!("{input}.{}", base64url_encode(&sig))
    }

    const NOW: f64 = 1_700_000_000.5;
    const APP: Option<u64> = Some(4242);

    fn rs256() -> Value {
        json!({"alg": "RS256", "typ": "JWT"})
    }

    fn check(claims: Value) -> Result<(), JwtError> {
        verify(&sign(&rs256(), &claims), APP, PUBLIC_DER, NOW)
    }

    #[test]
    fn base64url_round_trip() {
        for n in 0..40 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base64url_decode(&base64url_encode(&bytes)), Some(bytes));
        }
        assert_eq!(base64url_decode("eyJ"), Some(b"{\"".to_vec()));
        assert_eq!(base64url_decode("YQ=="), None, "no padding");
        assert_eq!(base64url_decode("a+b/"), None, "not the url alphabet");
        assert_eq!(base64url_decode("abcde"), None, "impossible length");
    }

    #[test]
    fn accepts_a_good_token() {
        let now = NOW as i64;
        assert_eq!(check(json!({"iat": now - 60, "exp": now + 600, "iss": 4242})), Ok(()));
        assert_eq!(check(json!({"iat": now - 60, "exp": now + 540, "iss": "4242"})), Ok(()), "iss as string");
        assert_eq!(check(json!({"iat": now + 59, "exp": now + 60, "iss": 4242})), Ok(()), "small clock drift");
        let no_typ = sign(&json!({"alg": "RS256"}), &json!({"iat": now, "exp": now + 60, "iss": 4242}));
        assert_eq!(verify(&no_typ, APP, PUBLIC_DER, NOW), Ok(()));
    }

    #[test]
    fn refuses_bad_tokens_with_githubs_messages() {
        let now = NOW as i64;
        let good = json!({"iat": now - 30, "exp": now + 500, "iss": 4242});
        let token = sign(&rs256(), &good);
        // Tampered payload, tampered signature, truncated, wrong app, no app.
        let (h, rest) = token.split_once('.').expect("parts");
        let (_, s) = rest.split_once('.').expect("parts");
        let other = base64url_encode(json!({"iat": now - 30, "exp": now + 500, "iss": 4243}).to_string().as_bytes());
        assert_eq!(verify(&format!("{h}.{other}.{s}"), Some(4243), PUBLIC_DER, NOW), Err(JwtError::Undecodable));
        let mut flipped = token.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).expect("ascii");
        assert_eq!(verify(&flipped, APP, PUBLIC_DER, NOW), Err(JwtError::Undecodable));
        assert_eq!(verify(&token[..token.len() - 3], APP, PUBLIC_DER, NOW), Err(JwtError::Undecodable));
        assert_eq!(verify(&token, Some(1), PUBLIC_DER, NOW), Err(JwtError::Undecodable));
        assert_eq!(verify(&token, None, PUBLIC_DER, NOW), Err(JwtError::Undecodable));
        assert_eq!(verify("a.b", APP, PUBLIC_DER, NOW), Err(JwtError::Undecodable));
        assert_eq!(verify(&format!("{token}="), APP, PUBLIC_DER, NOW), Err(JwtError::Undecodable));
        // Wrong algorithm or type.
        let hs = sign(&json!({"alg": "HS256", "typ": "JWT"}), &good);
        assert_eq!(verify(&hs, APP, PUBLIC_DER, NOW), Err(JwtError::Undecodable));
        let jwe = sign(&json!({"alg": "RS256", "typ": "JWE"}), &good);
        assert_eq!(verify(&jwe, APP, PUBLIC_DER, NOW), Err(JwtError::Undecodable));
        // Claims.
        assert_eq!(check(json!({"iat": now, "exp": now + 60, "iss": "Iv1.abc"})), Err(JwtError::Issuer));
        assert_eq!(check(json!({"iat": now, "exp": now + 60})), Err(JwtError::Issuer));
        assert_eq!(check(json!({"iat": now + 61, "exp": now + 120, "iss": 4242})), Err(JwtError::IssuedAt));
        assert_eq!(check(json!({"iat": "now", "exp": now + 120, "iss": 4242})), Err(JwtError::IssuedAt));
        assert_eq!(check(json!({"iat": now - 600, "exp": now, "iss": 4242})), Err(JwtError::Expired));
        assert_eq!(check(json!({"iat": now - 60, "iss": 4242})), Err(JwtError::Expired));
        assert_eq!(check(json!({"iat": now, "exp": now + 601, "iss": 4242})), Err(JwtError::TooFar));
        assert_eq!(check(json!({"iat": now, "exp": now + 660, "iss": 4242})), Err(JwtError::TooFar));
        assert!(JwtError::Expired.message().starts_with("'Expiration time' claim ('exp') must be a numeric value"));
    }
}
