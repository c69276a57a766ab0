//! The report as Markdown for people and for a GitHub Actions step summary: short tables, every
//! list capped, and the whole kept under the step summary's 1 MiB (sections that do not fit are
//! left out and named at the end, never cut mid-table).

use super::chart_queries::thousands;
use super::data::{Count, Report, Stats};

/// The most a step summary takes is 1 MiB; stay clear of it.
pub const MAX_BYTES: usize = 1_000_000;

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ").replace('<', "&lt;").replace('>', "&gt;")
}

fn counts_table(title: &str, what: &str, counts: &[Count]) -> String {
    if counts.is_empty() {
        return String::new();
    }
    let mut text = format!("### {title}\n\n| {what} | count |\n|---|---:|\n");
    for c in counts {
        text.push_str(&format!(
            "| {} | {} |\n",
            cell(if c.name.is_empty() { "(none)" } else { &c.name }),
            thousands(c.count)
        ));
    }
    text.push('\n');
    text
}

fn stats_row(name: &str, unit: &str, s: &Option<Stats>) -> String {
    match s {
        Some(s) => format!(
            "| {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {unit} |\n",
            thousands(s.count),
            s.min,
            s.q1,
            s.median,
            s.q3,
            s.p90,
            s.max,
            s.mean
        ),
        None => String::new(),
    }
}

/// Renders the report, `title` naming the database.
pub fn render(report: &Report, title: &str) -> String {
    let mut sections = Vec::new();
    let r = &report.repositories;
    let b = &report.processing.budget;
    let mut head = format!("## octoshard report: {}\n\n", cell(title));
    if let Some(at) = &report.database.data_as_of {
        head.push_str(&format!("Data as of {at}. "));
    }
    head.push_str(&format!(
        "{} repositories ({} forks, {} archived). Budget: {} units in {} requests ({} retries, {} of {} conditional answered 304, {:.0} s waited).\n\n",
        thousands(r.total),
        thousands(r.forks),
        thousands(r.archived),
        thousands(b.cost),
        thousands(b.requests),
        thousands(b.retries),
        thousands(b.not_modified),
        thousands(b.conditional),
        b.waited_seconds
    ));
    sections.push(head);

    let p = &report.processing;
    let mut processing = String::from("### Processing\n\n| | |\n|---|---|\n");
    let list = |counts: &[Count]| {
        counts.iter().map(|c| format!("{} {}", thousands(c.count), cell(&c.name))).collect::<Vec<_>>().join(", ")
    };
    processing.push_str(&format!("| crawl runs | {} |\n", list(&p.shard_runs)));
    processing.push_str(&format!("| work items | {} |\n", list(&p.work_items)));
    processing.push_str(&format!("| leftovers | {} |\n", thousands(p.leftovers)));
    processing.push_str(&format!(
        "| plans | {} |\n\n",
        report
            .database
            .plans
            .iter()
            .map(|p| format!("`{}` ({})", cell(&p.source), cell(&p.collect)))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    sections.push(processing);
    sections.push(counts_table("Errors", "error", &p.errors));
    if !b.by_kind.is_empty() {
        let mut text = String::from("### API budget\n\n| kind or credential | requests | units |\n|---|---:|---:|\n");
        for s in &b.by_kind {
            text.push_str(&format!("| {} | {} | {} |\n", cell(&s.name), thousands(s.requests), thousands(s.cost)));
        }
        for s in &b.by_credential {
            text.push_str(&format!(
                "| credential {} | {} | {} |\n",
                cell(&s.name),
                thousands(s.requests),
                thousands(s.cost)
            ));
        }
        text.push('\n');
        sections.push(text);
    }
    sections.push(counts_table("Tables", "table", &report.tables));
    sections.push(counts_table("Languages", "language", &r.languages));
    sections.push(counts_table("Topics", "topic", &r.topics));
    sections.push(counts_table("Licenses", "license", &r.licenses));
    if let Some(analysis) = &report.analysis {
        let mut text = counts_table(&format!("Categories ({})", analysis.analyzer), "category", &analysis.categories);
        if analysis.score.is_some() {
            text.push_str(STATS_HEAD);
            text.push_str(&stats_row("quality score", "0-100", &analysis.score));
            text.push('\n');
        }
        sections.push(text);
    }
    let a = &report.activity;
    let rows = [
        stats_row("stars", "stars", &r.stars),
        stats_row("contributors per repository", "contributors", &a.contributors_per_repository),
        stats_row("pull request time to merge", "hours", &a.pull_request_hours_to_merge),
        stats_row("issue time to close", "hours", &a.issue_hours_to_close),
    ]
    .concat();
    if !rows.is_empty() {
        sections.push(format!("### Distributions\n\n{STATS_HEAD}{rows}\n"));
    }
    if !a.ci_success.is_empty() {
        let mut text = String::from(
            "### CI success\n\n| workflow | event | completed runs | success | rate |\n|---|---|---:|---:|---:|\n",
        );
        for c in &a.ci_success {
            text.push_str(&format!(
                "| {} | {} | {} | {} | {:.1}% |\n",
                cell(&c.workflow),
                cell(&c.event),
                thousands(c.runs),
                thousands(c.success),
                c.rate * 100.0
            ));
        }
        text.push('\n');
        sections.push(text);
    }
    if !a.most_active.is_empty() {
        let mut text = String::from(
            "### Most active repositories\n\n| repository | pull requests | issues | commits | CI runs |\n|---|---:|---:|---:|---:|\n",
        );
        for m in &a.most_active {
            text.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                cell(&m.full_name),
                thousands(m.pull_requests),
                thousands(m.issues),
                thousands(m.commits),
                thousands(m.ci_runs)
            ));
        }
        text.push('\n');
        sections.push(text);
    }
    fit(sections, MAX_BYTES)
}

const STATS_HEAD: &str = "| | count | min | q1 | median | q3 | p90 | max | mean | unit |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";

/// Joins sections while they fit in `limit` bytes; the ones left out are named in a last line.
fn fit(sections: Vec<String>, limit: usize) -> String {
    let mut text = String::new();
    let mut left_out = Vec::new();
    const NOTE: usize = 400;
    for section in sections.into_iter().filter(|s| !s.is_empty()) {
        if left_out.is_empty() && text.len() + section.len() + NOTE <= limit {
            text.push_str(&section);
        } else {
            let title = section.lines().next().unwrap_or_default().trim_start_matches('#').trim().to_string();
            left_out.push(title);
        }
    }
    if !left_out.is_empty() {
        let mut note = format!(
            "_Left out to fit a step summary: {}. The JSON report (`--format json`) has everything._\n",
            left_out.join(", ")
        );
        note.truncate(NOTE.min(note.len()));
        text.push_str(&note);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_group_thousands_and_cells_cannot_break_tables() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(cell("a|b\nc<d>"), "a\\|b c&lt;d&gt;");
    }

    #[test]
    fn sections_that_do_not_fit_are_named_not_cut() {
        let sections =
            vec!["## head\n\nx\n".to_string(), format!("### Big\n\n{}\n", "y".repeat(900)), "### Small\n".into()];
        let text = fit(sections, 1000);
        assert!(text.starts_with("## head"));
        assert!(!text.contains("yyy"));
        assert!(text.contains("Left out to fit a step summary: Big, Small."), "{text}");
        assert!(text.len() <= 1000);
    }
}
