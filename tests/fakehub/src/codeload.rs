//! The download host, like `codeload.github.com`: a second listener (own
//! bind address `Options::codeload_host` and port) where
//! `GET /repos/{o}/{r}/tarball/{ref}` redirects. It serves
//! `GET /{owner}/{repo}/legacy.tar.gz/{ref}` (`ref`: the default branch's
//! name, `refs/heads/{name}` or a commit sha of 7 to 40 hex digits) as 200,
//! `Content-Type: application/x-gzip`, `Content-Disposition: attachment;
//! filename={owner}-{repo}-{sha7}.tar.gz` and a chunked body streamed from
//! `tarball.rs` (no `Content-Length`, as codeload). Anything else (unknown,
//! deleted, renamed-away or empty repositories, unknown refs, other paths)
//! is 404 `text/plain` "404: Not Found". `HEAD` answers the same head.
//!
//! No token is needed or looked at; nothing is charged or rate limited and
//! no rate-limit headers are sent. Every request is recorded (path with its
//! query, headers) for [`crate::FakeHub::downloads`]. `Options::latency`
//! delays every answer; `Options::fault_download_cut` of the downloads
//! (decided per download in arrival order from `Options::seed`) are cut:
//! the connection closes after a strict prefix of the body, mid-chunk.

use crate::app::App;
use crate::hash::{mix, mix_all, unit};
use crate::http::{ReadError, Request, read_request};
use crate::tarball::GzStream;
use crate::time::{http_date, now_epoch};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// One request the download host received.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadSeen {
    /// The request path as sent (still percent-encoded), with `?query` if any.
    pub path: String,
    /// Every header, names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The status answered (200 or 404).
    pub status: u16,
    /// The body was cut on purpose (`Options::fault_download_cut`).
    pub cut: bool,
}

impl DownloadSeen {
    /// A header's value (name lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// The download host's state.
pub(crate) struct Codeload {
    app: Arc<App>,
    seen: Mutex<Vec<DownloadSeen>>,
    /// Downloads so far (the fault draw's sequence number).
    downloads: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Codeload {
    pub fn new(app: Arc<App>) -> Codeload {
        Codeload { app, seen: Mutex::new(Vec::new()), downloads: AtomicU64::new(0) }
    }

    pub fn seen(&self) -> Vec<DownloadSeen> {
        lock(&self.seen).clone()
    }

    pub fn clear(&self) {
        lock(&self.seen).clear();
    }
}

/// Accept connections until `shutdown` changes.
pub(crate) async fn serve(listener: TcpListener, host: Arc<Codeload>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, host.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = shutdown.changed() => break,
        }
    }
}

/// What to answer.
enum Answer {
    NotFound,
    Archive { stream: Box<GzStream>, filename: String, cut_at: Option<u64> },
}

