//! The report (issue 15): every figure of `report --format json` on a crawl of the simulated
//! GitHub equals the truth computed here independently (counts, top lists, nearest-rank medians
//! and percentiles of the truth's own timestamps), the Markdown fits a step summary, and bad
//! input is refused by name.

use std::collections::BTreeMap;
use std::path::Path;

use fakehub::FakeHub;
use fakehub::deep::{Conclusion, RunStatus};
use serde_json::Value;

use crate::deep::{ALL, deep_hub};
use crate::util::*;

/// Nearest-rank percentile of sorted values.
fn rank(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let k = ((p * n as f64).ceil() as usize).clamp(1, n);
    sorted[k - 1]
}

/// Checks a stats object against values (close: SQLite computes hours through julian days).
#[track_caller]
fn assert_stats(got: &Value, mut values: Vec<f64>, what: &str) {
    if values.is_empty() {
        assert!(got.is_null(), "{what}: {got}");
        return;
    }
    values.sort_by(f64::total_cmp);
    let close = |key: &str, want: f64| {
        let value = got[key].as_f64().unwrap_or_else(|| panic!("{what}.{key} missing: {got}"));
        assert!((value - want).abs() < 1e-6 * want.abs().max(1.0), "{what}.{key}: {value} vs {want}");
    };
    assert_eq!(got["count"].as_u64(), Some(values.len() as u64), "{what}.count");
    close("min", values[0]);
    close("max", values[values.len() - 1]);
    close("mean", values.iter().sum::<f64>() / values.len() as f64);
    for (key, p) in [("q1", 0.25), ("median", 0.5), ("q3", 0.75), ("p90", 0.9)] {
        close(key, rank(&values, p));
    }
}

/// A top list of the truth: most first, then by name, at most 20.
fn top(counts: BTreeMap<String, u64>) -> Vec<(String, u64)> {
    let mut list: Vec<(String, u64)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    list.truncate(20);
    list
}

fn listed(got: &Value) -> Vec<(String, u64)> {
    got.as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap().to_string(), c["count"].as_u64().unwrap()))
        .collect()
}

