//! What a crawl found, as numbers: the figures of `report --format json` (a documented, versioned
//! shape: [`REPORT_VERSION`]), computed in SQL over one octoshard database so that a database of
//! any size is summarised without loading its rows. Percentiles use the nearest-rank method (the
//! value at rank `ceil(p * n)` of the sorted values), so a test can compute them independently.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

/// The version of the JSON shape; a change that removes or renames a field raises it.
pub const REPORT_VERSION: u32 = 1;

/// Entries kept in each top list (languages, topics, licenses, workflows, repositories).
pub const TOP: usize = 20;

/// The whole report.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Report {
    /// [`REPORT_VERSION`].
    pub report_version: u32,
    /// The database and its data.
    pub database: Database,
    /// How the crawl went: shards, work items, errors, budget.
    pub processing: Processing,
    /// Rows per table.
    pub tables: Vec<Count>,
    /// What the repositories are.
    pub repositories: Repositories,
    /// Categories and quality scores, when `analyze` ran.
    pub analysis: Option<Analysis>,
    /// Pull requests, issues, CI runs, contributors, where collected.
    pub activity: Activity,
}

/// The database.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Database {
    /// Its schema version.
    pub schema_version: Option<String>,
    /// The newest `fetched_at` of its repositories: how fresh the data is.
    pub data_as_of: Option<String>,
    /// The plans whose work it holds: id, source, what they collected.
    pub plans: Vec<Plan>,
}

/// One plan.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Plan {
    /// Plan id.
    pub plan_id: String,
    /// Its source.
    pub source: String,
    /// What it collected (JSON list as text).
    pub collect: String,
}

/// A name and how many.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Count {
    /// The name.
    pub name: String,
    /// How many.
    pub count: u64,
}

/// Processing summary.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Processing {
    /// Crawl invocations by status (completed, deadline, failed, running).
    pub shard_runs: Vec<Count>,
    /// Work items by status (pending, processing, completed, failed).
    pub work_items: Vec<Count>,
    /// Work items not completed: what a `leftovers:` plan would crawl.
    pub leftovers: u64,
    /// Errors of failed work items and crawl runs, grouped by text, most frequent first.
    pub errors: Vec<Count>,
    /// The API budget spent.
    pub budget: Budget,
}

/// Budget spent.
#[derive(Clone, Debug, Serialize, PartialEq, Default)]
pub struct Budget {
    /// Request attempts, retries included.
    pub requests: u64,
    /// Budget units: REST requests plus GraphQL points.
    pub cost: u64,
    /// Attempts after the first of a request.
    pub retries: u64,
    /// Conditional requests, and those answered 304 (free).
    pub conditional: u64,
    /// Answered 304.
    pub not_modified: u64,
    /// Time waited for budget, secondary limits and backoff, in seconds.
    pub waited_seconds: f64,
    /// By kind of request: requests and cost.
    pub by_kind: Vec<Spend>,
    /// By credential label: requests and cost.
    pub by_credential: Vec<Spend>,
}

/// Requests and cost of one kind or credential.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Spend {
    /// The kind or credential label.
    pub name: String,
    /// Attempts.
    pub requests: u64,
    /// Units.
    pub cost: u64,
}

/// The repositories.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Repositories {
    /// Repositories stored.
    pub total: u64,
    /// Forks among them.
    pub forks: u64,
    /// Archived among them.
    pub archived: u64,
    /// Primary languages, most common first.
    pub languages: Vec<Count>,
    /// Topics, most common first.
    pub topics: Vec<Count>,
    /// Licenses (SPDX ids), most common first.
    pub licenses: Vec<Count>,
    /// Stars: min, max, mean, quartiles.
    pub stars: Option<Stats>,
}

/// Summary statistics (nearest-rank quartiles).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Stats {
    /// Values.
    pub count: u64,
    /// Smallest.
    pub min: f64,
    /// First quartile.
    pub q1: f64,
    /// Median.
    pub median: f64,
    /// Third quartile.
    pub q3: f64,
    /// 90th percentile.
    pub p90: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

/// Categories and scores of one analyzer.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Analysis {
    /// The analyzer (`rules`, or `llm` when only it ran).
    pub analyzer: String,
    /// Repositories per category, most first.
    pub categories: Vec<Count>,
    /// Quality scores.
    pub score: Option<Stats>,
}

