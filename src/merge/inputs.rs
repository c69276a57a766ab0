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
    /// Its plan id (a merged database's: the plan it was merged for).
    pub plan_id: String,
    /// Its shard name; `None` for a merged database.
    pub shard: Option<String>,
    /// The shards of `plan_id` a merged database holds.
    pub merged_shards: Vec<String>,
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

/// The tables and indexes of a database as (type, name, SQL), SQLite's own objects aside.
pub type Schema = Vec<(String, String, Option<String>)>;

pub(super) fn schema(conn: &rusqlite::Connection) -> rusqlite::Result<Schema> {
    let mut statement = conn.prepare(
        "SELECT type, name, sql FROM sqlite_master
             WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE 'repositories_fts%' ORDER BY type, name",
    )?;
    statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?.collect()
}

/// The schema this build writes (every octoshard file of [`SCHEMA_VERSION`] has exactly this
/// one), read from a fresh database in `scratch`.
pub fn expected_schema(scratch: &Path) -> Result<Schema, crate::store::StoreError> {
    let store = Store::open(&scratch.join("schema.sqlite"))?;
    schema(store.conn()).map_err(|e| store.error(e))
}

/// Unpacks and checks one file against `expected` (see [`expected_schema`]); `scratch` holds
/// unpacked copies.
pub fn inspect(path: &Path, index: usize, scratch: &Path, expected: &Schema) -> Result<Candidate, Inspection> {
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
    let stated = store.meta("schema_version").map_err(|_| "not an octoshard database (no meta table)".to_string())?;
    if stated.is_none() {
        return Err("not an octoshard database (no schema version)".into());
    }
    if (1..SCHEMA_VERSION).contains(&version) && stated.as_deref() == Some(version.to_string().as_str()) {
        // An older octoshard wrote it: merge a migrated copy, never the file itself.
        drop(store);
        let migrated = scratch.join(format!("input-{index}.migrated.sqlite"));
        std::fs::copy(&database, &migrated).map_err(|source| Inspection::Scratch { path: migrated.clone(), source })?;
        let store = Store::migrate_copy(&migrated)
            .map_err(|e| format!("cannot migrate it from schema version {version} ({e})"))?;
        return inspect_current(path, migrated, store, expected);
    }
    inspect_current(path, database, store, expected)
}

