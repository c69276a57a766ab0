//! Merge inputs: finding shard files (in folders, recursively), unpacking gzip, and checking each
//! one (SQLite integrity, schema version, plan id) so that a bad file is refused by name and
//! reason while the good ones still merge.

use std::path::{Path, PathBuf};

use crate::artifact::{self, FileKind};
use crate::store::{SCHEMA_VERSION, Store};

/// A usable input: an octoshard database, unpacked if it was gzip.
pub struct Candidate {
    /// The path the user gave (or found in a folder).
    pub path: PathBuf,
    /// The SQLite file to read (a temporary file for gzip inputs).
    pub database: PathBuf,
    /// Its plan id.
    pub plan_id: String,
    /// Its shard name.
    pub shard: String,
    /// Its shard count (from the manifest it was crawled from).
    pub shard_count: Option<u32>,
    /// Its source spec.
    pub source: String,
    /// Its `collect` list (JSON).
    pub collect: String,
    /// The start of its newest crawl run, to prefer the newest copy of a shard.
    pub newest_run: String,
}

/// An input that was refused, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    /// The path.
    pub path: PathBuf,
    /// Why it was refused.
    pub reason: String,
}

/// Expands folders into the shard files they hold (sorted, so merges are deterministic).
pub fn expand(inputs: &[PathBuf]) -> (Vec<PathBuf>, Vec<Refused>) {
    let mut files = Vec::new();
    let mut refused = Vec::new();
    for input in inputs {
        match std::fs::metadata(input) {
            Ok(meta) if meta.is_dir() => walk(input, &mut files, &mut refused),
            Ok(_) => files.push(input.clone()),
            Err(error) => refused.push(Refused { path: input.clone(), reason: format!("cannot read it: {error}") }),
        }
    }
    (files, refused)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, refused: &mut Vec<Refused>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            return refused.push(Refused { path: dir.to_path_buf(), reason: format!("cannot list it: {error}") });
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        // Symlinks are not followed: an artifact must not point the merge outside its folder.
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            walk(&path, files, refused);
        } else if meta.is_file() && is_shard_name(&path) {
            files.push(path);
        }
    }
}

fn is_shard_name(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    name.ends_with(".sqlite") || name.ends_with(".sqlite.gz")
}

/// Why an input could not be used.
#[derive(Debug)]
pub enum Inspection {
    /// The input itself is bad: refuse it by name, merge the others.
    Refused(String),
    /// Unpacking it failed on our side (disk full): the whole merge cannot go on.
    Scratch {
        /// The file being written.
        path: std::path::PathBuf,
        /// The write error.
        source: std::io::Error,
    },
}

impl From<String> for Inspection {
    fn from(reason: String) -> Inspection {
        Inspection::Refused(reason)
    }
}

impl From<&str> for Inspection {
    fn from(reason: &str) -> Inspection {
        Inspection::Refused(reason.to_string())
    }
}

/// Unpacks and checks one file; `scratch` holds unpacked copies.
pub fn inspect(path: &Path, index: usize, scratch: &Path) -> Result<Candidate, Inspection> {
    let kind = artifact::detect(path).map_err(|e| format!("cannot read it: {e}"))?;
    let database = match kind {
        FileKind::Sqlite => path.to_path_buf(),
        FileKind::Gzip => {
            let unpacked = scratch.join(format!("input-{index}.sqlite"));
            artifact::gunzip_sided(path, &unpacked).map_err(|error| match error {
                artifact::GunzipError::Source(e) => Inspection::Refused(format!("not a valid gzip file ({e})")),
                artifact::GunzipError::Destination(e) => Inspection::Scratch { path: unpacked.clone(), source: e },
            })?;
            if artifact::detect(&unpacked).ok() != Some(FileKind::Sqlite) {
                return Err("the gzip file does not hold a SQLite database".into());
            }
            unpacked
        }
        FileKind::Other => return Err("not a SQLite database or a gzip file".into()),
    };
    let store = Store::open_readonly(&database).map_err(|e| format!("cannot open it as SQLite ({e})"))?;
    let conn = store.conn();
    let integrity: String = conn
        .query_row("PRAGMA integrity_check(1)", [], |row| row.get(0))
        .map_err(|e| format!("SQLite integrity check failed ({e})"))?;
    if integrity != "ok" {
        return Err(format!("SQLite integrity check failed ({integrity})").into());
    }
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(|e| e.to_string())?;
    let meta = |key: &str| store.meta(key).map_err(|_| "not an octoshard database (no meta table)".to_string());
    let stated = meta("schema_version")?;
    if stated.is_none() {
        return Err("not an octoshard database (no schema version)".into());
    }
    if version != SCHEMA_VERSION || stated.as_deref() != Some(&SCHEMA_VERSION.to_string()) {
        return Err(format!("schema version {version}, but this octoshard merges version {SCHEMA_VERSION}").into());
    }
    let plan_id = meta("plan_id")?.ok_or("it has no plan id (was it crawled by octoshard?)")?;
    let shard = meta("shard")?.ok_or("it has no shard name (was it crawled by octoshard?)")?;
    // Names end up in leftovers, summaries and artifact names: they must be what plan writes.
    crate::plan::manifest::check_name("plan id", &plan_id)?;
    crate::plan::manifest::check_name("shard name", &shard)?;
    let newest_run: Option<String> = conn
        .query_row("SELECT max(started_at) FROM shard_runs", [], |row| row.get(0))
        .map_err(|e| format!("cannot read its runs ({e})"))?;
    Ok(Candidate {
        path: path.to_path_buf(),
        database,
        shard_count: meta("shard_count")?.and_then(|c| c.parse().ok()),
        source: meta("source")?.unwrap_or_default(),
        collect: meta("collect")?.unwrap_or_else(|| "[\"metadata\"]".into()),
        plan_id,
        shard,
        newest_run: newest_run.unwrap_or_default(),
    })
}