/// Activity, where it was collected.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Activity {
    /// Contributors per repository (repositories with any).
    pub contributors_per_repository: Option<Stats>,
    /// Hours from opening to merge of merged pull requests.
    pub pull_request_hours_to_merge: Option<Stats>,
    /// Hours from opening to closing of closed issues.
    pub issue_hours_to_close: Option<Stats>,
    /// CI success by workflow and event (completed runs).
    pub ci_success: Vec<CiSuccess>,
    /// Repositories with the most collected items (pull requests, issues, commits, runs).
    pub most_active: Vec<Active>,
}

/// CI runs of one workflow and event.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CiSuccess {
    /// Workflow name.
    pub workflow: String,
    /// Triggering event.
    pub event: String,
    /// Completed runs.
    pub runs: u64,
    /// Of those, successful.
    pub success: u64,
    /// `success / runs`.
    pub rate: f64,
}

/// One repository's collected activity.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Active {
    /// `owner/name`.
    pub full_name: String,
    /// Pull requests stored.
    pub pull_requests: u64,
    /// Issues stored.
    pub issues: u64,
    /// Commits stored.
    pub commits: u64,
    /// CI runs stored.
    pub ci_runs: u64,
    /// All of them.
    pub total: u64,
}

/// Computes the report of an open database.
pub fn compute(conn: &Connection) -> rusqlite::Result<Report> {
    Ok(Report {
        report_version: REPORT_VERSION,
        database: database(conn)?,
        processing: processing(conn)?,
        tables: tables(conn)?,
        repositories: repositories(conn)?,
        analysis: analysis(conn)?,
        activity: activity(conn)?,
    })
}

/// True when the database has this table.
pub(crate) fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", [name], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n > 0)
}

fn one(conn: &Connection, sql: &str) -> rusqlite::Result<u64> {
    conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0)).map(|n| n.unwrap_or(0).max(0) as u64)
}

/// `name, count` rows of a query, in its order.
fn counts(conn: &Connection, sql: &str) -> rusqlite::Result<Vec<Count>> {
    let mut statement = conn.prepare(sql)?;
    let rows = statement.query_map([], |r| {
        Ok(Count { name: r.get::<_, Option<String>>(0)?.unwrap_or_default(), count: r.get::<_, i64>(1)?.max(0) as u64 })
    })?;
    rows.collect()
}

/// Nearest-rank statistics of the values a query selects (one column, NULLs ignored).
pub(crate) fn stats(conn: &Connection, values_sql: &str) -> rusqlite::Result<Option<Stats>> {
    let (count, min, max, mean): (i64, Option<f64>, Option<f64>, Option<f64>) = conn.query_row(
        &format!("WITH stat_values(v) AS ({values_sql}) SELECT count(v), min(v), max(v), avg(v) FROM stat_values WHERE v IS NOT NULL"),
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let (Some(min), Some(max), Some(mean)) = (min, max, mean) else { return Ok(None) };
    let count = count as u64;
    let rank = |p: f64| -> rusqlite::Result<f64> {
        let offset = ((p * count as f64).ceil() as u64).clamp(1, count) - 1;
        conn.query_row(
            &format!(
                "WITH stat_values(v) AS ({values_sql}) SELECT v FROM stat_values WHERE v IS NOT NULL ORDER BY v LIMIT 1 OFFSET {offset}"
            ),
            [],
            |r| r.get(0),
        )
    };
    Ok(Some(Stats { count, min, q1: rank(0.25)?, median: rank(0.5)?, q3: rank(0.75)?, p90: rank(0.9)?, max, mean }))
}

fn database(conn: &Connection) -> rusqlite::Result<Database> {
    let meta = |key: &str| {
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get::<_, String>(0)).optional()
    };
    let mut statement = conn.prepare("SELECT plan_id, source, collect FROM plans ORDER BY plan_id")?;
    let plans = statement
        .query_map([], |r| Ok(Plan { plan_id: r.get(0)?, source: r.get(1)?, collect: r.get(2)? }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Database {
        schema_version: meta("schema_version")?,
        data_as_of: conn.query_row("SELECT max(fetched_at) FROM repositories", [], |r| r.get(0))?,
        plans,
    })
}

fn processing(conn: &Connection) -> rusqlite::Result<Processing> {
    let errors = counts(
        conn,
        &format!(
            "SELECT e, count(*) AS n FROM (
                SELECT substr(error, 1, 300) AS e FROM work_items WHERE status = 'failed' AND error IS NOT NULL
                UNION ALL
                SELECT substr(error, 1, 300) FROM shard_runs WHERE status = 'failed' AND error IS NOT NULL)
             GROUP BY e ORDER BY n DESC, e LIMIT {TOP}"
        ),
    )?;
    Ok(Processing {
        shard_runs: counts(conn, "SELECT status, count(*) FROM shard_runs GROUP BY status ORDER BY status")?,
        work_items: counts(conn, "SELECT status, count(*) FROM work_items GROUP BY status ORDER BY status")?,
        leftovers: one(conn, "SELECT count(*) FROM work_items WHERE status <> 'completed'")?,
        errors,
        budget: budget(conn)?,
    })
}

