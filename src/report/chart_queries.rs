//! The SQL behind each chart: every number is aggregated in SQLite (GROUP BY, LIMIT), so a
//! database of a million repositories gives a few hundred rows here, never all of them.

use rusqlite::{Connection, OptionalExtension, params};

/// Whether `table` exists (a schema without it has no data for the chart that reads it).
pub fn has_table(conn: &Connection, table: &str) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [table], |row| {
        row.get::<_, i64>(0)
    })
    .map(|n| n > 0)
}

/// A label and a count, in the order SQL sorted them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Counted {
    /// What is counted (a language, a bucket, a month).
    pub label: String,
    /// How many.
    pub count: i64,
}

/// The most common primary languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Languages {
    /// The top languages, most repositories first (ties by name).
    pub top: Vec<Counted>,
    /// Every repository, with a language or not.
    pub repositories: i64,
    /// Distinct languages (NULL is not one).
    pub languages: i64,
}

/// The `limit` most common languages, and the totals a caption states.
pub fn languages(conn: &Connection, limit: usize) -> rusqlite::Result<Languages> {
    let (repositories, languages) =
        conn.query_row("SELECT count(*), count(DISTINCT language) FROM repositories", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    let top = counted(
        conn,
        "SELECT language, count(*) AS n FROM repositories WHERE language IS NOT NULL
         GROUP BY language ORDER BY n DESC, language LIMIT ?1",
        limit,
    )?;
    Ok(Languages { top, repositories, languages })
}

/// The label of star bucket `digits` (the number of decimal digits of the count; 0 for none):
/// `0`, `1-9`, `10-99`, ..., `1,000-9,999`.
pub fn star_bucket_label(digits: u32) -> String {
    match digits {
        0 => "0".to_string(),
        d => {
            let low = 10u64.saturating_pow(d - 1);
            format!("{}-{}", thousands(low as i64), thousands(low.saturating_mul(10).saturating_sub(1) as i64))
        }
    }
}

/// 1234567 as `1,234,567`: every count a reader sees (signed or not).
pub fn thousands(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Repositories per star bucket (0, 1-9, 10-99, ...: a log scale), every bucket from 0 to the
/// highest one filled, empty ones as 0.
pub fn star_buckets(conn: &Connection) -> rusqlite::Result<Vec<Counted>> {
    let mut statement = conn.prepare(
        "SELECT CASE WHEN coalesce(stargazers_count, 0) <= 0 THEN 0
                     ELSE length(CAST(stargazers_count AS TEXT)) END AS digits, count(*)
         FROM repositories GROUP BY digits ORDER BY digits",
    )?;
    let rows: Vec<(u32, i64)> =
        statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?.collect::<Result<_, _>>()?;
    let Some(&(highest, _)) = rows.last() else { return Ok(Vec::new()) };
    Ok((0..=highest)
        .map(|digits| Counted {
            label: star_bucket_label(digits),
            count: rows.iter().find(|(d, _)| *d == digits).map_or(0, |(_, n)| *n),
        })
        .collect())
}

/// Counts per month (`YYYY-MM`) of a time column, every month from the first to the last.
pub fn per_month(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<Vec<Counted>> {
    // Table and column names come from this module's callers, never from the database or a user.
    let sql = format!(
        "SELECT substr({column}, 1, 7) AS month, count(*) FROM {table}
         WHERE {column} IS NOT NULL AND {column} <> '' GROUP BY month ORDER BY month"
    );
    let mut statement = conn.prepare(&sql)?;
    let rows: Vec<Counted> = statement
        .query_map([], |row| Ok(Counted { label: row.get(0)?, count: row.get(1)? }))?
        .collect::<Result<_, _>>()?;
    Ok(fill_months(&rows))
}

/// `rows` (sorted by month) with the months between them added as 0.
pub fn fill_months(rows: &[Counted]) -> Vec<Counted> {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else { return Vec::new() };
    let months = month_range(&first.label, &last.label);
    if months.is_empty() {
        return rows.to_vec(); // not YYYY-MM: as they are
    }
    months
        .into_iter()
        .map(|label| {
            let count = rows.iter().find(|r| r.label == label).map_or(0, |r| r.count);
            Counted { label, count }
        })
        .collect()
}

/// Every `YYYY-MM` from `first` to `last`, both included; empty when either is not a month.
pub fn month_range(first: &str, last: &str) -> Vec<String> {
    fn parse(month: &str) -> Option<i64> {
        let (year, month) = month.split_once('-')?;
        let (year, month): (i64, i64) = (year.parse().ok()?, month.parse().ok()?);
        (year.to_string().len() == 4 && (1..=12).contains(&month)).then_some(year * 12 + month - 1)
    }
    let (Some(a), Some(b)) = (parse(first), parse(last)) else { return Vec::new() };
    (a..=b).map(|m| format!("{:04}-{:02}", m / 12, m % 12 + 1)).collect()
}

/// Completed CI runs of one workflow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workflow {
    /// The workflow's name (`(unnamed)` when GitHub gave none).
    pub name: String,
    /// Completed runs.
    pub runs: i64,
    /// Of those, runs that concluded `success`.
    pub successes: i64,
}

/// The `limit` workflows with the most completed runs, and all completed runs with their
/// successes and the number of workflows.
pub fn ci_workflows(conn: &Connection, limit: usize) -> rusqlite::Result<(Vec<Workflow>, Workflow, i64)> {
    let mut statement = conn.prepare(
        "SELECT coalesce(workflow_name, '(unnamed)') AS name, count(*) AS n, sum(conclusion = 'success')
         FROM ci_runs WHERE status = 'completed' GROUP BY name ORDER BY n DESC, name LIMIT ?1",
    )?;
    let top = statement
        .query_map([limit as i64], |row| Ok(Workflow { name: row.get(0)?, runs: row.get(1)?, successes: row.get(2)? }))?
        .collect::<Result<_, _>>()?;
    let (runs, successes, workflows) = conn.query_row(
        "SELECT count(*), coalesce(sum(conclusion = 'success'), 0), count(DISTINCT coalesce(workflow_name, '(unnamed)'))
         FROM ci_runs WHERE status = 'completed'",
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
    )?;
    Ok((top, Workflow { name: "all".to_string(), runs, successes }, workflows))
}

/// One `id_range` work item: the ids it covers and how far it got.
#[derive(Clone, Debug, PartialEq)]
pub struct IdRange {
    /// `plan_id` and shard, as one label (`shard-0001`, or `PLAN/shard-0001` with several plans).
    pub shard: String,
    /// First id covered.
    pub from: f64,
    /// First id past the range (GitHub ids fit an f64 exactly up to 2^53; an open end is huge).
    pub to: f64,
    /// `pending`, `processing`, `completed` or `failed`.
    pub status: String,
    /// Repositories of the database inside the range.
    pub repositories: i64,
}

/// The `id_range` work items, by shard and start (at most `limit`), and how many there are.
pub fn id_ranges(conn: &Connection, limit: usize) -> rusqlite::Result<(Vec<IdRange>, i64)> {
    let total: i64 = conn.query_row("SELECT count(*) FROM work_items WHERE kind = 'id_range'", [], |r| r.get(0))?;
    let plans: i64 =
        conn.query_row("SELECT count(DISTINCT plan_id) FROM work_items WHERE kind = 'id_range'", [], |r| r.get(0))?;
    let mut statement = conn.prepare(
        "SELECT CASE WHEN ?2 > 1 THEN plan_id || '/' || shard ELSE shard END, f, t, status,
                (SELECT count(*) FROM repositories WHERE id >= f AND id < t)
         FROM (SELECT plan_id, shard, status,
                      CAST(json_extract(spec, '$.from') AS REAL) AS f,
                      CAST(json_extract(spec, '$.to') AS REAL) AS t
               FROM work_items WHERE kind = 'id_range')
         ORDER BY 1, f LIMIT ?1",
    )?;
    let ranges = statement
        .query_map(params![limit as i64, plans], |row| {
            Ok(IdRange {
                shard: row.get(0)?,
                from: row.get::<_, Option<f64>>(1)?.unwrap_or(0.0),
                to: row.get::<_, Option<f64>>(2)?.unwrap_or(0.0),
                status: row.get(3)?,
                repositories: row.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok((ranges, total))
}

/// API cost of one shard in one period (an hour `YYYY-MM-DDTHH`, or a day when there are many).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spend {
    /// The shard.
    pub shard: String,
    /// The period.
    pub period: String,
    /// Cost units (REST requests count 1, GraphQL queries their points, 304s 0).
    pub cost: i64,
    /// Request attempts.
    pub requests: i64,
}

/// Where the request accounting came from.
pub const TOTALS: &str = "api_request_totals";
/// Shard files (and merged files kept with `--keep-requests`) have the raw rows.
pub const RAW: &str = "api_requests";

/// Cost per shard per hour, from the merged totals when they have rows, else from the raw
/// requests; periods become days when there are more than `max_periods` hours. Returns the
/// source table too (None: neither has rows).
pub fn api_spend(conn: &Connection, max_periods: usize) -> rusqlite::Result<Option<(Vec<Spend>, &'static str)>> {
    for (table, hour) in [(TOTALS, "hour"), (RAW, "substr(at, 1, 13)")] {
        if !has_table(conn, table)? {
            continue;
        }
        let (cost, requests) = if table == TOTALS { ("sum(cost)", "sum(requests)") } else { ("sum(cost)", "count(*)") };
        let hours: i64 = conn.query_row(&format!("SELECT count(DISTINCT {hour}) FROM {table}"), [], |r| r.get(0))?;
        if hours == 0 {
            continue;
        }
        let period = if hours as usize > max_periods { format!("substr({hour}, 1, 10)") } else { hour.to_string() };
        let sql = format!(
            "SELECT shard, {period} AS period, {cost}, {requests} FROM {table} GROUP BY shard, period ORDER BY period, shard"
        );
        let mut statement = conn.prepare(&sql)?;
        let rows = statement
            .query_map([], |row| {
                Ok(Spend { shard: row.get(0)?, period: row.get(1)?, cost: row.get(2)?, requests: row.get(3)? })
            })?
            .collect::<Result<_, _>>()?;
        return Ok(Some((rows, table)));
    }
    Ok(None)
}

/// Repositories per category of one analyzer (`rules` when it has rows, else the analyzer with
/// the most), most first; None when the table is missing or empty.
pub fn categories(conn: &Connection) -> rusqlite::Result<Option<(String, Vec<Counted>)>> {
    if !has_table(conn, "analyzed_repositories")? {
        return Ok(None);
    }
    let analyzer: Option<String> = conn
        .query_row(
            "SELECT analyzer FROM analyzed_repositories GROUP BY analyzer
             ORDER BY analyzer = 'rules' DESC, count(*) DESC, analyzer LIMIT 1",
            [],
            |row| row.get(0),
        )
        .optional()?;
    let Some(analyzer) = analyzer else { return Ok(None) };
    let mut statement = conn.prepare(
        "SELECT coalesce(category, '(none)') AS c, count(DISTINCT repo_id) AS n FROM analyzed_repositories
         WHERE analyzer = ?1 GROUP BY c ORDER BY n DESC, c",
    )?;
    let rows = statement
        .query_map([&analyzer], |row| Ok(Counted { label: row.get(0)?, count: row.get(1)? }))?
        .collect::<Result<_, _>>()?;
    Ok(Some((analyzer, rows)))
}

/// Rows of `sql` (label, count) with `?1` bound to `limit`.
fn counted(conn: &Connection, sql: &str, limit: usize) -> rusqlite::Result<Vec<Counted>> {
    let mut statement = conn.prepare(sql)?;
    statement.query_map([limit as i64], |row| Ok(Counted { label: row.get(0)?, count: row.get(1)? }))?.collect()
}

/// Rows per table (every table but SQLite's own and the full-text index's shadow tables), by name.
pub fn table_counts(conn: &Connection) -> rusqlite::Result<Vec<Counted>> {
    let mut statement = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
         AND name NOT LIKE 'repositories_fts%' ORDER BY name",
    )?;
    let names: Vec<String> = statement.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
    names
        .into_iter()
        .map(|name| {
            let count =
                conn.query_row(&format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\"")), [], |r| r.get(0))?;
            Ok(Counted { label: name, count })
        })
        .collect()
}

/// The newest `fetched_at` of any table that has one: when the data was fetched (None: no rows).
pub fn last_fetched(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let mut statement = conn.prepare(
        "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) c
         WHERE m.type = 'table' AND c.name = 'fetched_at' ORDER BY m.name",
    )?;
    let tables: Vec<String> = statement.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
    let mut newest: Option<String> = None;
    for table in tables {
        let value: Option<String> =
            conn.query_row(&format!("SELECT max(fetched_at) FROM \"{}\"", table.replace('"', "\"\"")), [], |row| {
                row.get(0)
            })?;
        if value > newest {
            newest = value;
        }
    }
    Ok(newest)
}

/// A repository for the table of the most starred ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopRepository {
    /// `owner/name`.
    pub full_name: String,
    /// Its description (untrusted text: escaped when shown).
    pub description: Option<String>,
    /// Its primary language.
    pub language: Option<String>,
    /// Stars.
    pub stars: i64,
}

/// The `limit` most starred repositories (ties by id).
pub fn top_repositories(conn: &Connection, limit: usize) -> rusqlite::Result<Vec<TopRepository>> {
    let mut statement = conn.prepare(
        "SELECT full_name, description, language, coalesce(stargazers_count, 0) AS s FROM repositories
         ORDER BY s DESC, id LIMIT ?1",
    )?;
    statement
        .query_map([limit as i64], |row| {
            Ok(TopRepository {
                full_name: row.get(0)?,
                description: row.get(1)?,
                language: row.get(2)?,
                stars: row.get(3)?,
            })
        })?
        .collect()
}

/// The plans the database holds work of: (plan id, source, shard count).
pub fn plans(conn: &Connection) -> rusqlite::Result<Vec<(String, String, Option<i64>)>> {
    if !has_table(conn, "plans")? {
        return Ok(Vec::new());
    }
    let mut statement = conn.prepare("SELECT plan_id, source, shard_count FROM plans ORDER BY plan_id")?;
    statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE repositories (id INTEGER PRIMARY KEY, full_name TEXT, description TEXT, language TEXT,
                 stargazers_count INTEGER, created_at TEXT, fetched_at TEXT);
             INSERT INTO repositories VALUES
                 (1, 'a/one', 'd', 'Rust', 0, '2024-01-05T00:00:00Z', '2026-01-01T00:00:00.000Z'),
                 (2, 'a/two', NULL, 'Rust', 5, '2024-03-05T00:00:00Z', '2026-01-02T00:00:00.000Z'),
                 (3, 'b/three', NULL, 'Go', 12, '2024-03-09T00:00:00Z', '2026-01-01T00:00:00.000Z'),
                 (4, 'b/four', NULL, NULL, 12345, NULL, '2026-01-01T00:00:00.000Z'),
                 (15, 'c/five', NULL, 'C', 9, '2023-12-31T23:59:59Z', '2026-01-01T00:00:00.000Z');
             CREATE TABLE ci_runs (workflow_name TEXT, status TEXT, conclusion TEXT, fetched_at TEXT);
             INSERT INTO ci_runs VALUES ('ci', 'completed', 'success', '2026-02-01T00:00:00.000Z'),
                 ('ci', 'completed', 'failure', NULL), ('ci', 'in_progress', NULL, NULL),
                 ('lint', 'completed', 'success', NULL), (NULL, 'completed', 'success', NULL);
             CREATE TABLE work_items (plan_id TEXT, shard TEXT, idx INTEGER, kind TEXT, spec TEXT, status TEXT);
             INSERT INTO work_items VALUES
                 ('p', 'shard-0001', 0, 'id_range', '{\"kind\":\"id_range\",\"from\":10,\"to\":18446744073709551615}', 'failed'),
                 ('p', 'shard-0000', 0, 'id_range', '{\"kind\":\"id_range\",\"from\":0,\"to\":3}', 'completed'),
                 ('p', 'shard-0000', 1, 'id_range', '{\"kind\":\"id_range\",\"from\":3,\"to\":10}', 'pending'),
                 ('p', 'shard-0002', 0, 'search', '{}', 'completed');",
        )
        .unwrap();
        conn
    }

    #[test]
    fn languages_count_the_top_ones_and_every_repository() {
        let got = languages(&db(), 2).unwrap();
        assert_eq!(got.repositories, 5);
        assert_eq!(got.languages, 3);
        let top: Vec<_> = got.top.iter().map(|c| (c.label.as_str(), c.count)).collect();
        assert_eq!(top, [("Rust", 2), ("C", 1)], "most first, ties by name");
    }

    #[test]
    fn stars_fall_in_log_buckets_with_empty_ones_filled() {
        let got: Vec<_> = star_buckets(&db()).unwrap().into_iter().map(|c| (c.label, c.count)).collect();
        let want = [("0", 1), ("1-9", 2), ("10-99", 1), ("100-999", 0), ("1,000-9,999", 0), ("10,000-99,999", 1)];
        assert_eq!(got, want.map(|(l, n)| (l.to_string(), n)));
        assert_eq!(star_bucket_label(7), "1,000,000-9,999,999");
        assert_eq!(
            (thousands(0), thousands(999), thousands(1000), thousands(-1234567)),
            ("0".into(), "999".into(), "1,000".into(), "-1,234,567".into())
        );
        let empty = Connection::open_in_memory().unwrap();
        empty.execute_batch("CREATE TABLE repositories (stargazers_count INTEGER)").unwrap();
        assert!(star_buckets(&empty).unwrap().is_empty());
    }

    #[test]
    fn months_run_from_the_first_to_the_last_with_gaps_as_zero() {
        let got: Vec<_> =
            per_month(&db(), "repositories", "created_at").unwrap().into_iter().map(|c| (c.label, c.count)).collect();
        let want = [("2023-12", 1), ("2024-01", 1), ("2024-02", 0), ("2024-03", 2)];
        assert_eq!(got, want.map(|(l, n)| (l.to_string(), n)));
        assert_eq!(month_range("2024-11", "2025-02"), ["2024-11", "2024-12", "2025-01", "2025-02"]);
        assert!(month_range("2024-13", "2025-02").is_empty());
    }

    #[test]
    fn ci_counts_completed_runs_per_workflow() {
        let (top, all, workflows) = ci_workflows(&db(), 2).unwrap();
        assert_eq!(
            top,
            [
                Workflow { name: "ci".into(), runs: 2, successes: 1 },
                Workflow { name: "(unnamed)".into(), runs: 1, successes: 1 }
            ]
        );
        assert_eq!((all.runs, all.successes, workflows), (4, 3, 3));
    }

    #[test]
    fn id_ranges_come_with_their_status_and_repositories() {
        let (ranges, total) = id_ranges(&db(), 10).unwrap();
        assert_eq!(total, 3, "search items are not id ranges");
        let got: Vec<_> =
            ranges.iter().map(|r| (r.shard.as_str(), r.from, r.status.as_str(), r.repositories)).collect();
        assert_eq!(
            got,
            [("shard-0000", 0.0, "completed", 2), ("shard-0000", 3.0, "pending", 2), ("shard-0001", 10.0, "failed", 1)]
        );
        assert!(ranges[2].to > 1.8e19, "an open end stays huge: {}", ranges[2].to);
    }

    #[test]
    fn api_spend_prefers_totals_and_falls_back_to_raw_requests_by_hour_or_day() {
        let conn = db();
        assert_eq!(api_spend(&conn, 10).unwrap(), None);
        conn.execute_batch(
            "CREATE TABLE api_requests (shard TEXT, at TEXT, cost INTEGER);
             INSERT INTO api_requests VALUES ('s0', '2026-01-01T05:10:00Z', 1), ('s0', '2026-01-01T05:50:00Z', 2),
                 ('s1', '2026-01-01T06:00:00Z', 0), ('s0', '2026-01-02T06:00:00Z', 1);
             CREATE TABLE api_request_totals (shard TEXT, hour TEXT, cost INTEGER, requests INTEGER);",
        )
        .unwrap();
        let (rows, table) = api_spend(&conn, 10).unwrap().unwrap();
        assert_eq!(table, RAW, "empty totals: the raw rows");
        let got: Vec<_> = rows.iter().map(|s| (s.shard.as_str(), s.period.as_str(), s.cost, s.requests)).collect();
        assert_eq!(got, [("s0", "2026-01-01T05", 3, 2), ("s1", "2026-01-01T06", 0, 1), ("s0", "2026-01-02T06", 1, 1)]);
        let (days, _) = api_spend(&conn, 2).unwrap().unwrap();
        let got: Vec<_> = days.iter().map(|s| (s.shard.as_str(), s.period.as_str(), s.cost)).collect();
        assert_eq!(got, [("s0", "2026-01-01", 3), ("s1", "2026-01-01", 0), ("s0", "2026-01-02", 1)]);
        conn.execute_batch("INSERT INTO api_request_totals VALUES ('s9', '2026-03-01T00', 7, 4)").unwrap();
        let (rows, table) = api_spend(&conn, 10).unwrap().unwrap();
        assert_eq!((table, rows.len(), rows[0].cost, rows[0].requests), (TOTALS, 1, 7, 4));
    }

    #[test]
    fn categories_prefer_the_rules_analyzer_and_need_the_table() {
        let conn = db();
        assert_eq!(categories(&conn).unwrap(), None, "no table");
        conn.execute_batch("CREATE TABLE analyzed_repositories (repo_id INTEGER, analyzer TEXT, category TEXT)")
            .unwrap();
        assert_eq!(categories(&conn).unwrap(), None, "no rows");
        conn.execute_batch(
            "INSERT INTO analyzed_repositories VALUES (1, 'llm', 'x'), (2, 'llm', 'x'), (3, 'llm', 'y'),
                 (1, 'rules', 'library'), (2, 'rules', NULL)",
        )
        .unwrap();
        let (analyzer, rows) = categories(&conn).unwrap().unwrap();
        assert_eq!(analyzer, "rules");
        assert_eq!(
            rows.iter().map(|c| (c.label.as_str(), c.count)).collect::<Vec<_>>(),
            [("(none)", 1), ("library", 1)]
        );
    }

    #[test]
    fn table_counts_and_last_fetched_cover_every_table() {
        let conn = db();
        let counts: Vec<_> = table_counts(&conn).unwrap().into_iter().map(|c| (c.label, c.count)).collect();
        let want = [("ci_runs", 5), ("repositories", 5), ("work_items", 4)];
        assert_eq!(counts, want.map(|(l, n)| (l.to_string(), n)));
        assert_eq!(
            last_fetched(&conn).unwrap().as_deref(),
            Some("2026-02-01T00:00:00.000Z"),
            "the newest of any table"
        );
        let top = top_repositories(&conn, 2).unwrap();
        assert_eq!(top.iter().map(|r| r.full_name.as_str()).collect::<Vec<_>>(), ["b/four", "b/three"]);
    }
}
