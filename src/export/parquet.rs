//! Parquet files, one per table, with logical types (strings, JSON, UTC timestamps in
//! microseconds, booleans) and Snappy compression, readable by DuckDB, pyarrow and Spark. Rows
//! stream from SQLite into row groups of [`ROW_GROUP`] rows, so memory stays flat whatever the
//! table's size.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use rusqlite::types::ValueRef;

use super::tables::{Kind, Table};
use super::{ExportError, RowError};

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
enum Buffer {
    Int(Vec<i64>, Vec<i16>),
    Double(Vec<f64>, Vec<i16>),
    Bool(Vec<bool>, Vec<i16>),
    Bytes(Vec<ByteArray>, Vec<i16>),
}

impl Buffer {
    fn new(kind: Kind) -> Buffer {
        match kind {
            Kind::Integer | Kind::Time => Buffer::Int(Vec::new(), Vec::new()),
            Kind::Real => Buffer::Double(Vec::new(), Vec::new()),
            Kind::Boolean => Buffer::Bool(Vec::new(), Vec::new()),
            Kind::Text | Kind::Json => Buffer::Bytes(Vec::new(), Vec::new()),
        }
    }

    fn clear(&mut self) {
        match self {
            Buffer::Int(v, d) => (v.clear(), d.clear()),
            Buffer::Double(v, d) => (v.clear(), d.clear()),
            Buffer::Bool(v, d) => (v.clear(), d.clear()),
            Buffer::Bytes(v, d) => (v.clear(), d.clear()),
        };
    }
}

/// Microseconds since the epoch of an RFC 3339 time (1970 or later, as every GitHub time is).
fn micros(text: &str) -> Option<i64> {
    let at = humantime::parse_rfc3339_weak(text.trim_end_matches('Z')).ok()?;
    Some(at.duration_since(std::time::UNIX_EPOCH).ok()?.as_micros() as i64)
}

/// Adds one value to its column's buffer.
fn push(buffer: &mut Buffer, kind: Kind, value: ValueRef<'_>) -> Result<(), String> {
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    match (buffer, value) {
        (Buffer::Int(_, d) | Buffer::Double(_, d) | Buffer::Bool(_, d) | Buffer::Bytes(_, d), ValueRef::Null) => {
            d.push(0)
        }
        (Buffer::Int(v, d), ValueRef::Integer(n)) => (v.push(n), d.push(1)).1,
        (Buffer::Int(v, d), ValueRef::Text(bytes)) if kind == Kind::Time => {
            let at = micros(&text(bytes)).ok_or_else(|| format!("`{}` is not a time", text(bytes)))?;
            v.push(at);
            d.push(1);
        }
        (Buffer::Double(v, d), ValueRef::Real(x)) => (v.push(x), d.push(1)).1,
        (Buffer::Double(v, d), ValueRef::Integer(n)) => (v.push(n as f64), d.push(1)).1,
        (Buffer::Bool(v, d), ValueRef::Integer(n)) => (v.push(n != 0), d.push(1)).1,
        (Buffer::Bytes(v, d), ValueRef::Text(bytes) | ValueRef::Blob(bytes)) => {
            v.push(ByteArray::from(bytes.to_vec()));
            d.push(1);
        }
        (Buffer::Bytes(v, d), ValueRef::Integer(n)) => {
            (v.push(ByteArray::from(n.to_string().into_bytes())), d.push(1)).1
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
            Buffer::Bytes(v, d) => column.typed::<ByteArrayType>().write_batch(v, Some(d), None)?,
        };
        column.close()?;
        buffer.clear();
    }
    group.close()?;
    Ok(())
}

/// Writes `table` of `conn` as `dir/<table>.parquet`; returns the rows written.
pub fn write_table(conn: &rusqlite::Connection, table: &Table, dir: &Path) -> Result<u64, ExportError> {
    let path = dir.join(format!("{}.parquet", table.name));
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    let io = |source| ExportError::Write { path: path.clone(), source };
    let parquet_error = |e: parquet::errors::ParquetError| io(std::io::Error::other(e.to_string()));
    let schema = Arc::new(parquet::schema::parser::parse_message_type(&message(table)).map_err(parquet_error)?);
    let properties = Arc::new(WriterProperties::builder().set_compression(Compression::SNAPPY).build());
    let file = std::fs::File::create(&partial).map_err(io)?;
    let mut writer = SerializedFileWriter::new(file, schema, properties).map_err(parquet_error)?;
    let mut buffers: Vec<Buffer> = table.columns.iter().map(|c| Buffer::new(c.kind)).collect();
    let mut pending = 0;
    let rows = super::each_row(conn, table, |values| {
        for ((buffer, column), value) in buffers.iter_mut().zip(&table.columns).zip(values) {
            push(buffer, column.kind, *value).map_err(|reason| ExportError::Value {
                table: table.name.clone(),
                column: column.name.clone(),
                reason,
            })?;
        }
        pending += 1;
        if pending == ROW_GROUP {
            flush(&mut writer, &mut buffers).map_err(parquet_error)?;
            pending = 0;
        }
        Ok(())
    })
    .map_err(|e| match e {
        RowError::Sql(source) => ExportError::Read { table: table.name.clone(), source },
        RowError::Io(error) => error,
    })?;
    if pending > 0 || rows == 0 {
        flush(&mut writer, &mut buffers).map_err(parquet_error)?;
    }
    let file = writer.into_inner().map_err(parquet_error)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&partial, &path).map_err(io)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_become_microseconds_since_the_epoch() {
        assert_eq!(micros("1970-01-01T00:00:01Z"), Some(1_000_000));
        assert_eq!(micros("2026-11-27T18:50:19.073Z"), Some(1_795_805_419_073_000));
        assert_eq!(micros("soon"), None);
    }
}