/// The budget from `api_request_totals` (merged files) or else the raw `api_requests`.
fn budget(conn: &Connection) -> rusqlite::Result<Budget> {
    let totals = one(conn, "SELECT count(*) FROM api_request_totals")? > 0;
    let source = if totals {
        "SELECT kind, credential, status, requests, retries, cost, conditional, waited_ms FROM api_request_totals"
    } else {
        "SELECT kind, credential, status, 1, attempt > 1, cost, conditional, waited_ms FROM api_requests"
    };
    let with =
        format!("WITH b(kind, credential, status, requests, retries, cost, conditional, waited_ms) AS ({source})");
    let (requests, retries, cost, conditional, not_modified, waited): (i64, i64, i64, i64, i64, i64) = conn.query_row(
        &format!(
            "{with} SELECT coalesce(sum(requests), 0), coalesce(sum(retries), 0), coalesce(sum(cost), 0),
                    coalesce(sum(conditional), 0), coalesce(sum(CASE WHEN status = 304 THEN requests END), 0),
                    coalesce(sum(waited_ms), 0) FROM b"
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
    )?;
    let spend = |column: &str| -> rusqlite::Result<Vec<Spend>> {
        let mut statement = conn.prepare(&format!(
            "{with} SELECT {column}, sum(requests), sum(cost) FROM b GROUP BY {column} ORDER BY sum(cost) DESC, {column}"
        ))?;
        let rows = statement.query_map([], |r| {
            Ok(Spend { name: r.get(0)?, requests: r.get::<_, i64>(1)? as u64, cost: r.get::<_, i64>(2)? as u64 })
        })?;
        rows.collect()
    };
    Ok(Budget {
        requests: requests as u64,
        cost: cost as u64,
        retries: retries as u64,
        conditional: conditional as u64,
        not_modified: not_modified as u64,
        waited_seconds: waited as f64 / 1000.0,
        by_kind: spend("kind")?,
        by_credential: spend("credential")?,
    })
}

/// Rows of every data and processing table (the full-text index excluded).
fn tables(conn: &Connection) -> rusqlite::Result<Vec<Count>> {
    let mut statement = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%'
         ORDER BY name",
    )?;
    let names: Vec<String> = statement.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    names
        .into_iter()
        .map(|name| Ok(Count { count: one(conn, &format!("SELECT count(*) FROM \"{name}\""))?, name }))
        .collect()
}

fn repositories(conn: &Connection) -> rusqlite::Result<Repositories> {
    Ok(Repositories {
        total: one(conn, "SELECT count(*) FROM repositories")?,
        forks: one(conn, "SELECT count(*) FROM repositories WHERE fork = 1")?,
        archived: one(conn, "SELECT count(*) FROM repositories WHERE archived = 1")?,
        languages: counts(
            conn,
            &format!(
                "SELECT language, count(*) AS n FROM repositories WHERE language IS NOT NULL
                 GROUP BY language ORDER BY n DESC, language LIMIT {TOP}"
            ),
        )?,
        topics: counts(
            conn,
            &format!(
                "SELECT t.value, count(*) AS n FROM repositories, json_each(repositories.topics) AS t
                 WHERE repositories.topics IS NOT NULL AND json_valid(repositories.topics)
                 GROUP BY t.value ORDER BY n DESC, t.value LIMIT {TOP}"
            ),
        )?,
        licenses: counts(
            conn,
            &format!(
                "SELECT license, count(*) AS n FROM repositories WHERE license IS NOT NULL
                 GROUP BY license ORDER BY n DESC, license LIMIT {TOP}"
            ),
        )?,
        stars: stats(conn, "SELECT stargazers_count FROM repositories")?,
    })
}

