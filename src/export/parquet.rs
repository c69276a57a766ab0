//! Parquet files, one per table, with logical types (strings, JSON, UTC timestamps in
//! microseconds, booleans) and Snappy compression, readable by DuckDB, pyarrow and Spark. Rows
//! stream from SQLite into row groups of [`ROW_GROUP`] rows, so memory stays flat whatever the
//! table's size; one thread reads while another encodes.

use std::collections::BTreeMap;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};

use bytes::Bytes;
use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::ColumnPath;
use rusqlite::types::ValueRef;

use super::ExportError;
use super::tables::{Kind, Table, quote};
use super::values::micros;

/// Rows per row group: large enough for good compression, small enough to keep memory flat.
const ROW_GROUP: usize = 100_000;

/// The Parquet schema of a table (every column optional).
fn message(table: &Table) -> String {
    let fields: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let (physical, logical) = match c.kind {
                Kind::Integer => ("INT64", ""),
                Kind::Real => ("DOUBLE", ""),
                Kind::Boolean => ("BOOLEAN", ""),
                Kind::Time => ("INT64", " (TIMESTAMP(MICROS,true))"),
                Kind::Text => ("BYTE_ARRAY", " (STRING)"),
                Kind::Json => ("BYTE_ARRAY", " (JSON)"),
            };
            format!("OPTIONAL {physical} {}{logical};", c.name)
        })
        .collect();
    format!("message {} {{ {} }}", table.name, fields.join(" "))
}

/// One column's values of the row group being filled, with their definition levels (0: NULL).
/// Text goes into one buffer per column and is cut into values when the group is written, so a
/// row costs no allocation.
enum Buffer {
    Int(Vec<i64>, Vec<i16>),
    Double(Vec<f64>, Vec<i16>),
    Bool(Vec<bool>, Vec<i16>),
    Bytes { data: Vec<u8>, ends: Vec<usize>, levels: Vec<i16> },
}

impl Buffer {
    fn new(kind: Kind) -> Buffer {
        match kind {
            Kind::Integer | Kind::Time => Buffer::Int(Vec::new(), Vec::new()),
            Kind::Real => Buffer::Double(Vec::new(), Vec::new()),
            Kind::Boolean => Buffer::Bool(Vec::new(), Vec::new()),
            Kind::Text | Kind::Json => Buffer::Bytes { data: Vec::new(), ends: Vec::new(), levels: Vec::new() },
        }
    }

    /// The rows held.
    fn len(&self) -> usize {
        match self {
            Buffer::Int(_, d) | Buffer::Double(_, d) | Buffer::Bool(_, d) | Buffer::Bytes { levels: d, .. } => d.len(),
        }
    }

    fn clear(&mut self) {
        let levels = match self {
            Buffer::Int(v, d) => (v.clear(), d).1,
            Buffer::Double(v, d) => (v.clear(), d).1,
            Buffer::Bool(v, d) => (v.clear(), d).1,
            Buffer::Bytes { data, ends, levels } => (data.clear(), ends.clear(), levels).2,
        };
        levels.clear();
    }

    /// Whether a dictionary would pay for this column: its first values repeat (at most half of
    /// them distinct). Columns of identities (ids, names, shas) skip the dictionary's hashing.
    fn repeats(&self) -> bool {
        const SAMPLE: usize = 10_000;
        let few = |count: usize, distinct: usize| distinct * 2 <= count.max(1);
        match self {
            Buffer::Int(v, _) => {
                let sample = &v[..v.len().min(SAMPLE)];
                few(sample.len(), sample.iter().collect::<HashSet<_>>().len())
            }
            Buffer::Double(v, _) => {
                let sample = &v[..v.len().min(SAMPLE)];
                few(sample.len(), sample.iter().map(|x| x.to_bits()).collect::<HashSet<_>>().len())
            }
            Buffer::Bool(..) => true,
            Buffer::Bytes { data, ends, .. } => {
                let count = ends.len().min(SAMPLE);
                let distinct: HashSet<&[u8]> =
                    (0..count).map(|i| &data[if i == 0 { 0 } else { ends[i - 1] }..ends[i]]).collect();
                few(count, distinct.len())
            }
        }
    }
}

