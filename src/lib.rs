//! octoshard: crawl GitHub at any scale by splitting the work into shards that a GitHub Actions
//! matrix (or one machine) crawls in parallel, then merging the shard databases.
//!
//! # Layout
//!
//! The modules follow the pipeline:
//!
//! - [`plan`]: source specs (`ids:A..B`, ...) and the deterministic split into shard manifests.
//! - [`github`]: the one HTTP policy layer every GitHub request goes through (credentials, rate
//!   limits, retries, accounting).
//! - [`crawl`]: walks the work items of one manifest and stores what it finds, resumably.
//! - [`store`]: the SQLite schema shared by shard files and merged files.
//! - [`merge`]: validates shard files and folds them into one database, plus leftovers.
//! - [`artifact`]: gzip and atomic file writes for the files that cross job boundaries.
//! - [`analyze`]: a category and a quality score for every repository (rules, or an LLM).
//! - [`export`]: every table into PostgreSQL, JSON Lines or CSV.
//! - [`report`]: the crawl for people: Markdown and JSON summaries, an awesome-list README, an
//!   HTML page of charts.
//! - [`actions`]: GitHub Actions integration (outputs, step summaries, annotations).
//! - [`run`]: the whole graph on one machine.
//! - [`error`]: the crate-level error, its exit code and the hint a user sees.
//!
//! `src/main.rs` only calls [`cli::main`]; environment variables and secrets are read in [`cli`].

pub mod actions;
pub mod analyze;
pub mod archive;
pub mod artifact;
pub mod bars;
pub mod cli;
pub mod crawl;
pub mod error;
pub mod export;
pub mod github;
pub mod merge;
pub mod plan;
pub mod report;
pub mod run;
pub mod store;
pub mod time;

pub use error::{Error, Result};

/// The version recorded in manifests and databases, so a file says which tool wrote it.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The commit this binary was built from (12 hex digits, or `unknown` without git), so a bug
/// report or a database can be traced to the exact source (`build.rs`).
pub const TOOL_COMMIT: &str = env!("OCTOSHARD_COMMIT");

/// What `octoshard --version` prints after the name: the version and the commit.
pub const LONG_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("OCTOSHARD_COMMIT"), ")");
