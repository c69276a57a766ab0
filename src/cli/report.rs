//! `octoshard report`: flags into a [`ReportRequest`], the summary to standard output (or a
//! file), and in GitHub Actions the Markdown summary to the step summary.

use std::path::PathBuf;

use clap::Args;

use super::{ActionsEnv, append_step_summary};
use crate::Result;
use crate::report::{Format, ReportRequest};

/// `report` arguments.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The database (.sqlite or .sqlite.gz, a shard or a merged file).
    #[arg(long, value_name = "FILE")]
    pub db: PathBuf,
    /// The summary's format: markdown (fits a step summary) or json (versioned shape, see
    /// docs/REPORT.md).
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ReportFormat,
    /// Write the summary here instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Also write an awesome-list README of the repositories by category (needs `analyze`).
    #[arg(long, value_name = "FILE")]
    pub readme: Option<PathBuf>,
    /// Also write a self-contained HTML page of charts into this folder (DIR/index.html).
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
    /// Repositories per category in the README.
    #[arg(long, default_value_t = 10, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub top: u32,
    /// Where README links point (GitHub Enterprise Server: its web address).
    #[arg(long, default_value = "https://github.com", value_name = "URL")]
    pub web_url: String,
}

/// `--format` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown tables.
    Markdown,
    /// JSON.
    Json,
}

/// Runs `report`.
pub fn report_command(args: ReportArgs, actions: &ActionsEnv) -> Result<()> {
    if !(args.web_url.starts_with("https://") || args.web_url.starts_with("http://")) {
        return Err(crate::Error::Usage(format!("--web-url `{}` is not an http(s) address", args.web_url)));
    }
    let request = ReportRequest {
        db: args.db,
        format: match args.format {
            ReportFormat::Markdown => Format::Markdown,
            ReportFormat::Json => Format::Json,
        },
        out: args.out,
        readme: args.readme,
        html: args.html,
        top: args.top as usize,
        web_url: args.web_url,
    };
    let reported = crate::report::report(&request)?;
    if request.out.is_none() {
        print!("{}", reported.summary);
    }
    if let (Some(path), Some(n)) = (&request.readme, reported.readme_categories) {
        tracing::info!("README with {n} categories written to {}", path.display());
    }
    if let Some(page) = &reported.html {
        tracing::info!(
            "HTML report with {} charts ({} skipped: no data) written to {}",
            page.drawn.len(),
            page.skipped.len(),
            page.path.display()
        );
    }
    append_step_summary(actions, || reported.markdown.clone())
}
