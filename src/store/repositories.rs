//! Rows of the `repositories` table and how they are written.

use rusqlite::{Transaction, params};

/// One repository as stored. Fields a source does not provide stay `None` and never overwrite a
/// value another source stored (the `/repositories` listing has no stars; GraphQL detail does).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RepositoryRow {
    /// GitHub's repository id.
    pub id: u64,
    /// GraphQL node id.
    pub node_id: Option<String>,
    /// `owner/name`.
    pub full_name: String,
    /// Owner login.
    pub owner: String,
    /// Repository name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Primary language.
    pub language: Option<String>,
    /// Topics as a JSON array.
    pub topics: Option<String>,
    /// Stars.
    pub stargazers_count: Option<i64>,
    /// Forks.
    pub forks_count: Option<i64>,
    /// Open issues (and pull requests, as GitHub counts them).
    pub open_issues_count: Option<i64>,
    /// Size in kilobytes.
    pub size: Option<i64>,
    /// Default branch name.
    pub default_branch: Option<String>,
    /// Is a fork.
    pub fork: Option<bool>,
    /// Is archived.
    pub archived: Option<bool>,
    /// SPDX license id.
    pub license: Option<String>,
    /// Creation time.
    pub created_at: Option<String>,
    /// Last update time.
    pub updated_at: Option<String>,
    /// Last push time.
    pub pushed_at: Option<String>,
    /// When we fetched it (RFC 3339).
    pub fetched_at: String,
    /// ETag of the response it came from.
    pub etag: Option<String>,
}

/// Inserts or updates rows inside the caller's transaction.
pub(crate) fn upsert(tx: &Transaction<'_>, rows: &[RepositoryRow]) -> rusqlite::Result<()> {
    let mut statement = tx.prepare_cached(
        "INSERT INTO repositories (id, node_id, full_name, owner, name, description, language, topics,
            stargazers_count, forks_count, open_issues_count, size, default_branch, fork, archived, license,
            created_at, updated_at, pushed_at, fetched_at, etag)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
         ON CONFLICT (id) DO UPDATE SET
            node_id = coalesce(excluded.node_id, node_id),
            full_name = excluded.full_name,
            owner = excluded.owner,
            name = excluded.name,
            description = excluded.description,
            language = coalesce(excluded.language, language),
            topics = coalesce(excluded.topics, topics),
            stargazers_count = coalesce(excluded.stargazers_count, stargazers_count),
            forks_count = coalesce(excluded.forks_count, forks_count),
            open_issues_count = coalesce(excluded.open_issues_count, open_issues_count),
            size = coalesce(excluded.size, size),
            default_branch = coalesce(excluded.default_branch, default_branch),
            fork = coalesce(excluded.fork, fork),
            archived = coalesce(excluded.archived, archived),
            license = coalesce(excluded.license, license),
            created_at = coalesce(excluded.created_at, created_at),
            updated_at = coalesce(excluded.updated_at, updated_at),
            pushed_at = coalesce(excluded.pushed_at, pushed_at),
            fetched_at = excluded.fetched_at,
            etag = coalesce(excluded.etag, etag)",
    )?;
    for r in rows {
        statement.execute(params![
            r.id as i64,
            r.node_id,
            r.full_name,
            r.owner,
            r.name,
            r.description,
            r.language,
            r.topics,
            r.stargazers_count,
            r.forks_count,
            r.open_issues_count,
            r.size,
            r.default_branch,
            r.fork,
            r.archived,
            r.license,
            r.created_at,
            r.updated_at,
            r.pushed_at,
            r.fetched_at,
            r.etag,
        ])?;
    }
    Ok(())
}
