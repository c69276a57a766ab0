//! A minimal hand-written HTTP/1.1 server over tokio's `TcpListener`: keep-alive
//! connections, `Content-Length` request bodies, percent-decoded query strings.
//! Written by hand (not hyper) so the server can misbehave on purpose: drop a
//! connection without answering, or send a body shorter than its
//! `Content-Length` and hang up. Every response carries `Content-Length`
//! (except 304, which has no body by definition).

use crate::app::{App, InFlight};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

/// A parsed request.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub method: String,
    /// Path without the query string, still percent-encoded.
    pub path: String,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The client asked to close the connection after this request.
    pub close: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// First value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// A response before delivery.
#[derive(Clone, Debug)]
pub(crate) struct Response {
    pub status: u16,
    /// Header names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Response {
        let body = serde_json::to_vec(value).unwrap_or_default();
        Response { status, headers: vec![("content-type".into(), "application/json; charset=utf-8".into())], body }
    }

    /// A JSON response from an already serialized body.
    pub fn json_bytes(status: u16, body: Vec<u8>) -> Response {
        Response { status, headers: vec![("content-type".into(), "application/json; charset=utf-8".into())], body }
    }

    /// A response without a body.
    pub fn empty(status: u16) -> Response {
        Response { status, headers: Vec::new(), body: Vec::new() }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Set (replace) a header.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(k, _)| k != name);
        self.headers.push((name.to_string(), value.into()));
    }

    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(k, _)| k != name);
    }
}

/// How a response is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    Full,
    /// Send the head (full Content-Length) and this many body bytes, then close.
    Truncate(usize),
    /// Close the connection without answering.
    Reset,
}

/// What the application hands back for one request.
pub(crate) struct Reply {
    pub response: Response,
    pub delivery: Delivery,
    /// Keeps the request counted as in flight until it has been written.
    pub hold: Option<InFlight>,
}

/// Accept connections until `shutdown` changes.
pub(crate) async fn serve(listener: TcpListener, app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let app = app.clone();
                    tokio::spawn(connection(stream, app));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            _ = shutdown.changed() => break,
        }
    }
}

