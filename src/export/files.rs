//! One file per table: JSON Lines (one object per row, JSON columns as JSON, booleans as
//! booleans) or CSV (RFC 4180, a header row). Rows stream from SQLite to the file, so memory stays
//! flat whatever the table's size; each file is written beside its name and renamed at the end.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;
use serde_json::Value;

use super::tables::{Kind, Table};
use super::{ExportError, Format};

/// Writes `table` of `conn` into `dir` in `format`; returns the rows written.
pub fn write_table(conn: &rusqlite::Connection, table: &Table, format: Format, dir: &Path) -> Result<u64, ExportError> {
    let path = dir.join(format!("{}.{}", table.name, format.extension()));
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    let io = |source| ExportError::Write { path: path.clone(), source };
    let file = std::fs::File::create(&partial).map_err(io)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    if format == Format::Csv {
        let header: Vec<String> = table.columns.iter().map(|c| csv_field(&c.name)).collect();
        writeln!(out, "{}", header.join(",")).map_err(io)?;
    }
    let rows = super::each_row(conn, table, |values| {
        let line = match format {
            Format::Jsonl => jsonl_line(table, values),
            Format::Csv => csv_line(table, values),
            Format::Parquet => unreachable!("Parquet has its own writer"),
        };
        out.write_all(line.as_bytes())
    })
    .map_err(|e| match e {
        super::RowError::Sql(source) => ExportError::Read { table: table.name.clone(), source },
        super::RowError::Io(source) => io(source),
    })?;
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&partial, &path).map_err(io)?;
    Ok(rows)
}

/// A row as one JSON object and a newline.
fn jsonl_line(table: &Table, values: &[ValueRef<'_>]) -> String {
    let mut object = serde_json::Map::with_capacity(values.len());
    for (column, value) in table.columns.iter().zip(values) {
        object.insert(column.name.clone(), json(column.kind, *value));
    }
    let mut line = Value::Object(object).to_string();
    line.push('\n');
    line
}

fn json(kind: Kind, value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) if kind == Kind::Boolean => Value::Bool(n != 0),
        ValueRef::Integer(n) => Value::from(n),
        ValueRef::Real(x) => Value::from(x),
        ValueRef::Text(bytes) => {
            let text = String::from_utf8_lossy(bytes);
            match kind {
                Kind::Json => serde_json::from_str(&text).unwrap_or(Value::String(text.into_owned())),
                _ => Value::String(text.into_owned()),
            }
        }
        ValueRef::Blob(bytes) => Value::String(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// A row as one CSV record and a newline.
fn csv_line(table: &Table, values: &[ValueRef<'_>]) -> String {
    let fields: Vec<String> = table
        .columns
        .iter()
        .zip(values)
        .map(|(column, value)| match value {
            ValueRef::Null => String::new(),
            ValueRef::Integer(n) if column.kind == Kind::Boolean => (if *n != 0 { "true" } else { "false" }).into(),
            ValueRef::Integer(n) => n.to_string(),
            ValueRef::Real(x) => x.to_string(),
            ValueRef::Text(bytes) | ValueRef::Blob(bytes) => csv_field(&String::from_utf8_lossy(bytes)),
        })
        .collect();
    let mut line = fields.join(",");
    line.push('\n');
    line
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\"\nnow"), "\"say \"\"hi\"\"\nnow\"");
    }

    #[test]
    fn json_columns_stay_json_and_flags_become_booleans() {
        assert_eq!(json(Kind::Json, ValueRef::Text(br#"["a","b"]"#)), serde_json::json!(["a", "b"]));
        assert_eq!(json(Kind::Boolean, ValueRef::Integer(1)), Value::Bool(true));
        assert_eq!(json(Kind::Time, ValueRef::Text(b"2026-01-01T00:00:00Z")), Value::from("2026-01-01T00:00:00Z"));
        assert_eq!(json(Kind::Integer, ValueRef::Null), Value::Null);
    }
}
