//! Export into PostgreSQL: every table is created with PostgreSQL types (bigint, double precision,
//! text, boolean, timestamptz, jsonb), its primary key and a few useful indexes, filled with COPY
//! into a staging table and upserted from there, the newest version of a row winning. The whole
//! export is one transaction: a failure or a kill leaves the database as it was. A table that
//! exists with another shape is refused by name, never dropped or altered.

use bytes::Bytes;
use futures_util::SinkExt;
use rusqlite::types::ValueRef;
use tokio_postgres::Transaction;

use super::tables::{Kind, Table};
use super::{ExportError, ExportReport};

/// Rows read from SQLite and sent per COPY chunk.
const CHUNK_ROWS: i64 = 20_000;

/// Columns worth an index besides the primary key.
const INDEXED: &[&str] = &["full_name", "language", "created_at", "head_sha", "merge_commit_sha"];

/// The key column log tables get: a hash of the row's content (their `id` is local to a file).
const ROW_KEY: &str = "row_key";

/// Host, port, database and user of a configuration, for messages (never the password).
pub fn describe(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".into());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{host}:{port}/{} as {}",
        config.get_dbname().unwrap_or("(default database)"),
        config.get_user().unwrap_or("(default user)")
    )
}

fn pg_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Integer => "bigint",
        Kind::Real => "double precision",
        Kind::Text => "text",
        Kind::Boolean => "boolean",
        Kind::Time => "timestamp with time zone",
        Kind::Json => "jsonb",
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The columns exported of a table: log tables drop their local `id` and key on [`ROW_KEY`].
fn columns(table: &Table) -> Vec<(&str, Kind)> {
    let mut columns: Vec<(&str, Kind)> = Vec::new();
    if keyed_by_content(table) {
        columns.push((ROW_KEY, Kind::Integer));
    }
    columns.extend(
        table
            .columns
            .iter()
            .filter(|c| !(keyed_by_content(table) && c.name == "id"))
            .map(|c| (c.name.as_str(), c.kind)),
    );
    columns
}

fn keyed_by_content(table: &Table) -> bool {
    table.is_log() || table.key.is_empty()
}

fn key(table: &Table) -> Vec<&str> {
    if keyed_by_content(table) { vec![ROW_KEY] } else { table.key.iter().map(String::as_str).collect() }
}

/// Exports `tables` of `conn` in one transaction.
pub async fn export(
    conn: &rusqlite::Connection,
    tables: &[Table],
    config: &tokio_postgres::Config,
) -> Result<ExportReport, ExportError> {
    let server = describe(config);
    let tls = tls();
    let (mut client, connection) =
        config.connect(tls).await.map_err(|e| ExportError::Connect { server: server.clone(), reason: reason(&e) })?;
    let task = tokio::spawn(connection);
    let failed = |e: tokio_postgres::Error| ExportError::Postgres { server: server.clone(), reason: reason(&e) };
    let tx = client.transaction().await.map_err(failed)?;
    for table in tables {
        ensure(&tx, table, &server).await?;
    }
    let mut counts = Vec::new();
    for table in tables {
        let rows = load(&tx, conn, table, &server).await?;
        tracing::info!("{}: {rows} rows upserted into {server}", table.name);
        counts.push((table.name.clone(), rows));
    }
    tx.commit().await.map_err(failed)?;
    drop(client);
    let _ = task.await;
    Ok(ExportReport { tables: counts, target: server })
}

/// PostgreSQL's own words for an error (its message and detail), without the URL.
fn reason(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_string(),
        },
        None => error.to_string(),
    }
}

/// TLS when the server offers it (`sslmode=prefer`, the default), with the usual web roots.
fn tls() -> tokio_postgres_rustls::MakeRustlsConnect {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config =
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
    tokio_postgres_rustls::MakeRustlsConnect::new(config)
}