async fn connection(mut stream: TcpStream, host: Arc<Codeload>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::with_capacity(8192);
    loop {
        let request = match read_request(&mut stream, &mut buf).await {
            Ok(Some(request)) => request,
            Ok(None) | Err(ReadError::Io) | Err(ReadError::Bad(..)) => return,
        };
        let options = host.app.options();
        let answer = answer(&host, &request, &options);
        let (status, cut) = match &answer {
            Answer::NotFound => (404, false),
            Answer::Archive { cut_at, .. } => (200, cut_at.is_some()),
        };
        lock(&host.seen).push(DownloadSeen {
            path: full_path(&request),
            headers: request.headers.clone(),
            status,
            cut,
        });
        if !options.latency.is_zero() {
            tokio::time::sleep(options.latency).await;
        }
        let keep = match answer {
            Answer::NotFound => not_found(&mut stream, request.close).await,
            Answer::Archive { stream: gz, filename, cut_at } => {
                archive(&mut stream, *gz, &filename, cut_at, request.method == "HEAD", request.close).await
            }
        };
        if !keep || request.close {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

/// The path and the query as received.
fn full_path(request: &Request) -> String {
    if request.query.is_empty() {
        return request.path.clone();
    }
    let pairs: Vec<String> = request
        .query
        .iter()
        .map(|(k, v)| format!("{}={}", crate::paging::encode(k), crate::paging::encode(v)))
        .collect();
    format!("{}?{}", request.path, pairs.join("&"))
}

fn answer(host: &Codeload, request: &Request, options: &crate::Options) -> Answer {
    if request.method != "GET" && request.method != "HEAD" {
        return Answer::NotFound;
    }
    let segments: Vec<String> =
        request.path.trim_start_matches('/').split('/').map(|s| crate::http::percent_decode(s, false)).collect();
    let [owner, name, kind, reference @ ..] = segments.as_slice() else { return Answer::NotFound };
    if kind != "legacy.tar.gz" || reference.is_empty() || reference.iter().any(String::is_empty) {
        return Answer::NotFound;
    }
    let universe = &host.app.universe;
    let Some(repo) = universe.by_owner_and_name(owner, name).filter(|r| !r.deleted) else {
        return Answer::NotFound;
    };
    let big = crate::code_tree::big_bytes(&options.big_archives, repo.id);
    let Ok(tree) = universe.commit_tree(repo, &reference.join("/"), big) else { return Answer::NotFound };
    let filename = format!("{}.tar.gz", crate::tarball::stem(&repo.full_name, &tree.commit_sha));
    let gz = GzStream::new(tree, &repo.full_name);
    let mut cut_at = None;
    if options.fault_download_cut > 0.0 && request.method == "GET" {
        let seq = host.downloads.fetch_add(1, Ordering::Relaxed);
        let h = mix_all(&[options.seed, seq, 0xC0DE_10AD]);
        if unit(h) < options.fault_download_cut {
            let estimate = if gz.stored() { gz.tar_total } else { gz.tar_total / 4 };
            cut_at = Some(((0.2 + 0.6 * unit(mix(h, 1))) * estimate as f64) as u64);
        }
    }
    Answer::Archive { stream: Box::new(gz), filename, cut_at }
}

fn head(status: u16, headers: &[(&str, String)], close: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", crate::http::reason(status));
    out.push_str(&format!("date: {}\r\nserver: fakehub-codeload\r\n", http_date(now_epoch() as i64)));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if close {
        out.push_str("connection: close\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// Answer 404; false when the connection failed.
async fn not_found(stream: &mut TcpStream, close: bool) -> bool {
    let body = b"404: Not Found";
    let mut out = head(
        404,
        &[("content-type", "text/plain; charset=utf-8".into()), ("content-length", body.len().to_string())],
        close,
    );
    out.extend_from_slice(body);
    stream.write_all(&out).await.is_ok()
}

/// Stream the archive chunked; false when the connection is (or was made) unusable.
async fn archive(
    stream: &mut TcpStream,
    mut gz: GzStream,
    filename: &str,
    cut_at: Option<u64>,
    head_only: bool,
    close: bool,
) -> bool {
    let headers = [
        ("content-type", "application/x-gzip".to_string()),
        ("content-disposition", format!("attachment; filename={filename}")),
        ("transfer-encoding", "chunked".to_string()),
        ("x-content-type-options", "nosniff".to_string()),
    ];
    if stream.write_all(&head(200, &headers, close)).await.is_err() {
        return false;
    }
    if head_only {
        return true;
    }
    let mut sent = 0u64;
    let mut pending = gz.next_chunk();
    while let Some(chunk) = pending.take() {
        let next = gz.next_chunk();
        let len = chunk.len() as u64;
        if let Some(at) = cut_at {
            // Cut within this chunk (at the latest halfway through the last one).
            let limit = if next.is_none() { at.min(sent + len / 2) } else { at };
            if sent + len > limit {
                let keep = (limit.saturating_sub(sent)) as usize;
                let mut out = format!("{len:x}\r\n").into_bytes();
                out.extend_from_slice(&chunk[..keep]);
                let _ = stream.write_all(&out).await;
                let _ = stream.flush().await;
                return false;
            }
        }
        let mut out = Vec::with_capacity(chunk.len() + 16);
        out.extend_from_slice(format!("{len:x}\r\n").as_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(b"\r\n");
        if stream.write_all(&out).await.is_err() {
            return false;
        }
        sent += len;
        pending = next;
    }
    stream.write_all(b"0\r\n\r\n").await.is_ok()
}
