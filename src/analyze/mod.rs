//! Analyze: a category and a quality score (0..100) for every repository of a database, with the
//! signals behind them, in `analyzed_repositories`. The default analyzer applies deterministic
//! rules ([`rules`]: topics, description keywords, language; stars, forks, activity, license, ...)
//! that a YAML file can replace; the optional LLM analyzer asks an OpenAI-compatible endpoint
//! ([`llm`], [`endpoint`]). Runs are incremental: a repository is analysed again only when the
//! fields it is judged on, or the analyzer, changed ([`input`]).

pub mod endpoint;
pub mod input;
pub mod llm;
mod pass;
pub mod rules;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

pub use endpoint::LlmConfig;
pub use rules::Rules;

use crate::store::{Store, StoreError};

/// Repositories read, judged and written per transaction: bounds memory and the work a kill loses.
pub const PAGE_ROWS: usize = 10_000;

/// What `analyze` needs, already validated by the CLI layer.
#[derive(Clone, Debug)]
pub struct AnalyzeRequest {
    /// The database (`.sqlite`), written in place.
    pub db: PathBuf,
    /// The rules: the categories (of both analyzers) and the rules analyzer's scoring.
    pub rules: Rules,
    /// Run the LLM analyzer (instead of the rules) with this endpoint.
    pub llm: Option<LlmConfig>,
    /// Repositories per page and transaction ([`PAGE_ROWS`]).
    pub page_rows: usize,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AnalyzeSummary {
    /// `rules` or `llm`.
    pub analyzer: String,
    /// The analyzer version written with the rows.
    pub analyzer_version: String,
    /// The day activity was measured from (the newest `fetched_at`; rules only).
    pub reference_day: Option<String>,
    /// Repositories in the database.
    pub repositories: u64,
    /// Repositories analysed (new or changed) and stored.
    pub analysed: u64,
    /// Repositories whose stored analysis was current.
    pub unchanged: u64,
    /// Repositories of batches the endpoint failed or answered wrongly (LLM only).
    pub failed: u64,
    /// Repositories never sent: the cost cap was reached or the endpoint stopped answering.
    pub not_sent: u64,
    /// Analyses removed because their repository is no longer in the database.
    pub removed: u64,
    /// The repositories analysed in this run, by category.
    pub categories: BTreeMap<String, u64>,
    /// Requests sent to the endpoint, retries included.
    pub requests: u64,
    /// Tokens spent (prompt + completion), as reported or estimated.
    pub tokens: u64,
    /// Why sending stopped early, when it did.
    pub stopped: Option<String>,
    /// The first reasons batches failed, for the message.
    pub failures: Vec<String>,
}

impl AnalyzeSummary {
    /// The error a run that left repositories unanalysed ends with (exit 1); None when complete.
    pub fn incomplete(&self) -> Option<AnalyzeError> {
        (self.failed + self.not_sent > 0).then(|| AnalyzeError::Incomplete {
            failed: self.failed,
            not_sent: self.not_sent,
            reasons: self.stopped.iter().chain(self.failures.iter().take(3)).cloned().collect::<Vec<_>>().join("; "),
        })
    }

    /// One line for the log: the counts and, for the LLM, the cost.
    pub fn line(&self) -> String {
        let mut text = format!(
            "analyze ({}, {}): {} repositories, {} analysed, {} unchanged",
            self.analyzer, self.analyzer_version, self.repositories, self.analysed, self.unchanged
        );
        if self.analyzer == "llm" {
            text.push_str(&format!(
                ", {} failed, {} not sent; {} requests, {} tokens",
                self.failed, self.not_sent, self.requests, self.tokens
            ));
        }
        if self.removed > 0 {
            text.push_str(&format!(", {} stale analyses removed", self.removed));
        }
        text
    }

    /// A Markdown table for the step summary: the counts, then the categories of this run.
    pub fn markdown(&self) -> String {
        let mut text = format!(
            "### octoshard analyze ({})\n\n| analyzer version | repositories | analysed | unchanged | failed | not sent | tokens |\n|---|---:|---:|---:|---:|---:|---:|\n| `{}` | {} | {} | {} | {} | {} | {} |\n",
            self.analyzer,
            self.analyzer_version,
            self.repositories,
            self.analysed,
            self.unchanged,
            self.failed,
            self.not_sent,
            self.tokens
        );
        if !self.categories.is_empty() {
            text.push_str("\n| category | analysed |\n|---|---:|\n");
            for (category, n) in &self.categories {
                text.push_str(&format!("| {} | {n} |\n", category.replace('|', "\\|")));
            }
        }
        text
    }
}

/// An analysis that could not run, or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// The database cannot be analysed (missing, not SQLite, not octoshard's, compressed).
    #[error("cannot analyze {}: {reason}", path.display())]
    Input {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A rules file that cannot be used.
    #[error("rules file {}: {reason}", path.display())]
    Rules {
        /// The file.
        path: PathBuf,
        /// Why (one line).
        reason: String,
    },
    /// Bad LLM settings (URL, key, context size).
    #[error("{0}")]
    Config(String),
    /// A database failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Some repositories are not analysed (what was analysed is stored).
    #[error("{failed} repositories failed and {not_sent} were not sent: {reasons}")]
    Incomplete {
        /// Repositories of failed batches.
        failed: u64,
        /// Repositories never sent.
        not_sent: u64,
        /// Why.
        reasons: String,
    },
}

impl AnalyzeError {
    /// Whether the user can fix it by changing the input (exit 2).
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            AnalyzeError::Input { .. }
                | AnalyzeError::Rules { .. }
                | AnalyzeError::Config(_)
                | AnalyzeError::Store(StoreError::Incompatible { .. })
        )
    }
}