/// Adds one value to its column's buffer.
fn push(buffer: &mut Buffer, kind: Kind, value: ValueRef<'_>) -> Result<(), String> {
    match (buffer, value) {
        (
            Buffer::Int(_, d) | Buffer::Double(_, d) | Buffer::Bool(_, d) | Buffer::Bytes { levels: d, .. },
            ValueRef::Null,
        ) => d.push(0),
        (Buffer::Int(v, d), ValueRef::Integer(n)) => (v.push(n), d.push(1)).1,
        (Buffer::Int(v, d), ValueRef::Text(bytes)) if kind == Kind::Time => {
            let at = micros(bytes).ok_or_else(|| format!("`{}` is not a time", String::from_utf8_lossy(bytes)))?;
            v.push(at);
            d.push(1);
        }
        (Buffer::Double(v, d), ValueRef::Real(x)) => (v.push(x), d.push(1)).1,
        (Buffer::Double(v, d), ValueRef::Integer(n)) => (v.push(n as f64), d.push(1)).1,
        (Buffer::Bool(v, d), ValueRef::Integer(n)) => (v.push(n != 0), d.push(1)).1,
        (Buffer::Bytes { data, ends, levels }, ValueRef::Text(bytes) | ValueRef::Blob(bytes)) => {
            // Parquet strings are UTF-8; the store only writes UTF-8, but a foreign file might not.
            match std::str::from_utf8(bytes) {
                Ok(_) => data.extend_from_slice(bytes),
                Err(_) => data.extend_from_slice(String::from_utf8_lossy(bytes).as_bytes()),
            }
            ends.push(data.len());
            levels.push(1);
        }
        (Buffer::Bytes { data, ends, levels }, ValueRef::Integer(n)) => {
            data.extend_from_slice(n.to_string().as_bytes());
            ends.push(data.len());
            levels.push(1);
        }
        (_, other) => return Err(format!("{:?} does not fit a {kind:?} column", other.data_type())),
    }
    Ok(())
}

/// Writes the buffers as one row group.
fn flush(writer: &mut SerializedFileWriter<std::fs::File>, buffers: &mut [Buffer]) -> parquet::errors::Result<()> {
    let mut group = writer.next_row_group()?;
    for buffer in buffers.iter_mut() {
        let mut column = group.next_column()?.expect("one column writer per schema column");
        match buffer {
            Buffer::Int(v, d) => column.typed::<Int64Type>().write_batch(v, Some(d), None)?,
            Buffer::Double(v, d) => column.typed::<DoubleType>().write_batch(v, Some(d), None)?,
            Buffer::Bool(v, d) => column.typed::<BoolType>().write_batch(v, Some(d), None)?,
            Buffer::Bytes { data, ends, levels } => {
                let data = Bytes::from(std::mem::take(data));
                let mut start = 0;
                let values: Vec<ByteArray> = ends
                    .iter()
                    .map(|&end| {
                        let value = ByteArray::from(data.slice(start..end));
                        start = end;
                        value
                    })
                    .collect();
                column.typed::<ByteArrayType>().write_batch(&values, Some(levels), None)?
            }
        };
        column.close()?;
        buffer.clear();
    }
    group.close()?;
    Ok(())
}

/// The writer's settings: Snappy, and a dictionary only for the columns whose first row group
/// shows repeating values.
fn properties(table: &Table, first: &[Buffer]) -> WriterProperties {
    let mut builder = WriterProperties::builder().set_compression(Compression::SNAPPY);
    for (column, buffer) in table.columns.iter().zip(first) {
        if !buffer.repeats() {
            builder = builder.set_column_dictionary_enabled(ColumnPath::from(column.name.as_str()), false);
        }
    }
    builder.build()
}

