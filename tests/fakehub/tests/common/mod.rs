//! The raw HTTP/1.1 test client (std::net only) shared by the end-to-end
//! tests, so what is tested is exactly what goes over the wire.
#![allow(dead_code)]

use fakehub::FakeHub;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn num(&self, name: &str) -> u64 {
        self.header(name).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("no numeric {name}: {self:?}"))
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// One keep-alive connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(hub: &FakeHub) -> Conn {
        let addr = hub.url().trim_start_matches("http://").to_string();
        let stream = TcpStream::connect(addr).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        Conn { reader: BufReader::new(stream) }
    }

    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<Resp> {
        let mut out = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fakehub-test\r\n");
        for (k, v) in headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            out.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        out.push_str("\r\n");
        let stream = self.reader.get_mut();
        stream.write_all(out.as_bytes())?;
        stream.write_all(body)?;
        self.read_response()
    }

    pub fn read_response(&mut self) -> std::io::Result<Resp> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed before a response"));
        }
        let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status line");
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            let (k, v) = l.split_once(':').expect("header line");
            headers.push((k.to_ascii_lowercase(), v.trim().to_string()));
        }
        let mut resp = Resp { status, headers, body: Vec::new() };
        if status != 304 {
            let len: usize = resp.num("content-length") as usize;
            resp.body = vec![0; len];
            self.reader.read_exact(&mut resp.body)?;
        }
        Ok(resp)
    }
}

pub fn get(hub: &FakeHub, path: &str, headers: &[(&str, &str)]) -> Resp {
    Conn::open(hub).send("GET", path, headers, b"").expect("response")
}

pub fn graphql(hub: &FakeHub, token: &str, body: &Value) -> Resp {
    let auth = format!("bearer {token}");
    let body = serde_json::to_vec(body).expect("json");
    Conn::open(hub).send("POST", "/graphql", &[("Authorization", &auth)], &body).expect("response")
}

/// The `Link` header as (rel, URL) pairs, in order.
pub fn links(resp: &Resp) -> Vec<(String, String)> {
    let Some(header) = resp.header("link") else { return Vec::new() };
    header
        .split(", ")
        .filter_map(|part| {
            let (url, rel) = part.split_once(">; rel=\"")?;
            Some((rel.trim_end_matches('"').to_string(), url.trim_start_matches('<').to_string()))
        })
        .collect()
}

/// The URL of one `rel` of the `Link` header.
pub fn link(resp: &Resp, rel: &str) -> Option<String> {
    links(resp).into_iter().find(|(r, _)| r == rel).map(|(_, url)| url)
}

/// Follow `rel="next"` from `path` on one connection: (every page's JSON, responses).
pub fn walk(hub: &FakeHub, path: &str, headers: &[(&str, &str)]) -> (Vec<Value>, Vec<Resp>) {
    let base = hub.url();
    let mut conn = Conn::open(hub);
    let mut next = Some(format!("{base}{path}"));
    let (mut pages, mut responses) = (Vec::new(), Vec::new());
    while let Some(url) = next.take() {
        let path = url.strip_prefix(&base).expect("link points at the fake");
        let resp = conn.send("GET", path, headers, b"").expect("page");
        assert_eq!(resp.status, 200, "{path}: {}", String::from_utf8_lossy(&resp.body));
        next = link(&resp, "next");
        pages.push(resp.json());
        responses.push(resp);
    }
    (pages, responses)
}
