//! Code: each detailed repository's default branch at its head commit (the detail query names it,
//! with its date). A snapshot counts its files and their size with one git-tree request; an
//! archive takes the tarball (one API request, answered with a redirect to the download host,
//! which gets no credential), streams it into storage under a content-addressed key while hashing
//! it, and counts the snapshot's files on the way, so both together cost one request. A commit
//! the earlier database already holds is copied from it, never fetched or downloaded again.
//!
//! Each repository's code waits in `stream_state` (stream `snapshot`, or `archive` when archives
//! are collected) with the commit as its cursor; its rows, the stream's completion and the
//! requests commit in one transaction, and nothing is recorded for an upload that did not
//! complete.

use futures_util::future::join_all;
use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use crate::archive::tarcount::{FileCount, TarCounter};
use crate::archive::{Storage, UploadError, Uploaded};
use crate::github::{GithubError, RequestKind, RequestRecord};
use crate::store::{
    ARCHIVE_COLUMNS, CodeWanted, PendingStream, SNAPSHOT_COLUMNS, StreamPage, StreamSeed, StreamStart, TableRows,
    Tombstone,
};

use super::{CrawlError, ItemOutcome, Progress, ShardContext};

/// Git-tree requests in flight at once.
const TREES_PARALLEL: usize = 8;

/// Archives downloading at once (each holds at most two 5 MiB parts in memory).
const ARCHIVES_PARALLEL: usize = 3;

/// What a crawl collects of each repository's code.
pub(crate) struct Code {
    /// Snapshot rows.
    pub snapshot: bool,
    /// Archives: where they go, and the largest stored.
    pub archive: Option<Archiving>,
}

/// Where archives go.
pub(crate) struct Archiving {
    pub storage: Storage,
    pub max_bytes: Option<u64>,
}

impl Code {
    /// The stream name each repository's code waits under.
    fn stream(&self) -> &'static str {
        if self.archive.is_some() { "archive" } else { "snapshot" }
    }

    fn wanted(&self) -> CodeWanted {
        CodeWanted { snapshot: self.snapshot, archive: self.archive.as_ref().map(|a| a.max_bytes) }
    }
}

/// The commit a code stream takes: its cursor in `stream_state`.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Head {
    sha: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    committed_at: Option<String>,
}

/// The detail query's default branch when code is collected: with the head commit's date.
pub(super) const HEAD_WITH_DATE: &str = "defaultBranchRef { name target { oid ... on Commit { committedDate } } }";

/// Starts the code stream of a detailed repository: done at once for an empty repository or a
/// commit the earlier database holds (its rows copied), waiting otherwise.
pub(crate) fn start(
    context: &ShardContext<'_>,
    repo_id: u64,
    node: &Value,
    into: &mut StreamStart,
) -> Result<(), CrawlError> {
    let Some(code) = &context.code else { return Ok(()) };
    let target = node.pointer("/defaultBranchRef/target");
    let sha = target.and_then(|t| t.get("oid")).and_then(Value::as_str);
    let mut seed =
        StreamSeed { repo_id, stream: code.stream(), expected: None, since: None, empty: None, cursor: None };
    let Some(sha) = sha else {
        seed.empty = Some("empty repository");
        into.seeds.push(seed);
        return Ok(());
    };
    if let Some(previous) = context.previous {
        let previous = previous.lock().expect("previous lock");
        if let Some(rows) = previous.earlier_code(repo_id, sha, code.wanted())? {
            into.copied.extend(rows);
            seed.empty = Some("unchanged");
            into.seeds.push(seed);
            return Ok(());
        }
    }
    let committed_at = target.and_then(|t| t.get("committedDate")).and_then(Value::as_str).map(str::to_string);
    let head = Head { sha: sha.to_string(), committed_at };
    seed.cursor = Some(serde_json::to_string(&head).expect("a head serializes"));
    into.seeds.push(seed);
    Ok(())
}