/// Writes `table` of the database at `database` (open as `conn`) as `dir/<table>.parquet`;
/// returns the rows written. Row groups are cut by rowid and read by several threads, each with
/// its own connection, while another encodes and compresses them in order.
pub fn write_table(
    database: &Path,
    conn: &rusqlite::Connection,
    table: &Table,
    dir: &Path,
) -> Result<u64, ExportError> {
    let path = dir.join(format!("{}.parquet", table.name));
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    let written = write_partial(database, conn, table, &partial);
    let io = |source| ExportError::Write { path: path.clone(), source };
    match written {
        Ok(rows) => {
            std::fs::rename(&partial, &path).map_err(io)?;
            Ok(rows)
        }
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(match error {
                ExportError::Write { source, .. } => io(source),
                other => other,
            })
        }
    }
}

fn write_partial(
    database: &Path,
    conn: &rusqlite::Connection,
    table: &Table,
    partial: &Path,
) -> Result<u64, ExportError> {
    let io = |source| ExportError::Write { path: partial.to_path_buf(), source };
    let read = |source| ExportError::Read { table: table.name.clone(), source };
    let parquet_error = |e: parquet::errors::ParquetError| io(std::io::Error::other(e.to_string()));
    let schema = Arc::new(parquet::schema::parser::parse_message_type(&message(table)).map_err(parquet_error)?);
    let file = std::fs::File::create(partial).map_err(io)?;
    let readers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 4);
    // A group is cut only with a token, which the writer gives back once it has written a group:
    // however the readers are scheduled, at most this many groups are held in memory (and the
    // task queue never fills).
    let in_memory = 2 * readers + 1;
    let (tokens_tx, tokens_rx) = std::sync::mpsc::sync_channel::<()>(in_memory);
    for _ in 0..in_memory {
        tokens_tx.send(()).expect("the token channel holds every token");
    }
    // Row groups to read, (index, first rowid, last rowid), cut by this thread while the readers
    // read the groups cut before.
    let (tasks_tx, tasks_rx) = std::sync::mpsc::sync_channel::<(usize, i64, i64)>(in_memory);
    let tasks_rx = std::sync::Mutex::new(tasks_rx);
    let (groups_tx, groups_rx) = std::sync::mpsc::sync_channel::<(usize, Vec<Buffer>)>(readers);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (reading, written) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..readers)
            .map(|_| {
                let (groups_tx, tokens_tx) = (groups_tx.clone(), tokens_tx.clone());
                let (tasks_rx, stop) = (&tasks_rx, &stop);
                scope.spawn(move || {
                    let result = read_groups(database, table, tasks_rx, &groups_tx);
                    if !matches!(result, Ok(true)) {
                        // A failed reader (or writer) stops the cutting, waking it if it waits.
                        stop.store(true, std::sync::atomic::Ordering::SeqCst);
                        let _ = tokens_tx.try_send(());
                    }
                    result
                })
            })
            .collect();
        let writer = scope.spawn(|| write_groups(table, file, schema, groups_rx, tokens_tx));
        drop(groups_tx);
        let cut = cut_groups(conn, table, |task| {
            tokens_rx.recv().is_ok() && !stop.load(std::sync::atomic::Ordering::SeqCst) && tasks_tx.send(task).is_ok()
        })
        .map_err(read);
        drop(tasks_tx);
        let mut failed = cut.err();
        for worker in workers {
            if let Err(error) = worker.join().expect("a Parquet reader thread does not panic") {
                failed = failed.or(Some(error));
            }
        }
        let file = writer.join().expect("the Parquet writer thread does not panic");
        (failed.map_or(Ok(()), Err), file)
    });
    let (file, rows) = written.map_err(parquet_error)?;
    reading?;
    file.sync_all().map_err(io)?;
    Ok(rows)
}

