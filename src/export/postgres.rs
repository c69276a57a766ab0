//! Export into PostgreSQL: every table is created with PostgreSQL types (bigint, double precision,
//! text, boolean, timestamptz, jsonb), its primary key and a few useful indexes. A table that holds
//! nothing yet is filled by binary COPY straight into it (a new one gets its key and indexes after
//! the load); one that holds rows gets a COPY into a staging table and an upsert from there, the
//! newer version of a row winning. The whole
//! export is one transaction: a failure or a kill leaves the database as it was. A table that
//! exists with another shape is refused by name, never dropped or altered.

use bytes::Bytes;
use futures_util::SinkExt;
use rusqlite::types::ValueRef;
use tokio_postgres::Transaction;

use super::tables::{Kind, Table, quote};
use super::{ExportError, ExportReport, pgcopy};

/// Rows read from SQLite and sent per COPY chunk.
const CHUNK_ROWS: i64 = 20_000;

/// The buffer a chunk starts with (a chunk of repositories takes about this much).
const CHUNK_BYTES: usize = 8 << 20;

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
    let mut found = Vec::new();
    for table in tables {
        found.push(ensure(&tx, table, &server).await?);
    }
    let mut counts = Vec::new();
    let bar = crate::bars::Bar::new(Some(tables.len() as u64), "export");
    for (table, found) in tables.iter().zip(found) {
        bar.message(table.name.clone());
        let rows = load(&tx, conn, table, found, &server).await?;
        bar.inc(1);
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

/// What [`ensure`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Found {
    /// The table did not exist: it was created in this transaction, without its primary key and
    /// indexes when [`load`] can build them after the COPY (one sort instead of a million
    /// insertions).
    Created,
    /// The table exists with a shape octoshard can write into.
    Existing,
}

/// The statements that give `table` its primary key and indexes.
fn constraints(table: &Table) -> Vec<String> {
    let mut statements = vec![format!(
        "ALTER TABLE {} ADD PRIMARY KEY ({})",
        quote(&table.name),
        key(table).iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ")
    )];
    for (name, _) in columns(table).iter().filter(|(name, _)| INDEXED.contains(name)) {
        statements.push(format!(
            "CREATE INDEX {} ON {} ({})",
            quote(&format!("{}_{name}_idx", table.name)),
            quote(&table.name),
            quote(name)
        ));
    }
    statements
}

/// Creates `table` in PostgreSQL, or checks that the existing one can take its rows.
async fn ensure(tx: &Transaction<'_>, table: &Table, server: &str) -> Result<Found, ExportError> {
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
        let definitions: Vec<String> =
            wanted.iter().map(|(name, kind)| format!("{} {}", quote(name), pg_type(*kind))).collect();
        tx.batch_execute(&format!("CREATE TABLE {} ({})", quote(&table.name), definitions.join(", ")))
            .await
            .map_err(failed)?;
        if keyed_by_content(table) {
            // Its rows arrive through an upsert, which needs the key in place.
            for statement in constraints(table) {
                tx.batch_execute(&statement).await.map_err(failed)?;
            }
        }
        return Ok(Found::Created);
    }
    let incompatible = |what: String| ExportError::Incompatible {
        table: table.name.clone(),
        server: server.to_string(),
        reason: what,
    };
    let mut added = Vec::new();
    for (name, kind) in &wanted {
        let found = existing.iter().find(|row| row.get::<_, String>(0) == *name).map(|row| row.get::<_, String>(1));
        match found {
            // The key must be there: without it the table is not one octoshard made.
            None if key(table).contains(name) => return Err(incompatible(format!("it has no column `{name}`"))),
            // A column a later schema added: added to the table, empty for the rows already there.
            None => added.push(format!("ADD COLUMN {} {}", quote(name), pg_type(*kind))),
            Some(found) if found != pg_type(*kind) => {
                return Err(incompatible(format!("column `{name}` is {found}, octoshard writes {}", pg_type(*kind))));
            }
            Some(_) => {}
        }
    }
    if !added.is_empty() {
        tracing::info!("{}: adding {} column(s) of a newer schema at {server}", table.name, added.len());
        tx.batch_execute(&format!("ALTER TABLE {} {}", quote(&table.name), added.join(", "))).await.map_err(failed)?;
    }
    Ok(Found::Existing)
}

