//! The store's tables as an exporter sees them: read generically from the SQLite schema, each
//! column typed by its declared type and the store's naming conventions (`*_at` is a time; the
//! JSON and boolean columns are listed here), so a table added later exports without new code.

use rusqlite::Connection;

/// Columns that hold JSON text.
const JSON_COLUMNS: &[&str] = &["topics", "labels", "spec", "collect", "ids", "signals"];

/// Integer columns that hold 0/1.
const BOOLEAN_COLUMNS: &[&str] = &["fork", "archived", "draft", "conditional", "tree_truncated"];

/// Tables of request and run logs: their `id` is a local row number, not an identity, so
/// exports key their rows by the content instead.
pub const LOG_TABLES: &[&str] = &["api_requests", "shard_runs"];

/// SQLite's internal tables and the full-text index (derived, rebuilt by merge) are not data.
fn is_internal(name: &str) -> bool {
    name.starts_with("sqlite_") || name.contains("_fts")
}

/// What a column holds, in terms every target understands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A 64-bit integer.
    Integer,
    /// A float.
    Real,
    /// Text.
    Text,
    /// 0/1.
    Boolean,
    /// An RFC 3339 time.
    Time,
    /// JSON text.
    Json,
}

/// One column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// What it holds.
    pub kind: Kind,
    /// Declared NOT NULL.
    pub not_null: bool,
}

/// One table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<Column>,
    /// Its primary key columns (empty for none).
    pub key: Vec<String>,
}

/// A name quoted as an SQL identifier, the same for SQLite and PostgreSQL.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Table {
    /// Its columns, quoted and comma separated, in order: what an exporter selects.
    pub fn select_list(&self) -> String {
        self.columns.iter().map(|c| quote(&c.name)).collect::<Vec<_>>().join(", ")
    }

    /// A log table (see [`LOG_TABLES`]).
    pub fn is_log(&self) -> bool {
        LOG_TABLES.contains(&self.name.as_str())
    }

    /// The column that says which of two versions of a row is newer, if the table has one.
    pub fn freshness(&self) -> Option<&str> {
        ["fetched_at", "updated_at", "observed_at"]
            .into_iter()
            .find(|name| self.columns.iter().any(|c| c.name == *name))
    }
}

fn kind(name: &str, declared: &str) -> Kind {
    let declared = declared.to_ascii_uppercase();
    if JSON_COLUMNS.contains(&name) {
        Kind::Json
    } else if declared.contains("INT") {
        if BOOLEAN_COLUMNS.contains(&name) { Kind::Boolean } else { Kind::Integer }
    } else if declared.contains("REAL") || declared.contains("FLOA") || declared.contains("DOUB") {
        Kind::Real
    } else if name.ends_with("_at") || name == "at" {
        Kind::Time
    } else {
        Kind::Text
    }
}

/// Every data table of the database, by name.
pub fn tables(conn: &Connection) -> rusqlite::Result<Vec<Table>> {
    let names: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut tables = Vec::new();
    for name in names.into_iter().filter(|n| !is_internal(n)) {
        let mut columns = Vec::new();
        let mut key: Vec<(i64, String)> = Vec::new();
        let mut statement = conn.prepare(&format!("PRAGMA table_info(\"{name}\")"))?;
        let rows = statement.query_map([], |row| {
            Ok((row.get::<_, String>(1)?, row.get::<_, String>(2)?, row.get::<_, bool>(3)?, row.get::<_, i64>(5)?))
        })?;
        for row in rows {
            let (column, declared, not_null, pk) = row?;
            if pk > 0 {
                key.push((pk, column.clone()));
            }
            columns.push(Column { kind: kind(&column, &declared), name: column, not_null });
        }
        key.sort();
        tables.push(Table { name, columns, key: key.into_iter().map(|(_, c)| c).collect() });
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_s_tables_are_typed_by_convention() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(&dir.path().join("s.sqlite")).unwrap();
        let tables = tables(store.conn()).unwrap();
        let table = |name: &str| tables.iter().find(|t| t.name == name).unwrap();
        let column = |t: &str, c: &str| table(t).columns.iter().find(|x| x.name == c).unwrap().kind;
        assert_eq!(column("repositories", "id"), Kind::Integer);
        assert_eq!(column("repositories", "fork"), Kind::Boolean);
        assert_eq!(column("repositories", "topics"), Kind::Json);
        assert_eq!(column("repositories", "created_at"), Kind::Time);
        assert_eq!(column("pull_requests", "labels"), Kind::Json);
        assert_eq!(column("api_requests", "at"), Kind::Time);
        assert_eq!(table("issues").key, ["repo_id", "issue_id"]);
        assert_eq!(table("issues").freshness(), Some("fetched_at"));
        assert_eq!(table("stream_state").freshness(), Some("updated_at"));
        assert!(table("api_requests").is_log());
        assert!(tables.iter().all(|t| !t.name.contains("_fts")));
    }
}