/// Fetches waiting code until at most `keep` repositories wait; `Some(Deadline)` if the deadline
/// came first.
pub(super) async fn drain(
    context: &ShardContext<'_>,
    store: &mut crate::store::Store,
    progress: &mut Progress,
    keep: u64,
) -> Result<Option<ItemOutcome>, CrawlError> {
    let Some(code) = &context.code else { return Ok(None) };
    let parallel = if code.archive.is_some() { ARCHIVES_PARALLEL } else { TREES_PARALLEL };
    while store.pending_code_count()? > keep {
        let waiting = store.pending_code(parallel)?;
        let fetches = waiting.iter().map(|pending| fetch(context, code, pending));
        let Some(results) = progress.before_deadline(join_all(fetches)).await else {
            return Ok(Some(ItemOutcome::Deadline));
        };
        let mut pages = Vec::new();
        let mut gone = Vec::new();
        let mut records = Vec::new();
        let mut failure = None;
        let mut archived = (0, 0);
        for result in results {
            match result {
                Ok(fetched) => {
                    if let Some(bytes) = fetched.stored_bytes {
                        archived = (archived.0 + 1, archived.1 + bytes);
                    }
                    pages.extend(fetched.pages);
                    gone.extend(fetched.tombstone);
                    records.extend(fetched.records);
                }
                Err((error, spent)) => {
                    records.extend(spent);
                    failure = failure.or(Some(error));
                }
            }
        }
        // What was stored is kept even when another repository's code failed.
        store.commit_streams(progress.shard(), &pages, &gone, &records)?;
        let rows = pages.iter().map(|p| p.rows.rows.len() as u64).sum();
        progress.code(rows, archived, gone.len() as u64, &records);
        if let Some(error) = failure {
            return Err(error);
        }
    }
    Ok(None)
}

/// What one repository's code brought.
struct Fetched {
    pages: Vec<StreamPage>,
    tombstone: Option<Tombstone>,
    records: Vec<RequestRecord>,
    /// Bytes of an archive stored.
    stored_bytes: Option<u64>,
}

impl Fetched {
    fn new(records: Vec<RequestRecord>) -> Fetched {
        Fetched { pages: Vec::new(), tombstone: None, records, stored_bytes: None }
    }
}

/// A failure, with the requests it spent (recorded like any others).
type Failed = (CrawlError, Vec<RequestRecord>);

/// Fetches one repository's code.
async fn fetch(context: &ShardContext<'_>, code: &Code, pending: &PendingStream) -> Result<Fetched, Failed> {
    let head = pending.cursor.as_deref().and_then(|c| serde_json::from_str::<Head>(c).ok()).ok_or_else(|| {
        let reason = format!("code stream {} has cursor {:?}", pending.stream, pending.cursor);
        (CrawlError::Corrupt { path: pending.full_name.clone().into(), reason }, Vec::new())
    })?;
    match &code.archive {
        Some(archiving) => archive(context, code, archiving, pending, &head).await,
        None => {
            let mut fetched = Fetched::new(Vec::new());
            snapshot_from_tree(context, pending, &head, &mut fetched).await?;
            Ok(fetched)
        }
    }
}

/// A snapshot row.
fn snapshot_row(repo_id: u64, head: &Head, count: FileCount, truncated: bool, from: &str) -> TableRows {
    let now = crate::time::now_rfc3339();
    let row = vec![
        SqlValue::Integer(repo_id as i64),
        SqlValue::Text(head.sha.clone()),
        SqlValue::Text(now[..10].to_string()),
        head.committed_at.clone().map_or(SqlValue::Null, SqlValue::Text),
        SqlValue::Integer(count.files as i64),
        SqlValue::Integer(count.bytes as i64),
        SqlValue::Integer(i64::from(truncated)),
        SqlValue::Text(from.to_string()),
        SqlValue::Text(now),
    ];
    TableRows { table: "repository_snapshots", columns: SNAPSHOT_COLUMNS, rows: vec![row] }
}

/// A page that completes a code stream with `rows`.
fn done(pending: &PendingStream, stream: &'static str, rows: TableRows, note: Option<&str>) -> StreamPage {
    StreamPage { repo_id: pending.repo_id, stream, rows, cursor: None, note: note.map(str::to_string) }
}

/// A tombstone for a repository whose code answered 404 or 451.
fn tombstone(pending: &PendingStream, status: u16) -> Tombstone {
    Tombstone {
        id: pending.repo_id,
        node_id: pending.node_id.clone(),
        full_name: Some(pending.full_name.clone()),
        reason: if status == 451 { "unavailable_for_legal_reasons" } else { "not_found" }.into(),
        observed_at: crate::time::now_rfc3339(),
    }
}

