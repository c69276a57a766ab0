//! The HTML report: one self-contained `index.html` (inline CSS, inline SVG charts, no script, no
//! request to anywhere: a strict Content-Security-Policy says so to the browser) that anyone can
//! open from an artifact. The database is read, never written; every number is aggregated in
//! SQL, so the page stays small for a database of millions of repositories. Text from the
//! database (names, descriptions, workflow names) is untrusted and always escaped.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::chart_queries::{self as q, thousands};
use super::charts::{self, ChartError, Outcome};

/// The file [`write_html`] writes in its folder.
pub const FILE_NAME: &str = "index.html";
/// The page's policy: nothing may load (no script, font, image or frame from anywhere), only its
/// own inline styles and `data:` images.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
/// Repositories in the table of the most starred ones.
const TOP_REPOSITORIES: usize = 10;

/// What [`write_html`] wrote: the page, and which charts it has and which it left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HtmlReport {
    /// `DIR/index.html`.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The charts on the page, in page order.
    pub drawn: Vec<DrawnChart>,
    /// The charts left out, and why (no data).
    pub skipped: Vec<SkippedChart>,
}

/// A chart on the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrawnChart {
    /// Its id: the element's `data-chart` (and `id`, prefixed `chart-`).
    pub id: &'static str,
    /// Its caption: the numbers it is drawn from.
    pub caption: String,
}

/// A chart not on the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedChart {
    /// Its id.
    pub id: &'static str,
    /// Why it was skipped (shown on the page too).
    pub reason: String,
}

/// Why no report was written.
#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// The database could not be opened or read.
    #[error("database {path}: {source}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A chart's query or drawing failed.
    #[error("database {path}: {source}")]
    Chart {
        /// The database file.
        path: PathBuf,
        /// What failed.
        source: ChartError,
    },
    /// The folder or the page could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Writes the HTML report of the octoshard database `db` to `dir/index.html` (creating `dir`),
/// replacing it atomically.
pub fn write_html(db: &Path, dir: &Path) -> Result<HtmlReport, HtmlError> {
    let database = |source| HtmlError::Database { path: db.to_path_buf(), source };
    // Read-only, and never created: a wrong path is an error, not an empty report.
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(db, flags).map_err(database)?;
    let outcomes = charts::all(&conn).map_err(|source| HtmlError::Chart { path: db.to_path_buf(), source })?;
    let name = db.file_name().map_or_else(|| db.display().to_string(), |n| n.to_string_lossy().into_owned());
    let page = render(&conn, &name, &outcomes).map_err(database)?;

    std::fs::create_dir_all(dir).map_err(|source| HtmlError::Write { path: dir.to_path_buf(), source })?;
    let path = dir.join(FILE_NAME);
    crate::artifact::write_atomically(&path, page.as_bytes())
        .map_err(|source| HtmlError::Write { path: path.clone(), source })?;

    let mut report = HtmlReport { path, bytes: page.len() as u64, drawn: Vec::new(), skipped: Vec::new() };
    for outcome in outcomes {
        match outcome {
            Outcome::Drawn(chart) => report.drawn.push(DrawnChart { id: chart.id, caption: chart.caption }),
            Outcome::Skipped { id, reason, .. } => {
                tracing::debug!(chart = id, %reason, "chart skipped");
                report.skipped.push(SkippedChart { id, reason });
            }
        }
    }
    tracing::info!(
        path = %report.path.display(),
        bytes = report.bytes,
        drawn = report.drawn.len(),
        skipped = report.skipped.len(),
        "HTML report written"
    );
    Ok(report)
}

