//! Server behaviour knobs: accepted tokens, budgets and windows, the secondary
//! (concurrency) limit, fault injection rates and artificial latency. They can
//! be changed while the server runs with `FakeHub::set_options`. `app`
//! turns on GitHub App authentication (installation access tokens). The
//! code endpoints have their own: `tree_entry_limit`, `codeload_host`,
//! `fault_download_cut` and `big_archives`.

use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Options {
    /// Accepted tokens; empty = any non-empty token is accepted. Unknown token -> 401.
    pub tokens: Vec<String>,
    /// Core requests per token per window. Default 5000.
    pub core_limit: u32,
    /// GraphQL points per token per window. Default 5000.
    pub graphql_limit: u32,
    /// Search requests per token per window. Default 30.
    pub search_limit: u32,
    /// Core requests per window shared by all anonymous callers. Default 60.
    pub anonymous_limit: u32,
    /// The rate-limit "hour". Default 3600 s.
    pub window: Duration,
    /// The search budget's window is `min(window, search_window)`. Default 60 s (GitHub's minute).
    pub search_window: Duration,
    /// More in-flight requests than this for one token -> secondary-limit 403. Default 100.
    pub max_concurrency: usize,
    /// Fraction of requests answered 500/502/503.
    pub fault_5xx: f64,
    /// Fraction answered with a secondary-limit 403 or 429 (alternating) + retry-after.
    pub fault_secondary: f64,
    /// Fraction where the connection is dropped without any response.
    pub fault_reset: f64,
    /// Fraction where the body is cut short of its Content-Length, then the connection closed.
    pub fault_truncate: f64,
    /// Fraction of 200 JSON bodies replaced by invalid JSON.
    pub fault_malformed: f64,
    /// Fraction of responses delayed by `slow_delay`.
    pub slow_fraction: f64,
    pub slow_delay: Duration,
    /// Added to every response.
    pub latency: Duration,
    /// `retry-after` seconds on secondary-limit responses. Default 1.
    pub retry_after_secs: u64,
    /// Seed of the fault RNG.
    pub seed: u64,
    /// Misbehaviour: `Link` headers point at this base URL instead of the server's own (a server
    /// that sends its clients to another host). Default None.
    pub link_base: Option<String>,
    /// Misbehaviour: `GET /repositories` ignores `since` and always answers the first page.
    pub ignore_since: bool,
    /// A GitHub App installed once: `POST /app/installations/{id}/access_tokens`
    /// with the app's JWT issues `ghs_` installation tokens. Default None.
    pub app: Option<AppOptions>,
    /// A GraphQL query returning more objects than this (connection items,
    /// `nodes(ids:)` entries, root lookups) is answered like GitHub's timeout:
    /// HTTP 200, `data: null`, "Something went wrong while executing your
    /// query. This may be the result of a timeout ..." (still charged), so a
    /// crawler must split its queries. Default None (no timeouts).
    pub graphql_timeout_nodes: Option<u64>,
    /// `GET .../git/trees/{sha}?recursive=1` lists at most this many entries,
    /// then `"truncated": true`. Default None (GitHub's limit is 100,000
    /// entries or 7 MB; fakehub's trees are far smaller).
    pub tree_entry_limit: Option<usize>,
    /// The download host's bind address (`FakeHub::codeload_url`), read at
    /// start only. Default `127.0.0.1`; any `127.x.y.z` works on Linux.
    pub codeload_host: String,
    /// Fraction of downloads from the download host cut mid-body (the
    /// connection closes), drawn per download from `seed`.
    pub fault_download_cut: f64,
    /// (repository id, bytes): that repository's tree gets one more file,
    /// `assets/big-{id}.bin`, of incompressible bytes, so its `.tar.gz` (then
    /// stored, deflate level 0) is about `bytes` long. Generated while
    /// streaming. Default none.
    pub big_archives: Vec<(u64, u64)>,
    /// GraphQL resolves only legacy node ids (`MDEw...`), answering next-format
    /// ones (`R_kgDO...`) NOT_FOUND: a GitHub that stopped accepting ids a
    /// client computed. Default false (both resolve, as on github.com).
    pub legacy_ids_only: bool,
}

/// The GitHub App that may ask for installation access tokens.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// The app id: the JWT's `iss` claim (a number or a string of digits).
    pub app_id: u64,
    /// The one installation: `/app/installations/{installation_id}/access_tokens`.
    pub installation_id: u64,
    /// The app's public key, PKCS#1 RSAPublicKey DER (what
    /// `openssl rsa -RSAPublicKey_out -outform DER` writes); verifies RS256 JWTs.
    pub public_key_der: Vec<u8>,
    /// Lifetime of an installation token (GitHub: 1 hour). `expires_at` is
    /// rounded up to the whole second and the token is refused from then on.
    pub token_ttl: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tokens: Vec::new(),
            core_limit: 5000,
            graphql_limit: 5000,
            search_limit: 30,
            anonymous_limit: 60,
            window: Duration::from_secs(3600),
            search_window: Duration::from_secs(60),
            max_concurrency: 100,
            fault_5xx: 0.0,
            fault_secondary: 0.0,
            fault_reset: 0.0,
            fault_truncate: 0.0,
            fault_malformed: 0.0,
            slow_fraction: 0.0,
            slow_delay: Duration::from_millis(500),
            latency: Duration::ZERO,
            retry_after_secs: 1,
            seed: 1,
            link_base: None,
            ignore_since: false,
            app: None,
            graphql_timeout_nodes: None,
            tree_entry_limit: None,
            codeload_host: "127.0.0.1".to_string(),
            fault_download_cut: 0.0,
            big_archives: Vec::new(),
            legacy_ids_only: false,
        }
    }
}

impl Options {
    /// Options with these accepted tokens and defaults otherwise.
    pub fn with_tokens<S: Into<String>>(tokens: impl IntoIterator<Item = S>) -> Self {
        Options { tokens: tokens.into_iter().map(Into::into).collect(), ..Default::default() }
    }
}