/// Reads a rules file, or the built-in rules without one.
pub fn load_rules(path: Option<&Path>) -> Result<Rules, AnalyzeError> {
    match path {
        None => Ok(Rules::default()),
        Some(path) => Rules::load(path).map_err(|reason| AnalyzeError::Rules { path: path.to_path_buf(), reason }),
    }
}

/// Analyses every new or changed repository of the database and stores the results; the summary
/// says what was done (see [`AnalyzeSummary::incomplete`] for the LLM's unfinished work).
pub async fn analyze(request: &AnalyzeRequest) -> Result<AnalyzeSummary, AnalyzeError> {
    let mut store = open(&request.db)?;
    let mut summary = match &request.llm {
        None => pass::rules(&mut store, &request.rules, request.page_rows.max(1))?,
        Some(config) => pass::llm(&mut store, &request.rules, config, request.page_rows.max(1)).await?,
    };
    summary.removed = store
        .conn()
        .execute("DELETE FROM analyzed_repositories WHERE repo_id NOT IN (SELECT id FROM repositories)", [])
        .map_err(|e| store.error(e))? as u64;
    Ok(summary)
}

/// Opens an octoshard database for writing: it must exist and be one (an older schema is
/// migrated in place, as a crawl would).
fn open(path: &Path) -> Result<Store, AnalyzeError> {
    let fail = |reason: &str| AnalyzeError::Input { path: path.to_path_buf(), reason: reason.to_string() };
    if !path.is_file() {
        return Err(fail(if path.exists() { "it is not a file" } else { "no such file" }));
    }
    match crate::artifact::detect(path).map_err(|e| fail(&e.to_string()))? {
        crate::artifact::FileKind::Sqlite => {}
        crate::artifact::FileKind::Gzip => {
            return Err(fail("it is compressed; analyze writes into the database: gunzip it first"));
        }
        crate::artifact::FileKind::Other => return Err(fail("not a SQLite database")),
    }
    let version = {
        let store = Store::open_readonly(path).map_err(|e| fail(&e.to_string()))?;
        store.meta("schema_version").map_err(|_| fail("not an octoshard database (no meta table)"))?
    };
    let version = version.and_then(|v| v.parse::<i64>().ok()).ok_or_else(|| fail("not an octoshard database"))?;
    if version > crate::store::SCHEMA_VERSION {
        return Err(fail(&format!(
            "schema version {version} is newer than this octoshard ({})",
            crate::store::SCHEMA_VERSION
        )));
    }
    Ok(Store::open(path)?)
}

/// Repositories per category of the default (`rules`) analyzer, most first (then by name): what a
/// report shows.
pub fn category_counts(conn: &Connection) -> rusqlite::Result<Vec<(String, u64)>> {
    category_counts_of(conn, "rules")
}

/// Repositories per category of one analyzer (`rules` or `llm`), most first (then by name).
pub fn category_counts_of(conn: &Connection, analyzer: &str) -> rusqlite::Result<Vec<(String, u64)>> {
    let mut statement = conn.prepare(
        "SELECT category, count(*) AS n FROM analyzed_repositories WHERE analyzer = ?1
         GROUP BY category ORDER BY n DESC, category",
    )?;
    statement.query_map([analyzer], |row| Ok((row.get(0)?, row.get(1)?)))?.collect()
}

/// The distribution of one analyzer's scores, for a report.
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreStats {
    /// Scores counted.
    pub count: u64,
    /// The lowest.
    pub min: f64,
    /// The highest.
    pub max: f64,
    /// The mean.
    pub mean: f64,
    /// The first quartile (linear interpolation between ranks, as numpy's default).
    pub q1: f64,
    /// The median.
    pub median: f64,
    /// The third quartile.
    pub q3: f64,
}

/// [`ScoreStats`] of the default (`rules`) analyzer; None when nothing is analysed.
pub fn score_stats(conn: &Connection) -> rusqlite::Result<Option<ScoreStats>> {
    score_stats_of(conn, "rules")
}

