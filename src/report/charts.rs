//! The report's charts: for each, the SQL aggregate it is drawn from (`chart_queries.rs`),
//! the SVG drawn with plotters (`chart_svg.rs`) and a caption stating the numbers behind
//! it. A chart without data is skipped with the reason, never drawn empty.

use rusqlite::Connection;

use super::chart_queries::{self as q, thousands};
use super::chart_svg::{self as svg, DrawError, Span};

/// Bars in a ranked chart (languages, workflows).
pub const TOP: usize = 15;
/// Periods in the API spend chart before hours become days.
const MAX_PERIODS: usize = 96;
/// Shards with their own color in the API spend chart; the rest are "other".
const SPEND_SHARDS: usize = 9;
/// `id_range` items drawn in the coverage chart (one span each).
const MAX_RANGES: usize = 2_000;

/// Every chart the report knows, by id, in page order, with its title.
pub const CHARTS: &[(&str, &str)] = &[
    ("languages", "Languages"),
    ("stars", "Stars"),
    ("repositories-created", "Repositories created per month"),
    ("pulls-issues", "Pull requests and issues per month"),
    ("ci-success", "CI success rate by workflow"),
    ("shard-coverage", "Coverage of the id space by shard"),
    ("api-spend", "API spend per shard"),
    ("categories", "Categories"),
];

/// A drawn chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Its id (one of [`CHARTS`]), the page's `id`/`data-chart`.
    pub id: &'static str,
    /// Its title.
    pub title: &'static str,
    /// The numbers it is drawn from, in words.
    pub caption: String,
    /// The SVG element.
    pub svg: String,
}

/// What became of one chart: drawn, or skipped for a reason.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Drawn.
    Drawn(Chart),
    /// Not drawn.
    Skipped {
        /// Its id.
        id: &'static str,
        /// Its title.
        title: &'static str,
        /// Why (no data, and which).
        reason: String,
    },
}

/// A chart that could not be made: its query or its drawing failed.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The chart's SQL failed.
    #[error("chart {chart}: query: {source}")]
    Query {
        /// The chart.
        chart: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// plotters could not draw it.
    #[error("chart {chart}: drawing: {source}")]
    Draw {
        /// The chart.
        chart: &'static str,
        /// plotters' error.
        source: DrawError,
    },
}

/// One chart's result before it is named: drawn (caption, SVG) or skipped (reason).
enum Made {
    Drawn(String, String),
    Skipped(String),
}

enum Failure {
    Query(rusqlite::Error),
    Draw(DrawError),
}

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Failure {
        Failure::Query(error)
    }
}

impl From<DrawError> for Failure {
    fn from(error: DrawError) -> Failure {
        Failure::Draw(error)
    }
}

/// Every chart of [`CHARTS`] for the database behind `conn`, in order.
pub fn all(conn: &Connection) -> Result<Vec<Outcome>, ChartError> {
    CHARTS
        .iter()
        .map(|&(id, title)| {
            let made = match id {
                "languages" => languages(conn),
                "stars" => stars(conn),
                "repositories-created" => created(conn),
                "pulls-issues" => pulls_issues(conn),
                "ci-success" => ci_success(conn),
                "shard-coverage" => coverage(conn),
                "api-spend" => api_spend(conn),
                _ => categories(conn),
            };
            match made {
                Ok(Made::Drawn(caption, svg)) => Ok(Outcome::Drawn(Chart { id, title, caption, svg })),
                Ok(Made::Skipped(reason)) => Ok(Outcome::Skipped { id, title, reason }),
                Err(Failure::Query(source)) => Err(ChartError::Query { chart: id, source }),
                Err(Failure::Draw(source)) => Err(ChartError::Draw { chart: id, source }),
            }
        })
        .collect()
}

