//! GitHub Actions integration: job outputs (`GITHUB_OUTPUT`) and step summaries
//! (`GITHUB_STEP_SUMMARY`). The CLI layer reads the environment and passes paths in; these
//! functions only write the documented formats.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Where the Actions runner wants outputs and summaries, read from the environment by the CLI.
#[derive(Clone, Debug, Default)]
pub struct ActionsEnv {
    /// `GITHUB_OUTPUT`.
    pub output: Option<PathBuf>,
    /// `GITHUB_STEP_SUMMARY`.
    pub step_summary: Option<PathBuf>,
}

/// Appends `name=value` to an outputs file, switching to the multi-line form
/// (`name<<DELIMITER`) when the value has a newline.
pub fn append_output(path: &Path, name: &str, value: &str) -> io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    if value.contains('\n') || value.contains('\r') {
        let mut delimiter = String::from("octoshard_EOF");
        while value.contains(&delimiter) {
            delimiter.push('_');
        }
        writeln!(file, "{name}<<{delimiter}\n{value}\n{delimiter}")
    } else {
        writeln!(file, "{name}={value}")
    }
}

/// Appends Markdown to the step summary.
pub fn append_summary(path: &Path, markdown: &str) -> io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(markdown.as_bytes())?;
    if !markdown.ends_with('\n') {
        file.write_all(b"\n")?;
    }
    Ok(())
}

/// The plan's forecast for the step summary.
pub fn plan_summary_markdown(plan: &crate::plan::Plan) -> String {
    let e = &plan.file.estimate;
    format!(
        "### octoshard plan `{}`\n\n| source | shards | waves | repositories | REST requests | GraphQL points | search requests | credential-hours | binding budget | hours per job | wall hours | jobs fit |\n|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|\n| `{}` | {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} | {} | {:.1} | {:.1} | {} |\n",
        plan.file.plan_id,
        plan.file.source.replace('|', "\\|"),
        plan.manifests.len(),
        plan.waves(),
        e.total.repositories,
        e.total.core,
        e.total.graphql,
        e.total.search,
        e.credential_hours,
        e.binding_budget,
        e.job_hours,
        e.wall_hours,
        if e.jobs_fit { "yes" } else { "no: leftovers" }
    )
}

/// A Markdown table of shard crawls for the step summary: one row per shard.
pub fn crawl_summary_markdown(title: &str, crawls: &[crate::crawl::CrawlSummary]) -> String {
    let mut text = format!(
        "### {title}\n\n| shard | status | repositories | detailed | gone | requests | points | 304 / conditional | retries | waited | duration |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for c in crawls {
        let s = &c.stats;
        text.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} / {} | {} | {:.1} s | {:.1} s |\n",
            c.shard,
            c.status.as_str(),
            c.repositories,
            s.detailed,
            s.gone,
            s.requests,
            s.cost,
            s.not_modified,
            s.conditional,
            s.retries,
            s.waited.as_secs_f64(),
            s.elapsed.as_secs_f64()
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crawl_summaries_are_one_table_row_per_shard() {
        let summary = crate::crawl::CrawlSummary {
            shard: "shard-0001".into(),
            status: crate::crawl::ShardStatus::Completed,
            repositories: 42,
            stats: crate::crawl::CrawlStats {
                requests: 3,
                cost: 2,
                conditional: 2,
                not_modified: 1,
                ..Default::default()
            },
            errors: Vec::new(),
            out: "x".into(),
        };
        let text = crawl_summary_markdown("Crawl", &[summary]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "### Crawl");
        assert_eq!(lines[4], "| shard-0001 | completed | 42 | 0 | 0 | 3 | 2 | 1 / 2 | 0 | 0.0 s | 0.0 s |");
        assert_eq!(lines[2].matches('|').count(), lines[4].matches('|').count());
    }

    #[test]
    fn outputs_use_the_documented_forms() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output");
        append_output(&path, "matrix", r#"{"shard":["shard-0000"]}"#).unwrap();
        append_output(&path, "shards", "1").unwrap();
        append_output(&path, "notes", "a\noctoshard_EOF\nb").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "matrix={\"shard\":[\"shard-0000\"]}\nshards=1\nnotes<<octoshard_EOF_\na\noctoshard_EOF\nb\noctoshard_EOF_\n"
        );
    }
}