pub(crate) enum ReadError {
    /// The connection failed or closed mid-request: just drop it.
    Io,
    /// Answer with this status and message, then close.
    Bad(u16, &'static str),
}

async fn connection(mut stream: TcpStream, app: Arc<App>) {
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    loop {
        let request = match read_request(&mut stream, &mut buf).await {
            Ok(Some(request)) => request,
            Ok(None) | Err(ReadError::Io) => return,
            Err(ReadError::Bad(status, message)) => {
                let response = app.reject(status, message);
                let _ = write_response(&mut stream, &response, true, None).await;
                let _ = stream.shutdown().await;
                return;
            }
        };
        let close = request.close;
        let reply = app.handle(request).await;
        match reply.delivery {
            Delivery::Reset => {
                let _ = stream.set_zero_linger();
                return;
            }
            Delivery::Truncate(cut) => {
                let _ = write_response(&mut stream, &reply.response, true, Some(cut)).await;
                let _ = stream.shutdown().await;
                return;
            }
            Delivery::Full => {
                let written = write_response(&mut stream, &reply.response, close, None).await;
                drop(reply.hold);
                if close || written.is_err() {
                    let _ = stream.shutdown().await;
                    return;
                }
            }
        }
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<usize, ReadError> {
    buf.reserve(8192);
    stream.read_buf(buf).await.map_err(|_| ReadError::Io)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub(crate) async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<Option<Request>, ReadError> {
    let head_end = loop {
        let blank = buf.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
        buf.drain(..blank);
        if let Some(pos) = find(buf, b"\r\n\r\n") {
            break pos;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadError::Bad(431, "Request Header Fields Too Large"));
        }
        if read_more(stream, buf).await? == 0 {
            return if buf.is_empty() { Ok(None) } else { Err(ReadError::Io) };
        }
    };
    let mut request = parse_head(&buf[..head_end])?;
    if request.header("transfer-encoding").is_some_and(|te| !te.eq_ignore_ascii_case("identity")) {
        return Err(ReadError::Bad(411, "Length Required"));
    }
    let length = match request.header("content-length") {
        None => 0,
        Some(v) => v.trim().parse::<usize>().map_err(|_| ReadError::Bad(400, "Bad Content-Length"))?,
    };
    if length > MAX_BODY {
        return Err(ReadError::Bad(413, "Payload Too Large"));
    }
    let total = head_end + 4 + length;
    while buf.len() < total {
        if read_more(stream, buf).await? == 0 {
            return Err(ReadError::Io);
        }
    }
    request.body = buf[head_end + 4..total].to_vec();
    buf.drain(..total);
    Ok(Some(request))
}

fn parse_head(head: &[u8]) -> Result<Request, ReadError> {
    const BAD: ReadError = ReadError::Bad(400, "Bad Request");
    let text = std::str::from_utf8(head).map_err(|_| BAD)?;
    let mut lines = text.split("\r\n");
    let mut parts = lines.next().unwrap_or("").split(' ').filter(|p| !p.is_empty());
    let (Some(method), Some(target), Some(version), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(BAD);
    };
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        _ => return Err(ReadError::Bad(505, "HTTP Version Not Supported")),
    };
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or(BAD)?;
        if name.is_empty() || name.contains(' ') {
            return Err(BAD);
        }
        headers.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    // Absolute-form targets (`http://host/path`) are reduced to their path.
    let target = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    if !target.starts_with('/') {
        return Err(BAD);
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = parse_query(query);
    let connection = headers
        .iter()
        .filter(|(k, _)| k == "connection")
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect::<Vec<_>>();
    let close =
        if http11 { connection.iter().any(|t| t == "close") } else { !connection.iter().any(|t| t == "keep-alive") };
    Ok(Request { method: method.to_string(), path: path.to_string(), query, headers, body: Vec::new(), close })
}

/// `a=1&b=x+y%21` -> [("a","1"),("b","x y!")].
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

/// Decode `%XX` escapes (invalid ones are kept literally); `+` is a space when
/// `plus_as_space` (query strings). Invalid UTF-8 becomes U+FFFD.
pub(crate) fn percent_decode(input: &str, plus_as_space: bool) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_as_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Unknown",
    }
}

/// Serialize and write a response; `cut` sends only that many body bytes.
async fn write_response(
    stream: &mut TcpStream,
    response: &Response,
    close: bool,
    cut: Option<usize>,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(1024 + response.body.len());
    out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", response.status, reason(response.status)).as_bytes());
    for (name, value) in &response.headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if response.status != 304 {
        out.extend_from_slice(format!("content-length: {}\r\n", response.body.len()).as_bytes());
    }
    if close {
        out.extend_from_slice(b"connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    if response.status != 304 {
        let n = cut.unwrap_or(response.body.len()).min(response.body.len());
        out.extend_from_slice(&response.body[..n]);
    }
    stream.write_all(&out).await?;
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding() {
        assert_eq!(percent_decode("stars%3A%3E100+language%3Arust", true), "stars:>100 language:rust");
        assert_eq!(percent_decode("a+b", false), "a+b");
        assert_eq!(percent_decode("100%", true), "100%");
        assert_eq!(percent_decode("%zz%4", true), "%zz%4");
        assert_eq!(percent_decode("%E6%97%A5", true), "日");
        assert_eq!(percent_decode("%ff", true), "\u{fffd}");
        let q = parse_query("since=5&&x&q=a%20b");
        assert_eq!(q, vec![("since".into(), "5".into()), ("x".into(), "".into()), ("q".into(), "a b".into())]);
    }

    #[test]
    fn heads() {
        let r = parse_head(b"GET /repositories?since=3 HTTP/1.1\r\nHost: x\r\nConnection: close").ok();
        let r = r.expect("parses");
        assert_eq!(r.path, "/repositories");
        assert_eq!(r.query_param("since"), Some("3"));
        assert_eq!(r.header("host"), Some("x"));
        assert!(r.close);
        assert!(parse_head(b"GARBAGE").is_err());
        assert!(parse_head(b"GET nopath HTTP/1.1").is_err());
        assert!(parse_head(b"GET / HTTP/1.1\r\nno colon").is_err());
        assert!(parse_head(b"GET / HTTP/2").is_err());
    }
}