/// `n` and the noun, singular for one: "1 repository", "2 repositories".
pub fn count_of(n: i64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

/// Skipped unless `table` exists.
fn need(conn: &Connection, table: &str) -> Result<Option<Made>, Failure> {
    Ok((!q::has_table(conn, table)?).then(|| Made::Skipped(format!("no data: the database has no {table} table"))))
}

fn languages(conn: &Connection) -> Result<Made, Failure> {
    if let Some(skip) = need(conn, "repositories")? {
        return Ok(skip);
    }
    let data = q::languages(conn, TOP)?;
    if data.top.is_empty() {
        return Ok(Made::Skipped("no data: no repository has a language".into()));
    }
    let bars: Vec<_> = data.top.iter().map(|c| (c.label.clone(), c.count as f64, thousands(c.count))).collect();
    let caption = format!(
        "{}, {} (top {} shown)",
        count_of(data.repositories, "repository", "repositories"),
        count_of(data.languages, "language", "languages"),
        data.top.len()
    );
    Ok(Made::Drawn(caption, svg::horizontal_bars("repositories", &bars, None)?))
}

fn stars(conn: &Connection) -> Result<Made, Failure> {
    if let Some(skip) = need(conn, "repositories")? {
        return Ok(skip);
    }
    let buckets = q::star_buckets(conn)?;
    if buckets.is_empty() {
        return Ok(Made::Skipped("no data: no repositories".into()));
    }
    let total: i64 = buckets.iter().map(|b| b.count).sum();
    let starred: i64 = buckets.iter().skip(1).map(|b| b.count).sum();
    let caption = format!(
        "{}, {} with at least one star, in {} buckets by powers of ten",
        count_of(total, "repository", "repositories"),
        thousands(starred),
        buckets.len()
    );
    let bars: Vec<_> = buckets.into_iter().map(|b| (b.label, b.count)).collect();
    Ok(Made::Drawn(caption, svg::vertical_bars("stars", "repositories", &bars, 1)?))
}

fn created(conn: &Connection) -> Result<Made, Failure> {
    if let Some(skip) = need(conn, "repositories")? {
        return Ok(skip);
    }
    let months = q::per_month(conn, "repositories", "created_at")?;
    if months.is_empty() {
        return Ok(Made::Skipped("no data: no repository has a creation time".into()));
    }
    let total: i64 = months.iter().map(|m| m.count).sum();
    let caption = format!(
        "{} created over {} ({} to {})",
        count_of(total, "repository", "repositories"),
        count_of(months.len() as i64, "month", "months"),
        months[0].label,
        months[months.len() - 1].label
    );
    let bars: Vec<_> = months.into_iter().map(|m| (m.label, m.count)).collect();
    let step = bars.len().div_ceil(14);
    Ok(Made::Drawn(caption, svg::vertical_bars("month", "repositories created", &bars, step)?))
}

fn pulls_issues(conn: &Connection) -> Result<Made, Failure> {
    let mut series = Vec::new();
    let mut totals = Vec::new();
    for (table, noun) in [("pull_requests", "pull requests"), ("issues", "issues")] {
        if !q::has_table(conn, table)? {
            continue;
        }
        let opened = q::per_month(conn, table, "created_at")?;
        let closed = q::per_month(conn, table, "closed_at")?;
        totals.push((noun, opened.iter().map(|m| m.count).sum::<i64>(), closed.iter().map(|m| m.count).sum::<i64>()));
        series.push((format!("{noun} opened"), opened));
        series.push((format!("{noun} closed"), closed));
    }
    let months: Vec<&str> = series.iter().flat_map(|(_, rows)| rows.iter().map(|r| r.label.as_str())).collect();
    let (Some(first), Some(last)) = (months.iter().min(), months.iter().max()) else {
        return Ok(Made::Skipped("no data: no pull requests or issues".into()));
    };
    let months = q::month_range(first, last);
    let series: Vec<(String, Vec<i64>)> = series
        .into_iter()
        .map(|(name, rows)| {
            let values = months.iter().map(|m| rows.iter().find(|r| &r.label == m).map_or(0, |r| r.count)).collect();
            (name, values)
        })
        .collect();
    let parts: Vec<String> = totals
        .iter()
        .map(|(noun, opened, closed)| format!("{} {noun} ({} closed)", thousands(*opened), thousands(*closed)))
        .collect();
    let caption = format!("{} over {}", parts.join(", "), count_of(months.len() as i64, "month", "months"));
    Ok(Made::Drawn(caption, svg::month_lines("opened or closed", &months, &series)?))
}

fn ci_success(conn: &Connection) -> Result<Made, Failure> {
    if let Some(skip) = need(conn, "ci_runs")? {
        return Ok(skip);
    }
    let (top, all, workflows) = q::ci_workflows(conn, TOP)?;
    if all.runs == 0 {
        return Ok(Made::Skipped("no data: no completed CI runs".into()));
    }
    let bars: Vec<_> = top
        .iter()
        .map(|w| {
            let rate = 100.0 * w.successes as f64 / w.runs as f64;
            (w.name.clone(), rate, format!("{rate:.0}% of {}", count_of(w.runs, "run", "runs")))
        })
        .collect();
    let caption = format!(
        "{} in {}, {} successful ({:.1}%; top {} by runs shown)",
        count_of(all.runs, "completed run", "completed runs"),
        count_of(workflows, "workflow", "workflows"),
        thousands(all.successes),
        100.0 * all.successes as f64 / all.runs as f64,
        top.len()
    );
    Ok(Made::Drawn(caption, svg::horizontal_bars("success rate (%)", &bars, Some(118.0))?))
}

fn coverage(conn: &Connection) -> Result<Made, Failure> {
    if let Some(skip) = need(conn, "work_items")? {
        return Ok(skip);
    }
    let (ranges, total) = q::id_ranges(conn, MAX_RANGES)?;
    if ranges.is_empty() {
        return Ok(Made::Skipped("no data: no id_range work items".into()));
    }
    let kinds = ["completed", "failed", "processing", "pending"];
    let mut rows: Vec<String> = Vec::new();
    let mut repositories: Vec<i64> = Vec::new();
    let mut spans = Vec::new();
    for range in &ranges {
        if rows.last() != Some(&range.shard) {
            rows.push(range.shard.clone());
            repositories.push(0);
        }
        *repositories.last_mut().expect("a row was pushed") += range.repositories;
        let kind = kinds.iter().position(|k| *k == range.status).unwrap_or(kinds.len() - 1);
        spans.push(Span { row: rows.len() - 1, from: range.from, to: range.to, kind });
    }
    // An open last range ends at 2^64: the axis ends a little past the ids actually seen.
    let seen = ranges.iter().map(|r| if r.to < 9.0e15 { r.to } else { r.from }).fold(0.0, f64::max);
    let max_id: f64 = conn.query_row("SELECT coalesce(max(id), 0) FROM repositories", [], |r| r.get::<_, f64>(0))?;
    let x_end = seen.max(max_id * 1.05 + 1.0);
    let labels: Vec<String> = rows
        .iter()
        .zip(&repositories)
        .map(|(shard, n)| format!("{shard} ({})", count_of(*n, "repo", "repos")))
        .collect();
    let count = |status: &str| ranges.iter().filter(|r| r.status == status).count() as i64;
    let covered: i64 = repositories.iter().sum();
    let mut caption = format!(
        "{}, {} ({} completed, {} failed), {} inside them",
        count_of(rows.len() as i64, "shard", "shards"),
        count_of(total, "id range", "id ranges"),
        thousands(count("completed")),
        thousands(count("failed")),
        count_of(covered, "repository", "repositories"),
    );
    if total > ranges.len() as i64 {
        caption.push_str(&format!("; the first {} ranges drawn", thousands(ranges.len() as i64)));
    }
    Ok(Made::Drawn(caption, svg::spans("repository id", &labels, &spans, &kinds, x_end)?))
}

fn api_spend(conn: &Connection) -> Result<Made, Failure> {
    let Some((rows, table)) = q::api_spend(conn, MAX_PERIODS)? else {
        return Ok(Made::Skipped("no data: no API requests recorded".into()));
    };
    let mut periods: Vec<String> = rows.iter().map(|r| r.period.clone()).collect();
    periods.dedup(); // sorted by period
    let mut shards: Vec<(String, i64)> = Vec::new();
    for row in &rows {
        match shards.iter_mut().find(|(s, _)| *s == row.shard) {
            Some((_, cost)) => *cost += row.cost,
            None => shards.push((row.shard.clone(), row.cost)),
        }
    }
    shards.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let named: Vec<String> = shards.iter().take(SPEND_SHARDS).map(|(s, _)| s.clone()).collect();
    let mut series: Vec<(String, Vec<i64>)> = named.iter().map(|s| (s.clone(), vec![0; periods.len()])).collect();
    if shards.len() > SPEND_SHARDS {
        series.push((format!("{} other shards", shards.len() - SPEND_SHARDS), vec![0; periods.len()]));
    }
    for row in &rows {
        let k = named.iter().position(|s| *s == row.shard).unwrap_or(SPEND_SHARDS);
        let i = periods.binary_search(&row.period).expect("every period is listed");
        series[k].1[i] += row.cost;
    }
    let cost: i64 = rows.iter().map(|r| r.cost).sum();
    let requests: i64 = rows.iter().map(|r| r.requests).sum();
    let unit = if periods[0].len() > 10 { ("hour", "hours") } else { ("day", "days") };
    let caption = format!(
        "{} in {} over {} by {} (from {table})",
        count_of(cost, "cost unit", "cost units"),
        count_of(requests, "request", "requests"),
        count_of(periods.len() as i64, unit.0, unit.1),
        count_of(shards.len() as i64, "shard", "shards"),
    );
    let x_desc = format!("{} (UTC)", unit.0);
    Ok(Made::Drawn(caption, svg::stacked_bars(&x_desc, "cost units", &periods, &series)?))
}

fn categories(conn: &Connection) -> Result<Made, Failure> {
    let Some((analyzer, rows)) = q::categories(conn)? else {
        return Ok(Made::Skipped("no data: no analyzed_repositories rows".into()));
    };
    let total: i64 = rows.iter().map(|r| r.count).sum();
    let shown: Vec<_> = rows.iter().take(TOP).map(|c| (c.label.clone(), c.count as f64, thousands(c.count))).collect();
    let caption = format!(
        "{} in {} by the {analyzer} analyzer (top {} shown)",
        count_of(total, "repository", "repositories"),
        count_of(rows.len() as i64, "category", "categories"),
        shown.len()
    );
    Ok(Made::Drawn(caption, svg::horizontal_bars("repositories", &shown, None)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_database_skips_every_chart_with_a_reason() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE repositories (id INTEGER PRIMARY KEY, language TEXT, stargazers_count INTEGER, created_at TEXT);
             CREATE TABLE work_items (plan_id TEXT, shard TEXT, kind TEXT, spec TEXT, status TEXT);",
        )
        .unwrap();
        let outcomes = all(&conn).unwrap();
        assert_eq!(outcomes.len(), CHARTS.len());
        for outcome in outcomes {
            match outcome {
                Outcome::Skipped { reason, .. } => assert!(reason.starts_with("no data"), "{reason}"),
                Outcome::Drawn(chart) => panic!("{} drawn without data", chart.id),
            }
        }
    }

    #[test]
    fn captions_state_the_numbers_the_charts_are_drawn_from() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE repositories (id INTEGER PRIMARY KEY, language TEXT, stargazers_count INTEGER, created_at TEXT);
             INSERT INTO repositories VALUES (1, 'Rust', 0, '2024-01-01T00:00:00Z'), (2, 'Rust', 20, '2024-03-01T00:00:00Z'),
                 (3, NULL, 1, NULL);
             CREATE TABLE api_requests (shard TEXT, at TEXT, cost INTEGER);
             INSERT INTO api_requests VALUES ('s0', '2026-01-01T05:00:00Z', 2), ('s1', '2026-01-01T05:10:00Z', 1);",
        )
        .unwrap();
        let drawn: Vec<Chart> = all(&conn)
            .unwrap()
            .into_iter()
            .filter_map(|o| match o {
                Outcome::Drawn(chart) => Some(chart),
                Outcome::Skipped { .. } => None,
            })
            .collect();
        let captions: Vec<(&str, &str)> = drawn.iter().map(|c| (c.id, c.caption.as_str())).collect();
        assert_eq!(
            captions,
            [
                ("languages", "3 repositories, 1 language (top 1 shown)"),
                ("stars", "3 repositories, 2 with at least one star, in 3 buckets by powers of ten"),
                ("repositories-created", "2 repositories created over 3 months (2024-01 to 2024-03)"),
                ("api-spend", "3 cost units in 2 requests over 1 hour by 2 shards (from api_requests)"),
            ]
        );
    }
}