/// `text` safe in HTML text and in quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The inline style sheet.
const STYLE: &str = "
body{font-family:sans-serif;margin:0 auto;max-width:1160px;padding:16px 24px;color:#222;background:#fff}
h1{font-size:1.6em;margin:.2em 0} h2{font-size:1.2em;margin:.8em 0 .3em}
header p{margin:.2em 0;color:#444}
table{border-collapse:collapse;font-size:.9em} td,th{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:24px 0;padding:8px 0;border-top:1px solid #ccc}
figure svg{max-width:100%;height:auto;display:block}
figcaption{color:#444;font-size:.95em;margin-top:4px}
.skipped{color:#666} footer{margin-top:32px;color:#888;font-size:.85em}
";

/// The whole page.
fn render(conn: &Connection, name: &str, outcomes: &[Outcome]) -> rusqlite::Result<String> {
    let fetched = q::last_fetched(conn)?;
    let counts = q::table_counts(conn)?;
    let plans = q::plans(conn)?;
    let mut page = String::with_capacity(256 * 1024);
    let title = format!("octoshard report: {name}");
    // Writing to a String cannot fail.
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{csp}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{title}</h1>\n",
        csp = CONTENT_SECURITY_POLICY,
        title = escape(&title),
    );
    match &fetched {
        Some(at) => {
            let _ = writeln!(
                page,
                "<p id=\"fetched\">Data fetched up to <time datetime=\"{0}\">{0}</time>.</p>",
                escape(at)
            );
        }
        None => page.push_str("<p id=\"fetched\">No fetched data.</p>\n"),
    }
    for (plan_id, source, shards) in &plans {
        let shards = shards.map_or_else(String::new, |n| format!(", {}", charts::count_of(n, "shard", "shards")));
        let _ = writeln!(
            page,
            "<p class=\"plan\">Plan <code>{}</code>: source <code>{}</code>{shards}.</p>",
            escape(plan_id),
            escape(source)
        );
    }
    page.push_str("</header>\n<section id=\"tables\">\n<h2>Tables</h2>\n<table>\n<tr><th>table</th><th class=\"n\">rows</th></tr>\n");
    for table in &counts {
        let _ = writeln!(
            page,
            "<tr data-table=\"{0}\"><td>{0}</td><td class=\"n\">{1}</td></tr>",
            escape(&table.label),
            thousands(table.count)
        );
    }
    page.push_str("</table>\n</section>\n<section id=\"charts\">\n");
    for outcome in outcomes {
        if let Outcome::Drawn(chart) = outcome {
            let _ = write!(
                page,
                "<figure class=\"chart\" id=\"chart-{id}\" data-chart=\"{id}\">\n<h2>{title}</h2>\n{svg}\n\
                 <figcaption>{caption}</figcaption>\n</figure>\n",
                id = chart.id,
                title = escape(chart.title),
                svg = chart.svg.trim(),
                caption = escape(&chart.caption),
            );
        }
    }
    let skipped: Vec<_> = outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Skipped { id, title, reason } => Some((id, title, reason)),
            Outcome::Drawn(_) => None,
        })
        .collect();
    if !skipped.is_empty() {
        page.push_str("<h2>Not drawn</h2>\n<ul class=\"skipped\">\n");
        for (id, title, reason) in skipped {
            let _ = writeln!(page, "<li data-skipped=\"{id}\">{}: {}</li>", escape(title), escape(reason));
        }
        page.push_str("</ul>\n");
    }
    page.push_str("</section>\n");
    if q::has_table(conn, "repositories")? {
        let top = q::top_repositories(conn, TOP_REPOSITORIES)?;
        if !top.is_empty() {
            page.push_str(
                "<section id=\"top-repositories\">\n<h2>Most starred repositories</h2>\n<table>\n\
                 <tr><th>repository</th><th>language</th><th class=\"n\">stars</th><th>description</th></tr>\n",
            );
            for repository in top {
                let _ = writeln!(
                    page,
                    "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    escape(&repository.full_name),
                    escape(repository.language.as_deref().unwrap_or("")),
                    thousands(repository.stars),
                    escape(repository.description.as_deref().unwrap_or("")),
                );
            }
            page.push_str("</table>\n</section>\n");
        }
    }
    let _ = write!(page, "<footer>Written by octoshard {}.</footer>\n</body>\n</html>\n", crate::TOOL_VERSION);
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup_and_no_way_out_of_an_attribute() {
        let hostile = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>'&";
        let escaped = escape(hostile);
        assert_eq!(
            escaped,
            "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;&#39;&amp;"
        );
        assert!(!escaped.contains(['<', '>', '"', '\'']));
        assert_eq!(escape("plain ü text"), "plain ü text");
    }

    /// A small database with hostile text in every place text is shown.
    fn hostile_db(dir: &Path) -> PathBuf {
        let path = dir.join("hostile.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE repositories (id INTEGER PRIMARY KEY, full_name TEXT, description TEXT, language TEXT,
                 stargazers_count INTEGER, created_at TEXT, fetched_at TEXT);
             INSERT INTO repositories VALUES
                 (1, 'evil/\"><img src=x onerror=alert(1)>', '<script>alert(2)</script>', '<b>Lang</b>', 5,
                  '2024-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z'),
                 (2, 'a/b', 'fine', 'Rust', 0, '2024-02-01T00:00:00Z', '2026-01-02T00:00:00.000Z');
             CREATE TABLE ci_runs (workflow_name TEXT, status TEXT, conclusion TEXT, fetched_at TEXT);
             INSERT INTO ci_runs VALUES ('<svg onload=alert(3)>', 'completed', 'success', '2026-01-01T00:00:00.000Z');
             CREATE TABLE plans (plan_id TEXT, source TEXT, collect TEXT, shard_count INTEGER);
             INSERT INTO plans VALUES ('p1', 'search:<i>x</i>', '[]', 2);",
        )
        .unwrap();
        path
    }

    #[test]
    fn a_page_escapes_every_database_text_and_loads_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = hostile_db(dir.path());
        let out = dir.path().join("report");
        let report = write_html(&db, &out).unwrap();
        let page = std::fs::read_to_string(&report.path).unwrap();
        assert_eq!(report.path, out.join("index.html"));
        assert_eq!(report.bytes, page.len() as u64);
        for raw in ["<script", "<img", "<b>", "<i>", "<svg onload", "onerror=alert(1)>"] {
            assert!(!page.contains(raw), "{raw} is in the page unescaped");
        }
        assert!(page.contains("&lt;script&gt;alert(2)&lt;/script&gt;"));
        assert!(page.contains(CONTENT_SECURITY_POLICY));
        assert!(page.contains("<time datetime=\"2026-01-02T00:00:00.000Z\">"), "the newest fetched_at, not the clock");
        let drawn: Vec<_> = report.drawn.iter().map(|c| c.id).collect();
        assert_eq!(drawn, ["languages", "stars", "repositories-created", "ci-success"]);
        let skipped: Vec<_> = report.skipped.iter().map(|c| c.id).collect();
        assert_eq!(skipped, ["pulls-issues", "shard-coverage", "api-spend", "categories"]);
        for id in drawn {
            assert!(page.contains(&format!("id=\"chart-{id}\" data-chart=\"{id}\"")), "{id}");
        }
        for attribute in ["src=\"http", "href=\"http", "src='http", "href='http", "url("] {
            assert!(!page.contains(attribute), "{attribute}");
        }
    }

    /// A merged file of a large crawl: `repositories` rows, 64 shards of four id ranges, a month
    /// of hourly request totals per shard.
    fn large_db(dir: &Path, repositories: u64) -> PathBuf {
        let path = dir.join("large.sqlite");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "CREATE TABLE repositories (id INTEGER PRIMARY KEY, full_name TEXT, description TEXT, language TEXT,
                 stargazers_count INTEGER, created_at TEXT, fetched_at TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {repositories})
             INSERT INTO repositories
             SELECT i * 7, 'owner' || (i % 5000) || '/repo' || i, 'a description of repository ' || i,
                    CASE WHEN i % 9 = 0 THEN NULL ELSE 'language ' || (i * i % 61) END,
                    CASE WHEN i % 3 = 0 THEN 0 ELSE (i * 2654435761) % 100000 / (1 + i % 997) END,
                    strftime('%Y-%m-%dT%H:%M:%SZ', 1200000000 + i * 580, 'unixepoch'),
                    '2026-01-01T00:00:00.000Z'
             FROM n;
             CREATE TABLE work_items (plan_id TEXT, shard TEXT, idx INTEGER, kind TEXT, spec TEXT, status TEXT);
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 255)
             INSERT INTO work_items SELECT 'p', printf('shard-%04d', i / 4), i % 4, 'id_range',
                 json_object('kind', 'id_range', 'from', i * {step}, 'to', (i + 1) * {step}),
                 CASE WHEN i % 17 = 0 THEN 'failed' ELSE 'completed' END FROM n;
             CREATE TABLE api_request_totals (plan_id TEXT, shard TEXT, hour TEXT, cost INTEGER, requests INTEGER);
             WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 64 * 720 - 1)
             INSERT INTO api_request_totals SELECT 'p', printf('shard-%04d', i % 64),
                 strftime('%Y-%m-%dT%H', 1767225600 + (i / 64) * 3600, 'unixepoch'), 100 + i % 50, 120 + i % 50 FROM n;",
            step = repositories * 7 / 256 + 1,
        ))
        .unwrap();
        path
    }

    #[test]
    fn a_million_repositories_make_a_page_of_a_few_megabytes() {
        let dir = tempfile::tempdir().unwrap();
        let db = large_db(dir.path(), 1_000_000);
        let started = std::time::Instant::now();
        let report = write_html(&db, &dir.path().join("out")).unwrap();
        eprintln!("1,000,000 repositories: {} bytes in {:?}", report.bytes, started.elapsed());
        assert!(report.bytes < 3_000_000, "{} bytes", report.bytes);
        let drawn: Vec<_> = report.drawn.iter().map(|c| c.id).collect();
        assert_eq!(drawn, ["languages", "stars", "repositories-created", "shard-coverage", "api-spend"]);
        let spend = &report.drawn[4].caption;
        assert!(spend.contains("over 30 days by 64 shards"), "a month of hours is drawn by day: {spend}");
    }

    #[test]
    fn a_missing_database_is_an_error_and_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("none.sqlite");
        let error = write_html(&db, &dir.path().join("out")).unwrap_err();
        assert!(matches!(error, HtmlError::Database { .. }), "{error}");
        assert!(!db.exists());
    }
}
