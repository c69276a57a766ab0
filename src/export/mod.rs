//! Export: a crawl database into the tools people work in. Every table of the store is exported
//! generically ([`tables`]): as files, one per table ([`files`]: JSON Lines or CSV), or into
//! PostgreSQL ([`postgres`]: created tables, COPY, upserts where the newest version of a row wins,
//! one transaction per export). The input is read, never written: an older schema is read from a
//! migrated copy.

mod datasette;
mod files;
mod parquet;
mod pgcopy;
mod postgres;
pub mod tables;
mod values;

use std::path::{Path, PathBuf};

use rusqlite::types::ValueRef;

/// A file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines.
    Jsonl,
    /// CSV with a header.
    Csv,
    /// Apache Parquet.
    Parquet,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

/// Where an export goes.
#[derive(Clone, Debug)]
pub enum Target {
    /// A PostgreSQL database (the CLI builds the configuration from a URL and `PG*`).
    Postgres(Box<tokio_postgres::Config>),
    /// `metadata.json` for Datasette, in a folder.
    DatasetteMetadata {
        /// The folder.
        out: PathBuf,
    },
    /// Files in a folder.
    Files {
        /// Their format.
        format: Format,
        /// The folder.
        out: PathBuf,
    },
}

/// What `export` needs, already validated by the CLI layer.
#[derive(Clone, Debug)]
pub struct ExportRequest {
    /// The database to export (`.sqlite` or `.sqlite.gz`).
    pub db: PathBuf,
    /// Where to.
    pub target: Target,
    /// Only these tables (all when `None`).
    pub tables: Option<Vec<String>>,
}

/// What an export did.
#[derive(Clone, Debug)]
pub struct ExportReport {
    /// Rows exported per table, in order.
    pub tables: Vec<(String, u64)>,
    /// Where they went (a folder, or the server without its password).
    pub target: String,
}

/// An export that could not be made; nothing was changed at the target.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The input is not an octoshard database this build can read.
    #[error("cannot export {path}: {reason}")]
    Input {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// `--tables` named a table the database does not have.
    #[error("no table `{table}` in {path} (it has: {known})")]
    UnknownTable {
        /// The database.
        path: PathBuf,
        /// The name given.
        table: String,
        /// The tables it has.
        known: String,
    },
    /// Reading a table failed.
    #[error("cannot read table {table}: {source}")]
    Read {
        /// The table.
        table: String,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A value does not fit its column's type.
    #[error("table {table}, column {column}: {reason}")]
    Value {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The PostgreSQL server could not be reached or refused the login.
    #[error("cannot connect to PostgreSQL at {server}: {reason}")]
    Connect {
        /// Host, port, database and user (never the password).
        server: String,
        /// Why.
        reason: String,
    },
    /// A table in PostgreSQL has a shape octoshard cannot write into.
    #[error("PostgreSQL table {table} at {server} is not octoshard's: {reason} (it is left as it is)")]
    Incompatible {
        /// The table.
        table: String,
        /// The server.
        server: String,
        /// What differs.
        reason: String,
    },
    /// The export failed in PostgreSQL; its transaction was rolled back.
    #[error("export to PostgreSQL at {server} failed and was rolled back: {reason}")]
    Postgres {
        /// The server.
        server: String,
        /// PostgreSQL's error.
        reason: String,
    },
}

/// Exports `request.db`.
pub async fn export(request: &ExportRequest) -> Result<ExportReport, ExportError> {
    let input = Input::open(&request.db)?;
    let all = tables::tables(input.conn()).map_err(|e| input.fail(format!("cannot read its schema ({e})")))?;
    let chosen = match &request.tables {
        None => all,
        Some(names) => {
            let mut chosen = Vec::new();
            for name in names {
                match all.iter().find(|t| &t.name == name) {
                    Some(table) => chosen.push(table.clone()),
                    None => {
                        return Err(ExportError::UnknownTable {
                            path: request.db.clone(),
                            table: name.clone(),
                            known: all.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "),
                        });
                    }
                }
            }
            chosen
        }
    };
    match &request.target {
        Target::Files { format, out } => {
            std::fs::create_dir_all(out).map_err(|source| ExportError::Write { path: out.clone(), source })?;
            let mut counts = Vec::new();
            let bar = crate::bars::Bar::new(Some(chosen.len() as u64), "export");
            for table in &chosen {
                bar.message(table.name.clone());
                let rows = match format {
                    Format::Parquet => parquet::write_table(input.store.path(), input.conn(), table, out)?,
                    _ => files::write_table(input.conn(), table, *format, out)?,
                };
                tracing::info!(
                    "{}: {rows} rows to {}",
                    table.name,
                    out.join(format!("{}.{}", table.name, format.extension())).display()
                );
                counts.push((table.name.clone(), rows));
                bar.inc(1);
            }
            Ok(ExportReport { tables: counts, target: out.display().to_string() })
        }
        Target::Postgres(config) => postgres::export(input.conn(), &chosen, config).await,
        Target::DatasetteMetadata { out } => {
            let path = out.join("metadata.json");
            let write = |source| ExportError::Write { path: path.clone(), source };
            std::fs::create_dir_all(out).map_err(write)?;
            let stem = request.db.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let database = stem.split('.').next().unwrap_or("octoshard").to_string();
            let text = serde_json::to_string_pretty(&datasette::metadata(&database, &chosen)).expect("JSON serializes");
            crate::artifact::write_atomically(&path, text.as_bytes()).map_err(write)?;
            Ok(ExportReport {
                tables: chosen.iter().map(|t| (t.name.clone(), 0)).collect(),
                target: path.display().to_string(),
            })
        }
    }
}

/// The database being exported, opened read-only (from a gzip's unpacked copy or a copy migrated
/// from an older schema where needed).
struct Input {
    store: crate::store::Store,
    path: PathBuf,
    _temporary: Option<tempfile::TempPath>,
}

impl Input {
    fn open(path: &Path) -> Result<Input, ExportError> {
        let (store, temporary) = crate::store::open_for_reading(path)
            .map_err(|reason| ExportError::Input { path: path.to_path_buf(), reason })?;
        Ok(Input { store, path: path.to_path_buf(), _temporary: temporary })
    }

    fn conn(&self) -> &rusqlite::Connection {
        self.store.conn()
    }

    fn fail(&self, reason: String) -> ExportError {
        ExportError::Input { path: self.path.clone(), reason }
    }
}

/// Why streaming rows stopped.
pub(crate) enum RowError<E> {
    Sql(rusqlite::Error),
    Io(E),
}

/// Calls `each` with every row of `table` (columns in table order, by primary key), streaming;
/// returns the number of rows.
pub(crate) fn each_row<E>(
    conn: &rusqlite::Connection,
    table: &tables::Table,
    mut each: impl FnMut(&[ValueRef<'_>]) -> Result<(), E>,
) -> Result<u64, RowError<E>> {
    let order = if table.key.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY {}", table.key.iter().map(|k| tables::quote(k)).collect::<Vec<_>>().join(", "))
    };
    let sql = format!("SELECT {} FROM {}{order}", table.select_list(), tables::quote(&table.name));
    let mut statement = conn.prepare(&sql).map_err(RowError::Sql)?;
    let mut rows = statement.query([]).map_err(RowError::Sql)?;
    let mut count = 0;
    while let Some(row) = rows.next().map_err(RowError::Sql)? {
        let mut values = Vec::with_capacity(table.columns.len());
        for i in 0..table.columns.len() {
            values.push(row.get_ref(i).map_err(RowError::Sql)?);
        }
        each(&values).map_err(RowError::Io)?;
        count += 1;
    }
    Ok(count)
}