/// Counts the head's files with one git-tree request, adding its page (or tombstone) to `fetched`.
async fn snapshot_from_tree(
    context: &ShardContext<'_>,
    pending: &PendingStream,
    head: &Head,
    fetched: &mut Fetched,
) -> Result<(), Failed> {
    let url = context.github.url(&format!("/repos/{}/git/trees/{}?recursive=1", pending.full_name, head.sha));
    let response = match context.github.get(&url, RequestKind::GitTree, None).await {
        Ok(response) => response,
        Err(error) => return Err((error.into(), std::mem::take(&mut fetched.records))),
    };
    fetched.records.extend(response.records.iter().cloned());
    let stream = if pending.stream == "archive" { "archive" } else { "snapshot" };
    match response.status {
        200 => {}
        409 => {
            fetched.pages.push(done(pending, stream, TableRows::default(), Some("empty repository")));
            return Ok(());
        }
        404 | 451 => {
            fetched.tombstone = Some(tombstone(pending, response.status));
            return Ok(());
        }
        status => {
            let reason = format!("HTTP {status}: {}", crate::github::github_message(&response.body));
            let records = std::mem::take(&mut fetched.records);
            return Err((GithubError::Unexpected { url, reason }.into(), records));
        }
    }
    let body: Value = match serde_json::from_slice(&response.body) {
        Ok(body) => body,
        Err(e) => {
            let reason = format!("invalid JSON body ({e})");
            return Err((GithubError::Unexpected { url, reason }.into(), std::mem::take(&mut fetched.records)));
        }
    };
    let Some(entries) = body.get("tree").and_then(Value::as_array) else {
        let reason = "the answer is not a git tree".to_string();
        return Err((GithubError::Unexpected { url, reason }.into(), std::mem::take(&mut fetched.records)));
    };
    let mut count = FileCount::default();
    for entry in entries.iter().filter(|e| e.get("type").and_then(Value::as_str) == Some("blob")) {
        count.files += 1;
        count.bytes += entry.get("size").and_then(Value::as_u64).unwrap_or(0);
    }
    let truncated = body.get("truncated").and_then(Value::as_bool).unwrap_or(false);
    let rows = snapshot_row(pending.repo_id, head, count, truncated, "tree");
    fetched.pages.push(done(pending, stream, rows, None));
    Ok(())
}