/// [`ScoreStats`] of one analyzer; None when it analysed nothing. Reads a few rows by rank, so
/// memory stays small for any table.
pub fn score_stats_of(conn: &Connection, analyzer: &str) -> rusqlite::Result<Option<ScoreStats>> {
    let (count, min, max, mean): (u64, Option<f64>, Option<f64>, Option<f64>) = conn.query_row(
        "SELECT count(*), min(score), max(score), avg(score) FROM analyzed_repositories WHERE analyzer = ?1",
        [analyzer],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
    )?;
    let (Some(min), Some(max), Some(mean)) = (min, max, mean) else { return Ok(None) };
    let at_rank = |rank: u64| -> rusqlite::Result<f64> {
        conn.query_row(
            "SELECT score FROM analyzed_repositories WHERE analyzer = ?1 ORDER BY score LIMIT 1 OFFSET ?2",
            rusqlite::params![analyzer, rank as i64],
            |row| row.get(0),
        )
        .optional()
        .map(|v| v.unwrap_or(max))
    };
    let quantile = |p: f64| -> rusqlite::Result<f64> {
        let position = p * (count - 1) as f64;
        let (low, high) = (position.floor(), position.ceil());
        let a = at_rank(low as u64)?;
        let b = if high > low { at_rank(high as u64)? } else { a };
        Ok(a + (b - a) * (position - low))
    };
    Ok(Some(ScoreStats { count, min, max, mean, q1: quantile(0.25)?, median: quantile(0.5)?, q3: quantile(0.75)? }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_stats_read_one_analyzer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.sqlite")).unwrap();
        assert_eq!(score_stats(store.conn()).unwrap(), None);
        for (id, analyzer, category, score) in [
            (1, "rules", "web", 10.0),
            (2, "rules", "web", 20.0),
            (3, "rules", "cli", 30.0),
            (4, "rules", "data", 40.0),
            (5, "rules", "cli", 50.0),
            (1, "llm", "game", 99.0),
        ] {
            store
                .conn()
                .execute(
                    "INSERT INTO analyzed_repositories VALUES (?1, ?2, 'v', ?3, ?4, '{}', 'h', 't', 't')",
                    rusqlite::params![id, analyzer, category, score],
                )
                .unwrap();
        }
        let counts = category_counts(store.conn()).unwrap();
        assert_eq!(counts, [("cli".to_string(), 2), ("web".to_string(), 2), ("data".to_string(), 1)]);
        assert_eq!(category_counts_of(store.conn(), "llm").unwrap(), [("game".to_string(), 1)]);
        let stats = score_stats(store.conn()).unwrap().unwrap();
        assert_eq!(stats, ScoreStats { count: 5, min: 10.0, max: 50.0, mean: 30.0, q1: 20.0, median: 30.0, q3: 40.0 });
        store.conn().execute("DELETE FROM analyzed_repositories WHERE repo_id = 5", []).unwrap();
        let stats = score_stats(store.conn()).unwrap().unwrap();
        assert_eq!((stats.q1, stats.median, stats.q3), (17.5, 25.0, 32.5));
    }

    #[test]
    fn a_summary_is_one_line_a_table_and_an_error_when_incomplete() {
        let mut summary = AnalyzeSummary {
            analyzer: "llm".into(),
            analyzer_version: "llm-1:m".into(),
            repositories: 10,
            analysed: 6,
            failed: 2,
            not_sent: 2,
            categories: BTreeMap::from([("web".into(), 6)]),
            requests: 3,
            tokens: 900,
            stopped: Some("the cost cap of 900 tokens is reached".into()),
            failures: vec!["answer rejected twice: x".into()],
            ..AnalyzeSummary::default()
        };
        assert_eq!(
            summary.line(),
            "analyze (llm, llm-1:m): 10 repositories, 6 analysed, 0 unchanged, 2 failed, 2 not sent; 3 requests, 900 tokens"
        );
        let table = summary.markdown();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines[4], "| `llm-1:m` | 10 | 6 | 0 | 2 | 2 | 900 |");
        assert_eq!(lines[2].matches('|').count(), lines[4].matches('|').count());
        assert!(table.contains("| web | 6 |"));
        let error = summary.incomplete().unwrap();
        assert!(!error.is_input_error());
        assert_eq!(
            error.to_string(),
            "2 repositories failed and 2 were not sent: the cost cap of 900 tokens is reached; answer rejected twice: x"
        );
        (summary.failed, summary.not_sent) = (0, 0);
        assert!(summary.incomplete().is_none());
    }

    #[test]
    fn only_octoshard_databases_are_analysed() {
        let dir = tempfile::tempdir().unwrap();
        let missing = open(&dir.path().join("none.sqlite")).err().unwrap();
        assert!(missing.to_string().contains("no such file") && missing.is_input_error(), "{missing}");
        let text = dir.path().join("t.sqlite");
        std::fs::write(&text, "hello").unwrap();
        assert!(open(&text).err().unwrap().to_string().contains("not a SQLite database"));
        let foreign = dir.path().join("f.sqlite");
        Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE x (y)").unwrap();
        let error = open(&foreign).err().unwrap();
        assert!(error.to_string().contains("not an octoshard database") && error.is_input_error(), "{error}");
        let old = dir.path().join("old.sqlite");
        drop(crate::store::create_at_version(&old, 7));
        let store = open(&old).unwrap();
        assert_eq!(store.meta("schema_version").unwrap().as_deref(), Some("8"));
    }
}
