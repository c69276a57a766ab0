//! GitHub Actions integration: job outputs (`GITHUB_OUTPUT`), step summaries
//! (`GITHUB_STEP_SUMMARY`) and workflow commands (`::group::`, `::warning::`, `::error::`,
//! `::add-mask::`). The CLI layer reads the environment, passes paths in and switches workflow
//! commands on when `GITHUB_ACTIONS=true`; these functions only write the documented formats.
//! Workflow commands go to stderr, which the runner reads like stdout, so that stdout stays the
//! command's data (the matrix JSON of `plan`).

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

static WORKFLOW_COMMANDS: AtomicBool = AtomicBool::new(false);

/// Turns workflow commands on (inside GitHub Actions) or off.
pub fn enable_workflow_commands(on: bool) {
    WORKFLOW_COMMANDS.store(on, Ordering::Relaxed);
}

fn emit(line: &str) {
    if WORKFLOW_COMMANDS.load(Ordering::Relaxed) {
        let mut err = io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

/// Escapes a workflow command's message (`%`, CR, LF), as the runner unescapes them.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a workflow command's property value (also `:` and `,`).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Hides a secret in every later line of the job's log. Called for every token and key the
/// moment it exists, including installation tokens minted during a crawl.
pub fn mask(secret: &str) {
    for line in secret.lines().map(str::trim).filter(|line| !line.is_empty()) {
        emit(&format!("::add-mask::{}", escape_data(line)));
    }
}

/// A warning annotation on the run's summary page.
pub fn warning(title: &str, message: &str) {
    emit(&format!("::warning title={}::{}", escape_property(title), escape_data(message)));
}

/// An error annotation on the run's summary page.
pub fn error(title: &str, message: &str) {
    emit(&format!("::error title={}::{}", escape_property(title), escape_data(message)));
}

/// A collapsible log group; it closes when the guard is dropped.
#[must_use = "the group closes when this guard is dropped"]
pub struct Group(());

/// Opens a log group titled `title`.
pub fn group(title: &str) -> Group {
    emit(&format!("::group::{}", escape_data(title)));
    Group(())
}

impl Drop for Group {
    fn drop(&mut self) {
        emit("::endgroup::");
    }
}

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

/// The merge for the step summary: totals, then one row per shard of the plan (taken, superseded,
/// missing), then refused inputs and leftovers.
pub fn merge_summary_markdown(report: &crate::merge::MergeReport) -> String {
    let cell = |text: &str| text.replace('|', "\\|");
    let requests: u64 = report.taken.iter().map(|t| t.requests).sum();
    let mut text = format!(
        "### octoshard merge `{}`\n\n| shards merged | missing shards | refused inputs | repositories | requests | leftover work items |\n|---:|---:|---:|---:|---:|---:|\n| {} | {} | {} | {} | {} | {} |\n\n",
        cell(&report.plan_id),
        report.taken.len(),
        report.missing_shards.len(),
        report.refused.len(),
        report.repositories,
        requests,
        report.leftovers.len()
    );
    text.push_str("| shard | status | repositories | work items done | requests | retries | waited | duration | input |\n|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    let mut rows: Vec<(String, String)> = report
        .taken
        .iter()
        .map(|t| {
            let row = format!(
                "| {} | {} | {} | {} / {} | {} | {} | {:.1} s | {:.1} s | `{}` |\n",
                cell(&t.shard),
                t.status,
                t.repositories,
                t.work_done.0,
                t.work_done.1,
                t.requests,
                t.retries,
                t.waited_seconds,
                t.duration_seconds,
                cell(&t.path.display().to_string())
            );
            (t.shard.clone(), row)
        })
        .collect();
    rows.extend(
        report
            .missing_shards
            .iter()
            .map(|shard| (shard.clone(), format!("| {} | **missing** | | | | | | | no artifact |\n", cell(shard)))),
    );
    rows.sort();
    text.extend(rows.into_iter().map(|(_, row)| row));
    if !report.superseded.is_empty() || !report.refused.is_empty() {
        text.push_str("\n| input | outcome |\n|---|---|\n");
        for skipped in &report.superseded {
            text.push_str(&format!(
                "| `{}` | skipped: {} |\n",
                cell(&skipped.path.display().to_string()),
                cell(&skipped.reason)
            ));
        }
        for refused in &report.refused {
            text.push_str(&format!(
                "| `{}` | **refused**: {} |\n",
                cell(&refused.path.display().to_string()),
                cell(&refused.reason)
            ));
        }
    }
    if let Some(file) = &report.leftovers_file {
        text.push_str(&format!(
            "\n{} unfinished work item(s) are in `{}`: plan them again with `--source leftovers:DIR`.\n",
            report.leftovers.len(),
            cell(&file.display().to_string())
        ));
    }
    text
}

/// A Markdown table of shard crawls for the step summary: one row per shard (with the checked
/// and changed repositories of a refresh when there are any).
pub fn crawl_summary_markdown(title: &str, crawls: &[crate::crawl::CrawlSummary]) -> String {
    let refresh = crawls.iter().any(|c| c.stats.checked > 0);
    let archives = crawls.iter().any(|c| c.stats.archives > 0);
    let (head, rule) = if refresh { (" checked | changed |", "---:|---:|") } else { ("", "") };
    let (archive_head, archive_rule) = if archives { (" archives | archived MB |", "---:|---:|") } else { ("", "") };
    let (head, rule) = (format!("{head}{archive_head}"), format!("{rule}{archive_rule}"));
    let mut text = format!(
        "### {title}\n\n| shard | status |{head} repositories | detailed | gone | requests | points | 304 / conditional | retries | waited | duration |\n|---|---|{rule}---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    );
    for c in crawls {
        let s = &c.stats;
        let mut checks = if refresh { format!(" {} | {} |", s.checked, s.changed) } else { String::new() };
        if archives {
            checks.push_str(&format!(" {} | {:.1} |", s.archives, s.archive_bytes as f64 / 1e6));
        }
        text.push_str(&format!(
            "| {} | {} |{checks} {} | {} | {} | {} | {} | {} / {} | {} | {:.1} s | {:.1} s |\n",
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
    fn a_summary_shows_archives_when_a_shard_stored_any() {
        let summary = crate::crawl::CrawlSummary {
            shard: "shard-0000".into(),
            status: crate::crawl::ShardStatus::Completed,
            repositories: 5,
            stats: crate::crawl::CrawlStats { archives: 4, archive_bytes: 2_500_000, ..Default::default() },
            errors: Vec::new(),
            out: "x".into(),
        };
        let text = crawl_summary_markdown("Crawl", &[summary]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[2].starts_with("| shard | status | archives | archived MB | repositories |"), "{text}");
        assert!(lines[4].starts_with("| shard-0000 | completed | 4 | 2.5 | 5 |"), "{text}");
        assert_eq!(lines[3].matches('|').count(), lines[4].matches('|').count());
    }

    #[test]
    fn a_refresh_summary_shows_what_it_checked_and_found_changed() {
        let summary = crate::crawl::CrawlSummary {
            shard: "shard-0000".into(),
            status: crate::crawl::ShardStatus::Completed,
            repositories: 5,
            stats: crate::crawl::CrawlStats { checked: 100, changed: 5, ..Default::default() },
            errors: Vec::new(),
            out: "x".into(),
        };
        let text = crawl_summary_markdown("Refresh", &[summary]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[2].starts_with("| shard | status | checked | changed | repositories |"), "{text}");
        assert!(lines[4].starts_with("| shard-0000 | completed | 100 | 5 | 5 |"), "{text}");
        assert_eq!(lines[2].matches('|').count(), lines[4].matches('|').count());
        assert_eq!(lines[3].matches('|').count(), lines[4].matches('|').count());
    }

    #[test]
    fn workflow_command_text_is_escaped_as_the_runner_unescapes_it() {
        assert_eq!(escape_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(escape_property("shard-0001: a, b"), "shard-0001%3A a%2C b");
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
