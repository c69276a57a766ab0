//! What an analyzer sees of a repository, read page by page from `repositories`, and the hash that
//! tells whether a stored analysis is still current.

use rusqlite::{Connection, params};
use serde::Serialize;

/// The fields of a repository the analyzers read (and that its input hash covers).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Repository {
    /// GitHub's id.
    pub id: i64,
    /// `owner/name`.
    pub full_name: String,
    /// The description.
    pub description: Option<String>,
    /// The primary language.
    pub language: Option<String>,
    /// Topics.
    pub topics: Vec<String>,
    /// Stars (None: no detail stored).
    pub stars: Option<i64>,
    /// Forks.
    pub forks: Option<i64>,
    /// Open issues.
    pub open_issues: Option<i64>,
    /// A fork.
    pub fork: bool,
    /// Archived.
    pub archived: bool,
    /// SPDX id of the license.
    pub license: Option<String>,
    /// Last push (RFC 3339).
    pub pushed_at: Option<String>,
}

impl Repository {
    /// The day of the last push, in days since the epoch.
    pub fn pushed_day(&self) -> Option<i64> {
        self.pushed_at.as_deref().and_then(crate::time::epoch_seconds).map(|s| s as i64 / 86_400)
    }

    /// The hash a stored analysis must carry to be current: these fields, the analyzer version
    /// and `context` (what else the verdict depends on, such as the reference day).
    pub fn input_hash(&self, analyzer_version: &str, context: &str) -> String {
        let fields = serde_json::to_string(self).expect("repository serializes");
        let text = format!("{analyzer_version}\n{context}\n{fields}");
        sha256_hex(text.as_bytes())[..32].to_string()
    }
}

/// A repository with the input hash of its stored analysis, if any.
pub struct Stored {
    /// The repository.
    pub repo: Repository,
    /// `analyzed_repositories.input_hash` for the analyzer (None: never analysed).
    pub input_hash: Option<String>,
}

/// Up to `limit` repositories with ids above `after`, by id, with the stored hash for `analyzer`.
pub fn page(conn: &Connection, analyzer: &str, after: i64, limit: usize) -> rusqlite::Result<Vec<Stored>> {
    let mut statement = conn.prepare_cached(
        "SELECT r.id, r.full_name, r.description, r.language, r.topics, r.stargazers_count, r.forks_count,
                r.open_issues_count, r.fork, r.archived, r.license, r.pushed_at, a.input_hash
         FROM repositories r
         LEFT JOIN analyzed_repositories a ON a.repo_id = r.id AND a.analyzer = ?1
         WHERE r.id > ?2 ORDER BY r.id LIMIT ?3",
    )?;
    let rows = statement.query_map(params![analyzer, after, limit as i64], |row| {
        let topics: Option<String> = row.get(4)?;
        Ok(Stored {
            repo: Repository {
                id: row.get(0)?,
                full_name: row.get(1)?,
                description: row.get(2)?,
                language: row.get(3)?,
                // A topics value that is not a JSON list of strings counts as no topics.
                topics: topics.and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default(),
                stars: row.get(5)?,
                forks: row.get(6)?,
                open_issues: row.get(7)?,
                fork: row.get::<_, Option<bool>>(8)?.unwrap_or(false),
                archived: row.get::<_, Option<bool>>(9)?.unwrap_or(false),
                license: row.get(10)?,
                pushed_at: row.get(11)?,
            },
            input_hash: row.get(12)?,
        })
    })?;
    rows.collect()
}

/// The reference day of a database: the date of its newest `repositories.fetched_at`
/// (`YYYY-MM-DD`), so that activity is measured against when the data was seen, not today.
pub fn reference_day(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let newest: Option<String> = conn.query_row("SELECT max(fetched_at) FROM repositories", [], |row| row.get(0))?;
    Ok(newest.filter(|t| t.len() >= 10).map(|t| t[..10].to_string()))
}

/// Days since the epoch of a `YYYY-MM-DD` date.
pub fn epoch_day(date: &str) -> Option<i64> {
    crate::time::epoch_seconds(&format!("{date}T00:00:00Z")).map(|s| s as i64 / 86_400)
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_covers_fields_version_and_context() {
        let repo = Repository {
            id: 1,
            full_name: "o/n".into(),
            description: Some("d".into()),
            language: None,
            topics: vec!["t".into()],
            stars: Some(1),
            forks: None,
            open_issues: None,
            fork: false,
            archived: false,
            license: None,
            pushed_at: None,
        };
        let base = repo.input_hash("v1", "2024-01-01");
        assert_eq!(base.len(), 32);
        assert_eq!(base, repo.clone().input_hash("v1", "2024-01-01"));
        assert_ne!(base, repo.input_hash("v2", "2024-01-01"));
        assert_ne!(base, repo.input_hash("v1", "2024-01-02"));
        let mut changed = repo.clone();
        changed.stars = Some(2);
        assert_ne!(base, changed.input_hash("v1", "2024-01-01"));
        assert_eq!(epoch_day("1970-01-02"), Some(1));
    }
}