fn report_json(hub: &FakeHub, db: &Path) -> Value {
    let output = run(octoshard(&hub.url()).args(["report", "--format", "json", "--db"]).arg(db));
    success(&output);
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn every_figure_of_the_json_report_equals_the_truth() {
    let hub = deep_hub(400, options());
    let dir = TestDir::new();
    let db = dir.path("all.sqlite");
    let end = hub.universe().max_id() + 1;
    hub.reset_stats();
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--retry-delay", "1ms", "--no-pacing", "--probes", "0", "--shards", "3"])
        .args(["--source", &format!("ids:0..{end}"), "--collect", ALL, "--out"])
        .arg(&db)));
    let requests = hub.stats().requests;
    let report = report_json(&hub, &db);
    assert_eq!(report["report_version"], 1);

    let live: Vec<_> = hub.universe().repos_in(0, end).into_iter().filter(|r| !r.deleted).collect();
    let r = &report["repositories"];
    assert_eq!(r["total"].as_u64(), Some(live.len() as u64));
    assert_eq!(r["forks"].as_u64(), Some(live.iter().filter(|x| x.fork).count() as u64));
    assert_eq!(r["archived"].as_u64(), Some(live.iter().filter(|x| x.archived).count() as u64));
    let tally = |keys: Vec<String>| {
        let mut map = BTreeMap::new();
        for key in keys {
            *map.entry(key).or_insert(0u64) += 1;
        }
        top(map)
    };
    assert_eq!(listed(&r["languages"]), tally(live.iter().filter_map(|x| x.language.map(str::to_string)).collect()));
    assert_eq!(listed(&r["topics"]), tally(live.iter().flat_map(|x| x.topics.iter().map(|t| t.to_string())).collect()));
    assert_eq!(
        listed(&r["licenses"]),
        tally(live.iter().filter_map(|x| x.license.map(|l| l.spdx_id.to_string())).collect())
    );
    assert_stats(&r["stars"], live.iter().map(|x| f64::from(x.stargazers_count)).collect(), "stars");

    // Activity from the truth's deep data of the live repositories.
    let deep: Vec<_> = live.iter().filter_map(|x| hub.universe().deep(x.id).map(|d| (x, d))).collect();
    let hours = |a: i64, b: i64| (b - a) as f64 / 3600.0;
    let a = &report["activity"];
    assert_stats(
        &a["pull_request_hours_to_merge"],
        deep.iter()
            .flat_map(|(_, d)| d.pulls.iter().filter_map(|p| p.merged_at.map(|m| hours(p.created_at.0, m.0))))
            .collect(),
        "time to merge",
    );
    assert_stats(
        &a["issue_hours_to_close"],
        deep.iter()
            .flat_map(|(_, d)| d.issues.iter().filter_map(|i| i.closed_at.map(|c| hours(i.created_at.0, c.0))))
            .collect(),
        "time to close",
    );
    assert_stats(
        &a["contributors_per_repository"],
        deep.iter().filter(|(_, d)| !d.contributors.is_empty()).map(|(_, d)| d.contributors.len() as f64).collect(),
        "contributors",
    );
    let mut ci: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for run in deep.iter().flat_map(|(_, d)| d.runs.iter()).filter(|r| r.status == RunStatus::Completed) {
        let entry = ci.entry((run.name.to_string(), run.event.to_string())).or_default();
        entry.0 += 1;
        entry.1 += u64::from(run.conclusion == Some(Conclusion::Success));
    }
    let mut ci: Vec<_> = ci.into_iter().collect();
    ci.sort_by(|x, y| y.1.0.cmp(&x.1.0).then(x.0.cmp(&y.0)));
    ci.truncate(20);
    let got: Vec<_> = a["ci_success"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let rate = c["rate"].as_f64().unwrap();
            let (runs, success) = (c["runs"].as_u64().unwrap(), c["success"].as_u64().unwrap());
            assert!((rate - success as f64 / runs as f64).abs() < 1e-12);
            ((c["workflow"].as_str().unwrap().to_string(), c["event"].as_str().unwrap().to_string()), (runs, success))
        })
        .collect();
    assert_eq!(got, ci);
    let mut active: Vec<(u64, String, [u64; 4])> = deep
        .iter()
        .map(|(x, d)| {
            let counts = [d.pulls.len() as u64, d.issues.len() as u64, d.commits.len() as u64, d.runs.len() as u64];
            (counts.iter().sum(), x.full_name.clone(), counts)
        })
        .filter(|(n, ..)| *n > 0)
        .collect();
    active.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    active.truncate(20);
    let got: Vec<(u64, String, [u64; 4])> = a["most_active"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let n = |k: &str| m[k].as_u64().unwrap();
            (
                n("total"),
                m["full_name"].as_str().unwrap().to_string(),
                [n("pull_requests"), n("issues"), n("commits"), n("ci_runs")],
            )
        })
        .collect();
    assert_eq!(got, active);

    // Processing: every work item done, no errors, the budget equals what the hub answered.
    let p = &report["processing"];
    assert_eq!(p["leftovers"], 0);
    assert_eq!(p["errors"].as_array().unwrap().len(), 0);
    assert_eq!(listed(&p["shard_runs"]), vec![("completed".to_string(), 3)]);
    let budget = &p["budget"];
    assert_eq!(budget["requests"].as_u64(), Some(requests), "every request the hub answered, once");
    let by_kind: u64 = budget["by_kind"].as_array().unwrap().iter().map(|k| k["requests"].as_u64().unwrap()).sum();
    assert_eq!(by_kind, requests);
    let cost: u64 = budget["by_kind"].as_array().unwrap().iter().map(|k| k["cost"].as_u64().unwrap()).sum();
    assert_eq!(budget["cost"].as_u64(), Some(cost));
    assert_eq!(count(&db, "SELECT sum(cost) FROM api_request_totals") as u64, cost);
    // Tables: the counts of the file, each table once.
    let tables: BTreeMap<String, u64> = listed(&report["tables"]).into_iter().collect();
    for table in ["repositories", "pull_requests", "issues", "ci_runs", "contributors", "commits"] {
        assert_eq!(tables[table] as i64, count(&db, &format!("SELECT count(*) FROM {table}")), "{table}");
    }
    assert_eq!(tables["pull_requests"], deep.iter().map(|(_, d)| d.pulls.len() as u64).sum::<u64>());
    assert!(report["analysis"].is_null(), "no analysis ran");
    assert_eq!(report["database"]["data_as_of"].as_str().map(str::len), Some(24));

    // Markdown: the same figures for people, small enough for a step summary, and appended to
    // it in Actions.
    let summary = dir.path("summary.md");
    let output = run(octoshard(&hub.url()).env("GITHUB_STEP_SUMMARY", &summary).args(["report", "--db"]).arg(&db));
    success(&output);
    let text = stdout(&output);
    assert!(text.starts_with("## octoshard report: all.sqlite"), "{text}");
    assert!(text.len() < 1_000_000);
    for section in
        ["### Processing", "### API budget", "### Languages", "### Distributions", "### CI success", "### Most active"]
    {
        assert!(text.contains(section), "{section}");
    }
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), text);

    // The HTML page from the command (its charts are checked in a browser by report_html).
    let page = dir.path("html");
    success(&run(octoshard(&hub.url())
        .args(["report", "-q", "--out"])
        .arg(dir.path("r.md"))
        .arg("--html")
        .arg(&page)
        .arg("--db")
        .arg(&db)));
    let html = std::fs::read_to_string(page.join("index.html")).unwrap();
    for chart in ["languages", "stars", "pulls-issues", "ci-success", "shard-coverage", "api-spend"] {
        assert!(html.contains(&format!("data-chart=\"{chart}\"")), "{chart}");
    }
}

#[test]
fn bad_report_input_is_refused_by_name() {
    let dir = TestDir::new();
    let missing = dir.path("missing.sqlite");
    let text = fails_with(&run(octoshard("http://127.0.0.1:9").args(["report", "--db"]).arg(&missing)), 2);
    assert!(text.contains(&format!("cannot report on {}", missing.display())), "{text}");
    let not_db = dir.write("notes.txt", "hello");
    let text = fails_with(&run(octoshard("http://127.0.0.1:9").args(["report", "--db"]).arg(&not_db)), 2);
    assert!(text.contains("cannot report on"), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "{text}");
}