/// A reader thread: reads the row groups of the task queue with its own connection and hands them
/// to the writer. `Ok(false)` when the writer stopped (its error is the one reported).
fn read_groups(
    database: &Path,
    table: &Table,
    tasks: &std::sync::Mutex<Receiver<(usize, i64, i64)>>,
    groups: &SyncSender<(usize, Vec<Buffer>)>,
) -> Result<bool, ExportError> {
    let read = |source| ExportError::Read { table: table.name.clone(), source };
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = rusqlite::Connection::open_with_flags(database, flags).map_err(read)?;
    loop {
        let task = tasks.lock().expect("no reader panics holding the queue").recv();
        let Ok((index, first, last)) = task else { return Ok(true) };
        let group = read_group(&conn, table, first, last)?;
        if groups.send((index, group)).is_err() {
            return Ok(false);
        }
    }
}

/// Cuts `table` into row groups of [`ROW_GROUP`] rows by rowid, in one pass over its rowids
/// alone, and hands each to `task` as (index, first rowid, last rowid) as soon as it is known;
/// stops early when `task` says no.
fn cut_groups(
    conn: &rusqlite::Connection,
    table: &Table,
    mut task: impl FnMut((usize, i64, i64)) -> bool,
) -> rusqlite::Result<()> {
    let sql = format!("SELECT rowid FROM {} ORDER BY rowid", quote(&table.name));
    let mut statement = conn.prepare(&sql)?;
    let mut rows = statement.query([])?;
    let (mut index, mut start, mut count) = (0, None, 0);
    while let Some(row) = rows.next()? {
        let rowid: i64 = row.get(0)?;
        match start {
            None => start = Some(rowid),
            Some(first) if count == ROW_GROUP => {
                if !task((index, first, rowid - 1)) {
                    return Ok(());
                }
                (index, start, count) = (index + 1, Some(rowid), 0);
            }
            Some(_) => {}
        }
        count += 1;
    }
    if let Some(first) = start {
        task((index, first, i64::MAX));
    }
    Ok(())
}

/// The rows of `table` with rowids in `first..=last`, as one row group's buffers.
fn read_group(conn: &rusqlite::Connection, table: &Table, first: i64, last: i64) -> Result<Vec<Buffer>, ExportError> {
    let read = |source| ExportError::Read { table: table.name.clone(), source };
    let sql = format!(
        "SELECT {} FROM {} WHERE rowid BETWEEN ?1 AND ?2 ORDER BY rowid",
        table.select_list(),
        quote(&table.name)
    );
    let mut statement = conn.prepare_cached(&sql).map_err(read)?;
    let mut rows = statement.query([first, last]).map_err(read)?;
    let mut group: Vec<Buffer> = table.columns.iter().map(|c| Buffer::new(c.kind)).collect();
    while let Some(row) = rows.next().map_err(read)? {
        for (i, (buffer, column)) in group.iter_mut().zip(&table.columns).enumerate() {
            let value = row.get_ref(i).map_err(read)?;
            push(buffer, column.kind, value).map_err(|reason| ExportError::Value {
                table: table.name.clone(),
                column: column.name.clone(),
                reason,
            })?;
        }
    }
    Ok(group)
}

