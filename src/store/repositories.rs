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
    /// Watchers (subscribers).
    pub watchers_count: Option<i64>,
    /// When GraphQL detail was stored; `None` while it is still to fetch.
    pub detail_fetched_at: Option<String>,
    /// The head commit of the default branch when detail was fetched.
    pub head_sha: Option<String>,
}

/// The columns of `repositories`, in the order [`RepositoryRow`] binds them.
pub const COLUMNS: &[&str] = &[
    "id",
    "node_id",
    "full_name",
    "owner",
    "name",
    "description",
    "language",
    "topics",
    "stargazers_count",
    "forks_count",
    "open_issues_count",
    "size",
    "default_branch",
    "fork",
    "archived",
    "license",
    "created_at",
    "updated_at",
    "pushed_at",
    "fetched_at",
    "etag",
    "watchers_count",
    "detail_fetched_at",
    "head_sha",
];

/// Columns a listing always provides (overwritten on upsert); the others keep an earlier value
/// when the new row has none.
const LISTING_COLUMNS: &[&str] = &["full_name", "owner", "name", "description", "fetched_at"];

impl RepositoryRow {
    /// Reads a row selected with [`COLUMNS`] in order.
    pub fn from_sql(row: &rusqlite::Row<'_>) -> rusqlite::Result<RepositoryRow> {
        Ok(RepositoryRow {
            id: row.get(0)?,
            node_id: row.get(1)?,
            full_name: row.get(2)?,
            owner: row.get(3)?,
            name: row.get(4)?,
            description: row.get(5)?,
            language: row.get(6)?,
            topics: row.get(7)?,
            stargazers_count: row.get(8)?,
            forks_count: row.get(9)?,
            open_issues_count: row.get(10)?,
            size: row.get(11)?,
            default_branch: row.get(12)?,
            fork: row.get(13)?,
            archived: row.get(14)?,
            license: row.get(15)?,
            created_at: row.get(16)?,
            updated_at: row.get(17)?,
            pushed_at: row.get(18)?,
            fetched_at: row.get(19)?,
            etag: row.get(20)?,
            watchers_count: row.get(21)?,
            detail_fetched_at: row.get(22)?,
            head_sha: row.get(23)?,
        })
    }
}

fn upsert_sql() -> String {
    let placeholders: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect();
    let updates: Vec<String> = COLUMNS[1..]
        .iter()
        .map(|c| {
            if LISTING_COLUMNS.contains(c) {
                format!("{c} = excluded.{c}")
            } else {
                format!("{c} = coalesce(excluded.{c}, {c})")
            }
        })
        .collect();
    format!(
        "INSERT INTO repositories ({}) VALUES ({}) ON CONFLICT (id) DO UPDATE SET {}",
        COLUMNS.join(", "),
        placeholders.join(", "),
        updates.join(", ")
    )
}

/// Inserts or updates rows inside the caller's transaction.
pub(crate) fn upsert(tx: &Transaction<'_>, rows: &[RepositoryRow]) -> rusqlite::Result<()> {
    let mut statement = tx.prepare_cached(&upsert_sql())?;
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
            r.watchers_count,
            r.detail_fetched_at,
            r.head_sha,
        ])?;
    }
    Ok(())
}