#[test]
fn the_readme_is_valid_markdown_with_a_section_per_category_linking_the_repositories() {
    use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
    let hub = crate::util::hub(300, options());
    let dir = TestDir::new();
    let db = dir.path("all.sqlite");
    success(&run(run_all_command(&hub, 2).env("GITHUB_TOKEN", TOKEN).arg("--out").arg(&db)));
    // A hostile description must stay text.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute(
        "UPDATE repositories SET description = '<script>alert(1)</script> [x](javascript:y) *bold* # h' WHERE id = (SELECT min(id) FROM repositories)",
        [],
    )
    .unwrap();
    drop(conn);
    let text = fails_with(
        &run(octoshard(&hub.url()).args(["report", "-q", "--readme"]).arg(dir.path("R.md")).arg("--db").arg(&db)),
        2,
    );
    assert!(text.contains("holds no analysis: run `octoshard analyze"), "{text}");
    success(&run(octoshard(&hub.url()).args(["analyze", "--db"]).arg(&db)));
    let readme = dir.path("README.md");
    success(&run(octoshard(&hub.url())
        .args(["report", "-q", "--top", "5", "--out"])
        .arg(dir.path("r.md"))
        .arg("--readme")
        .arg(&readme)
        .arg("--db")
        .arg(&db)));
    let markdown = std::fs::read_to_string(&readme).unwrap();

    // Walk the parsed document: headings, the links under each, and no HTML anywhere.
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_heading = None;
    for event in Parser::new(&markdown) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => in_heading = Some((level, String::new())),
            Event::Text(text) if in_heading.is_some() => in_heading.as_mut().unwrap().1.push_str(&text),
            Event::End(TagEnd::Heading(_)) => {
                let (level, text) = in_heading.take().unwrap();
                if level == HeadingLevel::H2 {
                    sections.push((text, Vec::new()));
                }
            }
            Event::Start(Tag::Link { dest_url, .. }) => {
                if let Some((_, links)) = sections.last_mut() {
                    links.push(dest_url.to_string());
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => panic!("raw HTML in the README: {html}"),
            _ => {}
        }
    }
    assert_eq!(sections[0].0, "Contents");
    let categories = rows_of(
        &db,
        "SELECT category, count(*) FROM analyzed_repositories WHERE analyzer = 'rules' GROUP BY category ORDER BY count(*) DESC, category",
    );
    assert_eq!(sections.len(), categories.len() + 1, "a section per category");
    assert_eq!(sections[0].1.len(), categories.len(), "contents link every section");
    for ((heading, links), category) in sections[1..].iter().zip(&categories) {
        let name = category.split('|').next().unwrap();
        assert_eq!(heading.to_lowercase(), name.replace('-', " "), "{heading}");
        let expected: Vec<String> = rows_of(
            &db,
            &format!(
                "SELECT 'https://github.com/' || r.full_name FROM analyzed_repositories a JOIN repositories r ON r.id = a.repo_id
                 WHERE a.analyzer = 'rules' AND a.category = '{name}'
                 ORDER BY a.score DESC, r.stargazers_count DESC, r.full_name LIMIT 5"
            ),
        );
        assert_eq!(links, &expected, "{name}: the best five by score, linked to their repositories");
    }
    assert!(markdown.contains("&lt;script&gt;"), "the hostile description is escaped text");

    // The JSON report's categories and score statistics (each row is checked against the
    // documented rules by the analyze tests): totals per category and nearest-rank quartiles
    // computed here from the rows.
    let report = report_json(&hub, &db);
    let analysis = &report["analysis"];
    assert_eq!(analysis["analyzer"], "rules");
    let want: Vec<(String, u64)> = categories
        .iter()
        .map(|row| {
            let (name, n) = row.split_once('|').unwrap();
            (name.to_string(), n.parse().unwrap())
        })
        .collect();
    assert_eq!(listed(&analysis["categories"]), want);
    assert_eq!(want.iter().map(|(_, n)| n).sum::<u64>(), report["repositories"]["total"].as_u64().unwrap());
    let scores: Vec<f64> = rows_of(&db, "SELECT score FROM analyzed_repositories WHERE analyzer = 'rules'")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    assert_stats(&analysis["score"], scores, "quality score");
}

/// Rows of a query as `a|b|c` text, in the query's order.
fn rows_of(db: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let mut statement = conn.prepare(sql).unwrap();
    let width = statement.column_count();
    statement
        .query_map([], |row| {
            Ok((0..width)
                .map(|i| match row.get::<_, rusqlite::types::Value>(i).unwrap() {
                    rusqlite::types::Value::Text(t) => t,
                    rusqlite::types::Value::Integer(n) => n.to_string(),
                    rusqlite::types::Value::Real(x) => x.to_string(),
                    other => format!("{other:?}"),
                })
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}