/// Creates `table` in PostgreSQL, or checks that the existing one can take its rows.
async fn ensure(tx: &Transaction<'_>, table: &Table, server: &str) -> Result<(), ExportError> {
    let failed = |e: tokio_postgres::Error| ExportError::Postgres { server: server.to_string(), reason: reason(&e) };
    let existing = tx
        .query(
            "SELECT column_name, data_type FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1",
            &[&table.name],
        )
        .await
        .map_err(failed)?;
    let wanted = columns(table);
    if existing.is_empty() {
        let mut definitions: Vec<String> =
            wanted.iter().map(|(name, kind)| format!("{} {}", quote(name), pg_type(*kind))).collect();
        definitions
            .push(format!("PRIMARY KEY ({})", key(table).iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ")));
        tx.batch_execute(&format!("CREATE TABLE {} ({})", quote(&table.name), definitions.join(", ")))
            .await
            .map_err(failed)?;
        for (name, _) in wanted.iter().filter(|(name, _)| INDEXED.contains(name)) {
            tx.batch_execute(&format!(
                "CREATE INDEX {} ON {} ({})",
                quote(&format!("{}_{name}_idx", table.name)),
                quote(&table.name),
                quote(name)
            ))
            .await
            .map_err(failed)?;
        }
        return Ok(());
    }
    for (name, kind) in &wanted {
        let found = existing.iter().find(|row| row.get::<_, String>(0) == *name).map(|row| row.get::<_, String>(1));
        let incompatible = |what: String| ExportError::Incompatible {
            table: table.name.clone(),
            server: server.to_string(),
            reason: what,
        };
        match found {
            None => return Err(incompatible(format!("it has no column `{name}`"))),
            Some(found) if found != pg_type(*kind) => {
                return Err(incompatible(format!("column `{name}` is {found}, octoshard writes {}", pg_type(*kind))));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// COPYs `table` into a staging table in chunks, then upserts it into the table.
async fn load(
    tx: &Transaction<'_>,
    conn: &rusqlite::Connection,
    table: &Table,
    server: &str,
) -> Result<u64, ExportError> {
    let failed = |e: tokio_postgres::Error| ExportError::Postgres { server: server.to_string(), reason: reason(&e) };
    let wanted = columns(table);
    let names: Vec<String> = wanted.iter().map(|(name, _)| quote(name)).collect();
    let stage = quote(&format!("octoshard_stage_{}", table.name));
    tx.batch_execute(&format!(
        "CREATE TEMP TABLE {stage} (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP",
        quote(&table.name)
    ))
    .await
    .map_err(failed)?;
    let sink = tx.copy_in(&format!("COPY {stage} ({}) FROM STDIN", names.join(", "))).await.map_err(failed)?;
    let mut sink = Box::pin(sink);
    let mut after = i64::MIN;
    let mut rows = 0u64;
    loop {
        let (chunk, last, count) =
            read_chunk(conn, table, after).map_err(|source| ExportError::Read { table: table.name.clone(), source })?;
        if count == 0 {
            break;
        }
        rows += count;
        after = last;
        sink.send(Bytes::from(chunk)).await.map_err(failed)?;
    }
    sink.as_mut().finish().await.map_err(failed)?;
    let key = key(table);
    let updates: Vec<String> =
        names.iter().filter(|n| !key.iter().any(|k| quote(k) == **n)).map(|n| format!("{n} = EXCLUDED.{n}")).collect();
    let conflict = if keyed_by_content(table) || updates.is_empty() {
        "DO NOTHING".to_string()
    } else {
        let newest = table
            .freshness()
            .map(|column| format!(" WHERE {0}.{1} <= EXCLUDED.{1}", quote(&table.name), quote(column)))
            .unwrap_or_default();
        format!("DO UPDATE SET {}{newest}", updates.join(", "))
    };
    tx.batch_execute(&format!(
        "INSERT INTO {0} ({1}) SELECT {1} FROM {stage} ON CONFLICT ({2}) {conflict}",
        quote(&table.name),
        names.join(", "),
        key.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ")
    ))
    .await
    .map_err(failed)?;
    Ok(rows)
}

/// The rows after rowid `after`, encoded in COPY's text format: (bytes, last rowid, rows).
fn read_chunk(conn: &rusqlite::Connection, table: &Table, after: i64) -> rusqlite::Result<(Vec<u8>, i64, u64)> {
    let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
    let sql = format!(
        "SELECT rowid, {} FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT {CHUNK_ROWS}",
        columns.join(", "),
        quote(&table.name)
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query([after])?;
    let mut out = Vec::with_capacity(1 << 20);
    let mut last = after;
    let mut count = 0;
    let by_content = keyed_by_content(table);
    while let Some(row) = rows.next()? {
        last = row.get(0)?;
        let mut values: Vec<ValueRef<'_>> = Vec::with_capacity(table.columns.len());
        for i in 0..table.columns.len() {
            values.push(row.get_ref(i + 1)?);
        }
        let mut fields: Vec<String> = Vec::with_capacity(values.len() + 1);
        if by_content {
            fields.push(content_key(table, &values).to_string());
        }
        for (column, value) in table.columns.iter().zip(&values) {
            if by_content && column.name == "id" {
                continue;
            }
            fields.push(copy_field(column.kind, *value));
        }
        out.extend_from_slice(fields.join("\t").as_bytes());
        out.push(b'\n');
        count += 1;
    }
    Ok((out, last, count))
}

/// A 64-bit FNV-1a hash of a log row's content (its local `id` left out).
fn content_key(table: &Table, values: &[ValueRef<'_>]) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
        }
    };
    for (column, value) in table.columns.iter().zip(values) {
        if column.name == "id" {
            continue;
        }
        match value {
            ValueRef::Null => feed(b"\x00N"),
            ValueRef::Integer(n) => feed(&n.to_le_bytes()),
            ValueRef::Real(x) => feed(&x.to_le_bytes()),
            ValueRef::Text(t) | ValueRef::Blob(t) => feed(t),
        }
        feed(b"\x1f");
    }
    hash as i64
}

/// One value in COPY's text format.
fn copy_field(kind: Kind, value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "\\N".into(),
        ValueRef::Integer(n) if kind == Kind::Boolean => (if n != 0 { "t" } else { "f" }).into(),
        ValueRef::Integer(n) => n.to_string(),
        ValueRef::Real(x) => x.to_string(),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            let mut escaped = String::with_capacity(text.len());
            for c in text.chars() {
                match c {
                    '\\' => escaped.push_str("\\\\"),
                    '\t' => escaped.push_str("\\t"),
                    '\n' => escaped.push_str("\\n"),
                    '\r' => escaped.push_str("\\r"),
                    '\0' => {}
                    c => escaped.push(c),
                }
            }
            escaped
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_and_nulls() {
        assert_eq!(copy_field(Kind::Text, ValueRef::Text(b"a\tb\\c\nd")), "a\\tb\\\\c\\nd");
        assert_eq!(copy_field(Kind::Boolean, ValueRef::Integer(0)), "f");
        assert_eq!(copy_field(Kind::Time, ValueRef::Null), "\\N");
    }
}