fn analysis(conn: &Connection) -> rusqlite::Result<Option<Analysis>> {
    if !has_table(conn, "analyzed_repositories")? {
        return Ok(None);
    }
    // The deterministic analyzer when it ran; the LLM's only when it is the one there is.
    let analyzer: Option<String> = conn
        .query_row(
            "SELECT analyzer FROM analyzed_repositories GROUP BY analyzer ORDER BY analyzer <> 'rules', analyzer LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?;
    let Some(analyzer) = analyzer else { return Ok(None) };
    let quoted = analyzer.replace('\'', "''");
    // Only repositories still stored count (an analysis outlives nothing: merge keeps both).
    let chosen =
        format!("FROM analyzed_repositories a JOIN repositories r ON r.id = a.repo_id WHERE a.analyzer = '{quoted}'");
    Ok(Some(Analysis {
        categories: counts(
            conn,
            &format!("SELECT a.category, count(*) AS n {chosen} GROUP BY a.category ORDER BY n DESC, a.category"),
        )?,
        score: stats(conn, &format!("SELECT a.score {chosen}"))?,
        analyzer,
    }))
}

fn activity(conn: &Connection) -> rusqlite::Result<Activity> {
    let ci_success = {
        let mut statement = conn.prepare(&format!(
            "SELECT coalesce(workflow_name, ''), coalesce(event, ''), count(*) AS n, sum(conclusion = 'success')
             FROM ci_runs WHERE status = 'completed'
             GROUP BY workflow_name, event ORDER BY n DESC, workflow_name, event LIMIT {TOP}"
        ))?;
        let rows = statement.query_map([], |r| {
            let (runs, success): (i64, i64) = (r.get(2)?, r.get(3)?);
            Ok(CiSuccess {
                workflow: r.get(0)?,
                event: r.get(1)?,
                runs: runs as u64,
                success: success as u64,
                rate: success as f64 / runs.max(1) as f64,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    let most_active = {
        let mut statement = conn.prepare(&format!(
            "SELECT r.full_name, sum(kind = 'p'), sum(kind = 'i'), sum(kind = 'c'), sum(kind = 'r'), count(*) AS n
             FROM (SELECT repo_id, 'p' AS kind FROM pull_requests UNION ALL SELECT repo_id, 'i' FROM issues
                   UNION ALL SELECT repo_id, 'c' FROM commits UNION ALL SELECT repo_id, 'r' FROM ci_runs) AS a
             JOIN repositories r ON r.id = a.repo_id
             GROUP BY a.repo_id ORDER BY n DESC, r.full_name LIMIT {TOP}"
        ))?;
        let rows = statement.query_map([], |r| {
            let n = |i: usize| r.get::<_, i64>(i).map(|v| v as u64);
            Ok(Active {
                full_name: r.get(0)?,
                pull_requests: n(1)?,
                issues: n(2)?,
                commits: n(3)?,
                ci_runs: n(4)?,
                total: n(5)?,
            })
        })?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    Ok(Activity {
        contributors_per_repository: stats(conn, "SELECT count(*) FROM contributors GROUP BY repo_id")?,
        pull_request_hours_to_merge: stats(
            conn,
            "SELECT (julianday(merged_at) - julianday(created_at)) * 24.0 FROM pull_requests WHERE merged_at IS NOT NULL",
        )?,
        issue_hours_to_close: stats(
            conn,
            "SELECT (julianday(closed_at) - julianday(created_at)) * 24.0 FROM issues WHERE closed_at IS NOT NULL",
        )?,
        ci_success,
        most_active,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v REAL); INSERT INTO t VALUES (5), (1), (4), (2), (3), (NULL);").unwrap();
        let s = stats(&conn, "SELECT v FROM t").unwrap().unwrap();
        assert_eq!((s.count, s.min, s.q1, s.median, s.q3, s.p90, s.max), (5, 1.0, 2.0, 3.0, 4.0, 5.0, 5.0));
        assert_eq!(s.mean, 3.0);
        conn.execute_batch("DELETE FROM t").unwrap();
        assert!(stats(&conn, "SELECT v FROM t").unwrap().is_none());
    }
}