/// The checks of [`inspect`] once the file is unpacked (and migrated).
fn inspect_current(path: &Path, database: PathBuf, store: Store, expected: &Schema) -> Result<Candidate, Inspection> {
    let conn = store.conn();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).map_err(|e| e.to_string())?;
    let meta = |key: &str| store.meta(key).map_err(|_| "not an octoshard database (no meta table)".to_string());
    let stated = meta("schema_version")?;
    if version != SCHEMA_VERSION || stated.as_deref() != Some(&SCHEMA_VERSION.to_string()) {
        return Err(format!("schema version {version}, but this octoshard merges version {SCHEMA_VERSION}").into());
    }
    // An altered schema passes the integrity check but would fail the merge halfway.
    let actual = schema(conn).map_err(|e| format!("cannot read its schema ({e})"))?;
    if let Some((_, name, _)) =
        expected.iter().find(|e| !actual.contains(e)).or(actual.iter().find(|a| !expected.contains(a)))
    {
        return Err(format!("its `{name}` differs from octoshard's schema version {SCHEMA_VERSION}").into());
    }
    let plan_id = meta("plan_id")?.ok_or("it has no plan id (was it crawled by octoshard?)")?;
    let shard = meta("shard")?;
    let merged_shards = match (&shard, meta("merged_shards")?) {
        (Some(_), _) => Vec::new(),
        (None, Some(list)) => serde_json::from_str::<Vec<String>>(&list)
            .map_err(|_| "its list of merged shards is not readable".to_string())?,
        (None, None) => {
            return Err("it has no shard name and is not a merged database (was it crawled by octoshard?)".into());
        }
    };
    // Names end up in leftovers, summaries and artifact names: they must be what plan writes.
    crate::plan::manifest::check_name("plan id", &plan_id)?;
    for name in shard.iter().chain(&merged_shards) {
        crate::plan::manifest::check_name("shard name", name)?;
    }
    store.plans().map_err(|e| format!("cannot read its plans ({e})"))?;
    let newest_run: Option<String> = conn
        .query_row("SELECT max(started_at) FROM shard_runs", [], |row| row.get(0))
        .map_err(|e| format!("cannot read its runs ({e})"))?;
    // The merge reads work items back for leftovers: one it cannot read must not fail the merge.
    store.work_items(None).map_err(|e| format!("cannot read its work items ({e})"))?;
    Ok(Candidate {
        path: path.to_path_buf(),
        database,
        shard_count: meta("shard_count")?.and_then(|c| c.parse().ok()),
        source: meta("source")?.unwrap_or_default(),
        collect: meta("collect")?.unwrap_or_else(|| "[\"metadata\"]".into()),
        plan_id,
        shard,
        merged_shards,
        newest_run: newest_run.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_altered_schema_is_refused_by_name() {
        // Found by tests/fuzz.rs: a flipped byte in a column name passed the integrity check and
        // then failed the whole merge ("no such column") instead of refusing the one file.
        let dir = tempfile::tempdir().unwrap();
        let expected = expected_schema(dir.path()).unwrap();
        let path = dir.path().join("altered.sqlite");
        let store = Store::open(&path).unwrap();
        store.set_meta("plan_id", "p").unwrap();
        store.set_meta("shard", "shard-0000").unwrap();
        store.conn().execute_batch("ALTER TABLE repositories RENAME COLUMN etag TO etog").unwrap();
        store.close_for_transfer().unwrap();
        let Err(Inspection::Refused(reason)) = inspect(&path, 0, dir.path(), &expected) else {
            panic!("an altered schema was accepted");
        };
        assert!(reason.contains("`repositories` differs"), "{reason}");

        let good = dir.path().join("good.sqlite");
        let store = Store::open(&good).unwrap();
        store.set_meta("plan_id", "p").unwrap();
        store.set_meta("shard", "shard-0000").unwrap();
        store.close_for_transfer().unwrap();
        assert!(inspect(&good, 1, dir.path(), &expected).is_ok());
    }

    #[test]
    fn a_file_of_an_older_schema_is_read_from_a_migrated_copy() {
        let dir = tempfile::tempdir().unwrap();
        let expected = expected_schema(dir.path()).unwrap();
        let path = dir.path().join("old.sqlite");
        let conn = crate::store::create_at_version(&path, 3);
        conn.execute_batch(
            "INSERT INTO meta VALUES ('plan_id', 'p'), ('shard', 'shard-0000');
             INSERT INTO repositories (id, full_name, owner, name, fetched_at) VALUES (5, 'o/r', 'o', 'r', 't');
             INSERT INTO work_items (shard, idx, kind, spec, updated_at)
                VALUES ('shard-0000', 0, 'id_range', '{\"kind\":\"id_range\",\"from\":0,\"to\":10}', 't');",
        )
        .unwrap();
        drop(conn);
        let before = std::fs::read(&path).unwrap();
        let candidate = inspect(&path, 0, dir.path(), &expected).map_err(|_| "refused").unwrap();
        assert_eq!((candidate.plan_id.as_str(), candidate.shard.as_deref()), ("p", Some("shard-0000")));
        assert_ne!(candidate.database, path, "read from a copy");
        assert_eq!(std::fs::read(&path).unwrap(), before, "the input itself is untouched");
        let copy = Store::open_readonly(&candidate.database).unwrap();
        let plan: String = copy.conn().query_row("SELECT plan_id FROM work_items", [], |row| row.get(0)).unwrap();
        assert_eq!(plan, "p", "the migration gave the work items their plan");
    }

    #[test]
    fn unreadable_work_items_are_refused_by_name() {
        // Found by tests/fuzz.rs: a flipped byte in a work item's JSON passed every check, was
        // copied, and then failed the whole merge when leftovers were read back.
        let dir = tempfile::tempdir().unwrap();
        let expected = expected_schema(dir.path()).unwrap();
        let path = dir.path().join("garbled.sqlite");
        let mut store = Store::open(&path).unwrap();
        store.set_meta("plan_id", "p").unwrap();
        store.set_meta("shard", "shard-0000").unwrap();
        store
            .init_work("p", "shard-0000", &[crate::plan::WorkItem::IdRange { from: 0, to: 10, discover: None }])
            .unwrap();
        store.conn().execute_batch("UPDATE work_items SET spec = '{\"kind\":\"id_range\",\"from\":0,\"to\"'").unwrap();
        store.close_for_transfer().unwrap();
        let Err(Inspection::Refused(reason)) = inspect(&path, 0, dir.path(), &expected) else {
            panic!("a garbled work item was accepted");
        };
        assert!(reason.contains("cannot read its work items"), "{reason}");
    }
}