/// Loads `table`: COPY straight into it when it holds nothing yet (its rows are unique by key),
/// otherwise COPY into a staging table and upsert from there, the newer version of a row winning.
async fn load(
    tx: &Transaction<'_>,
    conn: &rusqlite::Connection,
    table: &Table,
    found: Found,
    server: &str,
) -> Result<u64, ExportError> {
    let failed = |e: tokio_postgres::Error| ExportError::Postgres { server: server.to_string(), reason: reason(&e) };
    let names: Vec<String> = columns(table).iter().map(|(name, _)| quote(name)).collect();
    let target = quote(&table.name);
    let direct = !keyed_by_content(table)
        && match found {
            Found::Created => true,
            Found::Existing => {
                let sql = format!("SELECT NOT EXISTS (SELECT 1 FROM {target})");
                tx.query_one(&sql, &[]).await.map_err(failed)?.get::<_, bool>(0)
            }
        };
    if direct {
        let started = std::time::Instant::now();
        let rows = copy(tx, conn, table, &target, &names, found == Found::Created, server).await?;
        tracing::debug!("{}: {rows} rows copied in {:?}", table.name, started.elapsed());
        if found == Found::Created {
            let started = std::time::Instant::now();
            for statement in constraints(table) {
                tx.batch_execute(&statement).await.map_err(failed)?;
            }
            tracing::debug!("{}: key and indexes built in {:?}", table.name, started.elapsed());
        }
        return Ok(rows);
    }
    let stage = quote(&format!("octoshard_stage_{}", table.name));
    tx.batch_execute(&format!("CREATE TEMP TABLE {stage} (LIKE {target} INCLUDING DEFAULTS) ON COMMIT DROP"))
        .await
        .map_err(failed)?;
    let rows = copy(tx, conn, table, &stage, &names, false, server).await?;
    let key = key(table);
    let updates: Vec<String> =
        names.iter().filter(|n| !key.iter().any(|k| quote(k) == **n)).map(|n| format!("{n} = EXCLUDED.{n}")).collect();
    let conflict = if keyed_by_content(table) || updates.is_empty() {
        "DO NOTHING".to_string()
    } else {
        // Strictly newer: exporting the same rows again writes nothing.
        let newest = table
            .freshness()
            .map(|column| format!(" WHERE {target}.{0} IS NULL OR {target}.{0} < EXCLUDED.{0}", quote(column)))
            .unwrap_or_default();
        format!("DO UPDATE SET {}{newest}", updates.join(", "))
    };
    tx.batch_execute(&format!(
        "INSERT INTO {target} ({0}) SELECT {0} FROM {stage} ON CONFLICT ({1}) {conflict}",
        names.join(", "),
        key.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ")
    ))
    .await
    .map_err(failed)?;
    Ok(rows)
}

/// COPYs every row of `table` into `into` (binary format, in chunks read by rowid).
async fn copy(
    tx: &Transaction<'_>,
    conn: &rusqlite::Connection,
    table: &Table,
    into: &str,
    names: &[String],
    freeze: bool,
    server: &str,
) -> Result<u64, ExportError> {
    let failed = |e: tokio_postgres::Error| ExportError::Postgres { server: server.to_string(), reason: reason(&e) };
    // FREEZE (allowed into a table created in this transaction) writes the rows as frozen, so
    // the server need not revisit every page after the load to set hint bits or freeze them.
    let options = if freeze { "FORMAT binary, FREEZE" } else { "FORMAT binary" };
    let sql = format!("COPY {into} ({}) FROM STDIN ({options})", names.join(", "));
    let mut sink = Box::pin(tx.copy_in(&sql).await.map_err(failed)?);
    let mut buffer = pgcopy::HEADER.to_vec();
    let mut after = i64::MIN;
    let mut rows = 0u64;
    loop {
        let (last, count) = read_chunk(conn, table, after, &mut buffer)?;
        if count == 0 {
            break;
        }
        rows += count;
        after = last;
        let chunk = Bytes::from(std::mem::replace(&mut buffer, Vec::with_capacity(CHUNK_BYTES)));
        sink.send(chunk).await.map_err(failed)?;
    }
    buffer.extend_from_slice(pgcopy::TRAILER);
    sink.send(Bytes::from(buffer)).await.map_err(failed)?;
    sink.as_mut().finish().await.map_err(failed)?;
    Ok(rows)
}

/// Appends the rows after rowid `after` to `out` in binary COPY format: (last rowid, rows).
fn read_chunk(
    conn: &rusqlite::Connection,
    table: &Table,
    after: i64,
    out: &mut Vec<u8>,
) -> Result<(i64, u64), ExportError> {
    let read = |source| ExportError::Read { table: table.name.clone(), source };
    let sql = format!(
        "SELECT rowid, {} FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT {CHUNK_ROWS}",
        table.select_list(),
        quote(&table.name)
    );
    let mut statement = conn.prepare_cached(&sql).map_err(read)?;
    let mut rows = statement.query([after]).map_err(read)?;
    let mut last = after;
    let mut count = 0;
    let by_content = keyed_by_content(table);
    // The exported columns: the content key and every column but `id` for log tables.
    let fields = columns(table).len();
    while let Some(row) = rows.next().map_err(read)? {
        last = row.get(0).map_err(read)?;
        pgcopy::row(out, fields);
        if by_content {
            let values: Vec<ValueRef<'_>> =
                (0..table.columns.len()).map(|i| row.get_ref(i + 1)).collect::<Result<_, _>>().map_err(read)?;
            pgcopy::bigint(out, content_key(table, &values));
        }
        for (i, column) in table.columns.iter().enumerate() {
            if by_content && column.name == "id" {
                continue;
            }
            let value = row.get_ref(i + 1).map_err(read)?;
            pgcopy::field(out, column.kind, value).map_err(|reason| ExportError::Value {
                table: table.name.clone(),
                column: column.name.clone(),
                reason,
            })?;
        }
        count += 1;
    }
    Ok((last, count))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_rows_are_keyed_by_their_content_not_their_local_id() {
        let table = Table {
            name: "api_requests".into(),
            columns: vec![
                super::super::tables::Column { name: "id".into(), kind: Kind::Integer, not_null: true },
                super::super::tables::Column { name: "url".into(), kind: Kind::Text, not_null: false },
            ],
            key: vec!["id".into()],
        };
        let one = content_key(&table, &[ValueRef::Integer(1), ValueRef::Text(b"/a")]);
        assert_eq!(one, content_key(&table, &[ValueRef::Integer(2), ValueRef::Text(b"/a")]));
        assert_ne!(one, content_key(&table, &[ValueRef::Integer(1), ValueRef::Text(b"/b")]));
        assert_eq!(key(&table), [ROW_KEY]);
        assert_eq!(columns(&table), [(ROW_KEY, Kind::Integer), ("url", Kind::Text)]);
    }
}