/// Archives the head (and counts its snapshot while it streams), retrying a download that fails
/// on the way with a new redirect.
async fn archive(
    context: &ShardContext<'_>,
    code: &Code,
    archiving: &Archiving,
    pending: &PendingStream,
    head: &Head,
) -> Result<Fetched, Failed> {
    let github = context.github;
    let policy = github.policy();
    let key = archiving.storage.key(pending.repo_id, &head.sha);
    let mut fetched = Fetched::new(Vec::new());
    let mut failures = 0u32;
    loop {
        let url = github.url(&format!("/repos/{}/tarball/{}", pending.full_name, head.sha));
        let response = match github.get(&url, RequestKind::Tarball, None).await {
            Ok(response) => response,
            Err(error) => return Err((error.into(), fetched.records)),
        };
        fetched.records.extend(response.records.iter().cloned());
        let location = match response.status {
            301 | 302 | 303 | 307 | 308 => response.headers.get("location").and_then(|v| v.to_str().ok()),
            404 | 451 => {
                fetched.tombstone = Some(tombstone(pending, response.status));
                return Ok(fetched);
            }
            _ => None,
        };
        let Some(location) = location.map(|l| absolute(github.api_url(), l)) else {
            let reason = format!(
                "HTTP {} without a download location: {}",
                response.status,
                crate::github::github_message(&response.body)
            );
            return Err((GithubError::Unexpected { url, reason }.into(), fetched.records));
        };
        let mut counter = code.snapshot.then(TarCounter::start);
        let attempt = failures + 1;
        let outcome = match github.download(&location).await {
            Ok(mut download) => {
                let outcome = crate::archive::upload(
                    &archiving.storage,
                    &key,
                    &mut download,
                    archiving.max_bytes,
                    counter.as_mut(),
                )
                .await;
                let mut record = download.record();
                record.attempt = attempt;
                if let Err(UploadError::Download(error)) = &outcome {
                    record.error = Some(error.to_string());
                }
                fetched.records.push(record);
                outcome
            }
            Err(error) => Err(UploadError::Download(error)),
        };
        match outcome {
            Ok(Uploaded::Stored(stored)) => {
                let now = crate::time::now_rfc3339();
                fetched.stored_bytes = Some(stored.bytes);
                let row = vec![
                    SqlValue::Integer(pending.repo_id as i64),
                    SqlValue::Text(head.sha.clone()),
                    SqlValue::Text(stored.uri),
                    SqlValue::Text(stored.sha256),
                    SqlValue::Integer(stored.bytes as i64),
                    SqlValue::Text(now.clone()),
                    SqlValue::Null,
                    archiving.max_bytes.map_or(SqlValue::Null, |m| SqlValue::Integer(m as i64)),
                    SqlValue::Text(now),
                ];
                let rows = TableRows { table: "archives", columns: ARCHIVE_COLUMNS, rows: vec![row] };
                fetched.pages.push(done(pending, "archive", rows, None));
                if let Some(counter) = counter {
                    match counter.finish().await {
                        Ok(count) => {
                            let rows = snapshot_row(pending.repo_id, head, count, false, "archive");
                            fetched.pages.push(done(pending, "archive", rows, None));
                        }
                        Err(reason) => {
                            tracing::warn!(
                                "{}: cannot count the files of its archive ({reason}); asking for its tree",
                                pending.full_name
                            );
                            snapshot_from_tree(context, pending, head, &mut fetched).await?;
                        }
                    }
                }
                return Ok(fetched);
            }
            Ok(Uploaded::TooLarge) => {
                let max = archiving.max_bytes.unwrap_or_default();
                let row = vec![
                    SqlValue::Integer(pending.repo_id as i64),
                    SqlValue::Text(head.sha.clone()),
                    SqlValue::Null,
                    SqlValue::Null,
                    SqlValue::Null,
                    SqlValue::Null,
                    SqlValue::Text(format!("larger than --archive-max-bytes {max}")),
                    SqlValue::Integer(max as i64),
                    SqlValue::Text(crate::time::now_rfc3339()),
                ];
                let rows = TableRows { table: "archives", columns: ARCHIVE_COLUMNS, rows: vec![row] };
                fetched.pages.push(done(pending, "archive", rows, Some("archive too large")));
                if code.snapshot {
                    snapshot_from_tree(context, pending, head, &mut fetched).await?;
                }
                return Ok(fetched);
            }
            Err(UploadError::Download(error)) if error.is_transient() && failures < policy.max_retries => {
                failures += 1;
                let wait = crate::github::retry::backoff(failures, policy.backoff_base, policy.backoff_cap);
                tracing::warn!("{}: {error}; retry {failures} in {wait:?}", pending.full_name);
                tokio::time::sleep(wait).await;
            }
            Err(UploadError::Download(error)) => return Err((CrawlError::Download(error), fetched.records)),
            Err(UploadError::Storage(error)) => return Err((error.into(), fetched.records)),
        }
    }
}

/// A `Location` made absolute (GitHub sends absolute ones; a relative one is under the API host).
fn absolute(api_url: &str, location: &str) -> String {
    if location.starts_with('/') {
        let origin = api_url.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
        format!("{origin}{location}")
    } else {
        location.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_location_is_under_the_api_host() {
        assert_eq!(absolute("http://127.0.0.1:8/api/v3", "/x/y"), "http://127.0.0.1:8/x/y");
        assert_eq!(
            absolute("https://api.github.com", "https://codeload.github.com/a"),
            "https://codeload.github.com/a"
        );
    }

    #[test]
    fn a_head_round_trips_through_its_cursor() {
        let head = Head { sha: "abc".into(), committed_at: Some("2024-01-01T00:00:00Z".into()) };
        let text = serde_json::to_string(&head).unwrap();
        let back: Head = serde_json::from_str(&text).unwrap();
        assert_eq!((back.sha.as_str(), back.committed_at.as_deref()), ("abc", Some("2024-01-01T00:00:00Z")));
    }
}
