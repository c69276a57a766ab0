//! What a crawl found, for people: `octoshard report` reads one database and writes a processing
//! and data summary as Markdown (fits a step summary) or JSON (a documented, versioned shape), an
//! awesome-list README of the repositories by category, and a self-contained HTML page of charts.
//! Everything is aggregated in SQL, so a database of any size is reported without loading its rows.

mod chart_queries;
mod chart_svg;
pub mod charts;
pub mod data;
pub mod html;
pub mod markdown;
pub mod readme;

use std::path::{Path, PathBuf};

/// What `report` writes.
#[derive(Clone, Debug)]
pub struct ReportRequest {
    /// The database (`.sqlite` or `.sqlite.gz`, shard or merged).
    pub db: PathBuf,
    /// The summary's format.
    pub format: Format,
    /// Where the summary goes (`None`: standard output).
    pub out: Option<PathBuf>,
    /// Also write an awesome-list README here.
    pub readme: Option<PathBuf>,
    /// Also write the HTML page of charts into this folder (`index.html`).
    pub html: Option<PathBuf>,
    /// Repositories per category in the README.
    pub top: usize,
    /// The web address repositories link to (`https://github.com`).
    pub web_url: String,
}

/// The summary's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Markdown tables.
    Markdown,
    /// JSON ([`data::REPORT_VERSION`]).
    Json,
}

/// What `report` produced.
#[derive(Clone, Debug)]
pub struct Reported {
    /// The figures.
    pub report: data::Report,
    /// The summary text (Markdown or JSON).
    pub summary: String,
    /// The Markdown summary (for a step summary, whatever the format).
    pub markdown: String,
    /// Categories in the README, when written.
    pub readme_categories: Option<usize>,
    /// The HTML page, when written.
    pub html: Option<html::HtmlReport>,
}

/// A report that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The database cannot be read.
    #[error("cannot report on {path}: {reason}")]
    Input {
        /// The database.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A README needs categories.
    #[error("{path} holds no analysis: run `octoshard analyze --db {path}` before `report --readme`")]
    NoAnalysis {
        /// The database.
        path: PathBuf,
    },
    /// Reading failed.
    #[error("reading {path} failed: {source}")]
    Sqlite {
        /// The database.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The HTML page could not be made.
    #[error(transparent)]
    Html(#[from] html::HtmlError),
    /// Writing an output failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Makes the report (and the README when asked), writing files; the summary is returned for
/// the caller to print when `out` is `None`.
pub fn report(request: &ReportRequest) -> Result<Reported, ReportError> {
    let (store, _temporary) = crate::store::open_for_reading(&request.db)
        .map_err(|reason| ReportError::Input { path: request.db.clone(), reason })?;
    let conn = store.conn();
    let sql = |source| ReportError::Sqlite { path: request.db.clone(), source };
    let report = data::compute(conn).map_err(sql)?;
    let title = request.db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let markdown = markdown::render(&report, &title);
    let summary = match request.format {
        Format::Markdown => markdown.clone(),
        Format::Json => serde_json::to_string_pretty(&report).expect("a report serializes") + "\n",
    };
    if let Some(out) = &request.out {
        write(out, &summary)?;
    }
    let mut readme_categories = None;
    if let Some(path) = &request.readme {
        // Repositories without an analysis cannot be grouped; no repositories at all make an
        // empty list, not an error (a crawl that found nothing still gets its README).
        let categories = match report.analysis.as_ref().map(|a| a.analyzer.as_str()) {
            Some(analyzer) => readme::entries(conn, analyzer, request.top.max(1)).map_err(sql)?,
            None if report.repositories.total == 0 => Vec::new(),
            None => return Err(ReportError::NoAnalysis { path: request.db.clone() }),
        };
        let text = readme::render(
            &categories,
            &format!("Repositories of {title}"),
            report.database.data_as_of.as_deref(),
            &request.web_url,
        );
        write(path, &text)?;
        readme_categories = Some(categories.len());
    }
    // The page reads the same (unpacked, migrated) file, never the `.gz` itself.
    let html = match &request.html {
        Some(dir) => Some(html::write_html(store.path(), dir)?),
        None => None,
    };
    Ok(Reported { report, summary, markdown, readme_categories, html })
}

/// Writes a file atomically (a temporary file beside it, then a rename).
fn write(path: &Path, text: &str) -> Result<(), ReportError> {
    let io = |source| ReportError::Io { path: path.to_path_buf(), source };
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io)?;
    let mut file = tempfile::NamedTempFile::new_in(parent).map_err(io)?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
    file.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_without_repositories_gets_an_empty_readme_and_one_with_them_needs_analyze() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("empty.sqlite");
        drop(crate::store::Store::open(&db).unwrap());
        let request = ReportRequest {
            db: db.clone(),
            format: Format::Json,
            out: Some(dir.path().join("r.json")),
            readme: Some(dir.path().join("README.md")),
            html: None,
            top: 5,
            web_url: "https://github.com".into(),
        };
        let reported = report(&request).unwrap();
        assert_eq!(reported.readme_categories, Some(0));
        assert!(std::fs::read_to_string(dir.path().join("README.md")).unwrap().contains("0 repositories"));
        let store = crate::store::Store::open(&db).unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO repositories (id, full_name, owner, name, fetched_at) VALUES (1, 'o/r', 'o', 'r', 't')",
                [],
            )
            .unwrap();
        drop(store);
        assert!(matches!(report(&request), Err(ReportError::NoAnalysis { .. })));
    }
}