/// The writer thread: writes the row groups it receives in their order into `file`, giving a
/// token back for each; the writer's settings come from the first group. Returns the finished
/// file and the rows in it.
fn write_groups(
    table: &Table,
    file: std::fs::File,
    schema: Arc<parquet::schema::types::Type>,
    groups: Receiver<(usize, Vec<Buffer>)>,
    tokens: SyncSender<()>,
) -> parquet::errors::Result<(std::fs::File, u64)> {
    let mut rows = 0;
    let mut file = Some(file);
    let mut writer: Option<SerializedFileWriter<std::fs::File>> = None;
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    while let Ok((index, group)) = groups.recv() {
        waiting.insert(index, group);
        while let Some(mut group) = waiting.remove(&next) {
            let writer = match &mut writer {
                Some(writer) => writer,
                None => {
                    let properties = Arc::new(properties(table, &group));
                    let file = file.take().expect("the file is taken once");
                    writer.insert(SerializedFileWriter::new(file, schema.clone(), properties)?)
                }
            };
            rows += group.first().map_or(0, Buffer::len) as u64;
            flush(writer, &mut group)?;
            let _ = tokens.send(());
            next += 1;
        }
    }
    let file = match writer {
        Some(writer) => writer.into_inner()?,
        // No rows: a file with the schema and no row group.
        None => {
            let file = file.take().expect("the file is taken once");
            SerializedFileWriter::new(file, schema, Arc::new(WriterProperties::new()))?.into_inner()?
        }
    };
    Ok((file, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_repeating_columns_get_a_dictionary() {
        let mut ids = Buffer::new(Kind::Integer);
        let mut languages = Buffer::new(Kind::Text);
        for n in 0..1000 {
            push(&mut ids, Kind::Integer, ValueRef::Integer(n)).unwrap();
            push(&mut languages, Kind::Text, ValueRef::Text(if n % 3 == 0 { b"Rust" } else { b"Go" })).unwrap();
        }
        assert!(!ids.repeats());
        assert!(languages.repeats());
    }

    #[test]
    fn text_that_is_not_utf8_is_repaired_and_times_are_checked() {
        let mut text = Buffer::new(Kind::Text);
        push(&mut text, Kind::Text, ValueRef::Text(b"a\xffb")).unwrap();
        assert!(matches!(&text, Buffer::Bytes { data, .. } if data == "a\u{fffd}b".as_bytes()));
        let mut time = Buffer::new(Kind::Time);
        assert_eq!(push(&mut time, Kind::Time, ValueRef::Text(b"soon")).unwrap_err(), "`soon` is not a time");
    }

    /// A table of `rows` rows (id, created_at) over several row groups; `bad` breaks one time.
    fn database(dir: &Path, rows: i64, bad: Option<i64>) -> (PathBuf, Table) {
        let path = dir.join("t.sqlite");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, created_at TEXT, note TEXT)").unwrap();
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO t SELECT i * 3, '2026-01-01T00:00:00Z', CASE WHEN i % 2 = 0 THEN 'even' END FROM n",
            [rows],
        )
        .unwrap();
        if let Some(id) = bad {
            conn.execute("UPDATE t SET created_at = 'soon' WHERE id = ?1", [id]).unwrap();
        }
        let table = super::super::tables::tables(&conn).unwrap().remove(0);
        (path, table)
    }

    #[test]
    fn every_row_group_is_written_once_and_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let rows = 2 * ROW_GROUP as i64 + 7;
        let (path, table) = database(dir.path(), rows, None);
        let conn = rusqlite::Connection::open(&path).unwrap();
        assert_eq!(write_table(&path, &conn, &table, dir.path()).unwrap(), rows as u64);
        let file = std::fs::File::open(dir.path().join("t.parquet")).unwrap();
        let reader = parquet::file::reader::SerializedFileReader::new(file).unwrap();
        use parquet::file::reader::FileReader;
        use parquet::record::RowAccessor;
        assert_eq!(reader.metadata().num_row_groups(), 3);
        let ids: Vec<i64> = reader.get_row_iter(None).unwrap().map(|row| row.unwrap().get_long(0).unwrap()).collect();
        assert_eq!(ids, (1..=rows).map(|i| i * 3).collect::<Vec<_>>());
    }

    #[test]
    fn a_bad_value_in_any_group_fails_the_table_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let (path, table) = database(dir.path(), 2 * ROW_GROUP as i64 + 7, Some(3 * (ROW_GROUP as i64 + 5)));
        let conn = rusqlite::Connection::open(&path).unwrap();
        let error = write_table(&path, &conn, &table, dir.path()).unwrap_err();
        assert_eq!(error.to_string(), "table t, column created_at: `soon` is not a time");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["t.sqlite"]);
    }
}
