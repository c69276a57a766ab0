//! The crate-level error: every module's error in one enum, the exit code it maps to, and a hint
//! for the user. The CLI prints `error: ...` (and `hint: ...`) and exits with [`Error::exit_code`].

use std::path::PathBuf;

use crate::crawl::CrawlError;
use crate::github::GithubError;
use crate::merge::MergeError;
use crate::plan::{ManifestError, PlanError, SourceError};
use crate::store::StoreError;

/// Exit code for success (also a crawl stopped at its deadline with leftovers recorded).
pub const EXIT_OK: u8 = 0;
/// Exit code for runtime failures (network, disk, GitHub errors, failed work).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code for usage and input errors (bad spec, manifest, token, URL, file).
pub const EXIT_USAGE: u8 = 2;

/// Anything octoshard can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad `--source`.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A plan that cannot be made or written.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// A bad manifest.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A GitHub failure.
    #[error(transparent)]
    Github(#[from] GithubError),
    /// A crawl failure.
    #[error(transparent)]
    Crawl(#[from] CrawlError),
    /// A merge failure.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// An export failure.
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    /// A report failure.
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    /// An analysis failure (or an analysis that left repositories unanalysed).
    #[error(transparent)]
    Analyze(#[from] crate::analyze::AnalyzeError),
    /// A database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A crawl finished but some of its work items failed (the rest is stored).
    #[error("{shard}: {} work item(s) failed: {}", errors.len(), errors.join("; "))]
    WorkFailed {
        /// The shard.
        shard: String,
        /// The errors of the failed items.
        errors: Vec<String>,
    },
    /// A merge wrote its output but refused some inputs.
    #[error("merged into {}, but refused {} input(s): {}", out.display(), refused.len(), refused.join("; "))]
    InputsRefused {
        /// The output written from the good inputs.
        out: PathBuf,
        /// `path: reason` for each refused input.
        refused: Vec<String>,
    },
    /// A merge wrote its output, but work that did not stop at a deadline is unfinished (failed,
    /// interrupted or missing shards): it is in the leftovers.
    #[error("merged into {}, but {count} work item(s) are unfinished ({reasons}): see {}", out.display(), leftovers.display())]
    Unfinished {
        /// The output written.
        out: PathBuf,
        /// Unfinished items.
        count: usize,
        /// Counts by reason (`failed: 2, missing: 1`).
        reasons: String,
        /// The leftovers file.
        leftovers: PathBuf,
    },
    /// Some shards of a `run` failed; what they stored is merged and their work is in leftovers.
    #[error("{} shard(s) failed: {}", failed.len(), failed.join("; "))]
    ShardsFailed {
        /// `shard: error` for each failed shard.
        failed: Vec<String>,
    },
    /// A command-line value that clap cannot check.
    #[error("{0}")]
    Usage(String),
    /// A file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A bug: something that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        let usage = match self {
            Error::Source(_) | Error::Manifest(_) | Error::Usage(_) | Error::InputsRefused { .. } => true,
            Error::Plan(PlanError::Invalid { .. } | PlanError::Input { .. }) => true,
            Error::Github(error) | Error::Crawl(CrawlError::Github(error)) => error.is_input_error(),
            Error::Crawl(
                CrawlError::OtherShard { .. } | CrawlError::NeedsToken { .. } | CrawlError::RefreshWithoutPrevious,
            ) => true,
            Error::Merge(MergeError::NothingUsable { .. } | MergeError::Plan { .. }) => true,
            Error::Crawl(CrawlError::Store(StoreError::Incompatible { .. })) => true,
            Error::Crawl(CrawlError::Archive(crate::archive::ArchiveError::Target { .. })) => true,
            Error::Store(StoreError::Incompatible { .. }) => true,
            Error::Report(crate::report::ReportError::Input { .. } | crate::report::ReportError::NoAnalysis { .. }) => {
                true
            }
            Error::Analyze(error) => error.is_input_error(),
            Error::Export(
                crate::export::ExportError::Input { .. }
                | crate::export::ExportError::UnknownTable { .. }
                | crate::export::ExportError::Incompatible { .. },
            ) => true,
            _ => false,
        };
        if usage { EXIT_USAGE } else { EXIT_FAILURE }
    }

    /// A write failed for want of space: SQLite's full / I/O error, or ENOSPC / EFBIG.
    fn is_out_of_space(&self) -> bool {
        let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(self);
        while let Some(error) = cause {
            if let Some(rusqlite::Error::SqliteFailure(failure, _)) = error.downcast_ref::<rusqlite::Error>()
                && matches!(failure.code, rusqlite::ErrorCode::DiskFull | rusqlite::ErrorCode::SystemIoFailure)
            {
                return true;
            }
            if let Some(io) = error.downcast_ref::<std::io::Error>()
                && matches!(io.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::FileTooLarge)
            {
                return true;
            }
            cause = error.source();
        }
        false
    }

    /// A suggestion for the user, when there is a useful one.
    pub fn hint(&self) -> Option<&'static str> {
        let github = match self {
            Error::Github(error) | Error::Crawl(CrawlError::Github(error)) => Some(error),
            _ => None,
        };
        match github {
            Some(GithubError::BadCredentials { .. }) => {
                Some("check --token / GITHUB_TOKEN / GH_TOKEN: the token may be mistyped, expired or revoked")
            }
            Some(GithubError::InvalidUrl { variable: "GITHUB_GRAPHQL_URL", .. }) => {
                Some("check GITHUB_GRAPHQL_URL (default: GITHUB_API_URL followed by /graphql)")
            }
            Some(GithubError::Unreachable { .. } | GithubError::InvalidUrl { .. }) => {
                Some("check GITHUB_API_URL (default https://api.github.com) and the network")
            }
            _ => match self {
                Error::Source(_) => Some("see `octoshard plan --help` for the source kinds"),
                Error::Manifest(_) => Some("manifests are written by `octoshard plan`; see README \"Shard manifests\""),
                Error::Unfinished { .. } => Some("plan the unfinished work with --source leftovers:DIR"),
                Error::Analyze(crate::analyze::AnalyzeError::Incomplete { .. }) => {
                    Some("what was analysed is stored; run the same command again to analyse the rest")
                }
                Error::WorkFailed { .. } | Error::ShardsFailed { .. } => {
                    Some("what was fetched is stored; re-run the same command to retry the failed work")
                }
                _ if self.is_out_of_space() => Some(
                    "the disk may be full (or a file-size limit reached): free space and run the same command again; a crawl resumes where it stopped",
                ),
                _ => None,
            },
        }
    }
}
