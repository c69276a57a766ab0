//! The code endpoints over the wire: git trees, the tarball redirect and the
//! download host (codeload) with its archives, faults and big archives.

mod common;

use common::{get, graphql};
use fakehub::{DayChanges, FakeHub, Options, Universe, UniverseConfig};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const AUTH: (&str, &str) = ("Authorization", "bearer t");

fn hub(options: Options) -> FakeHub {
    FakeHub::start(Universe::generate(&UniverseConfig::new(300, 21)), options)
}

/// Visible repositories with code (non-empty).
fn with_code(hub: &FakeHub) -> Vec<(u64, String)> {
    let u = hub.universe();
    u.repos().iter().filter(|r| !r.deleted && !r.is_empty()).map(|r| (r.id, r.full_name.clone())).collect()
}

/// A download: status, headers, body, and whether the chunked body ended properly.
struct Download {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    complete: bool,
}

impl Download {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// GET `url` (absolute, `http://host:port/path`) without any credentials, reading a chunked body.
fn download(url: &str) -> Download {
    let rest = url.strip_prefix("http://").expect("http URL");
    let (addr, path) = rest.split_at(rest.find('/').expect("a path"));
    let stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
    let mut reader = BufReader::new(stream);
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: fakehub-test\r\n\r\n");
    reader.get_mut().write_all(request.as_bytes()).expect("send");
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("status");
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header");
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let (k, v) = l.split_once(':').expect("header line");
        headers.push((k.to_ascii_lowercase(), v.trim().to_string()));
    }
    let mut body = Vec::new();
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v == "chunked");
    if !chunked {
        let len: usize = headers.iter().find(|(k, _)| k == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
        body.resize(len, 0);
        reader.read_exact(&mut body).expect("body");
        return Download { status, headers, body, complete: true };
    }
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return Download { status, headers, body, complete: false };
        }
        let size = usize::from_str_radix(line.trim_end(), 16).expect("chunk size");
        if size == 0 {
            line.clear();
            let _ = reader.read_line(&mut line);
            return Download { status, headers, body, complete: true };
        }
        let start = body.len();
        body.resize(start + size, 0);
        let mut got = start;
        while got < body.len() {
            match reader.read(&mut body[got..]) {
                Ok(0) | Err(_) => {
                    body.truncate(got);
                    return Download { status, headers, body, complete: false };
                }
                Ok(n) => got += n,
            }
        }
        let mut crlf = [0u8; 2];
        if reader.read_exact(&mut crlf).is_err() {
            return Download { status, headers, body, complete: false };
        }
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("valid gzip");
    out
}

/// One tar member: (path, typeflag, mode, size, mtime, linkname, body).
#[derive(Debug)]
struct Member {
    path: String,
    typeflag: u8,
    mode: u32,
    size: u64,
    mtime: i64,
    link: String,
    body: Vec<u8>,
}

fn field(h: &[u8], at: usize, len: usize) -> String {
    let raw = &h[at..at + len];
    let end = raw.iter().position(|&b| b == 0).unwrap_or(len);
    String::from_utf8_lossy(&raw[..end]).into_owned()
}

fn octal(h: &[u8], at: usize, len: usize) -> u64 {
    u64::from_str_radix(field(h, at, len).trim(), 8).expect("octal field")
}

/// Parse a tar by hand (ustar + pax), checking every checksum; also returns the trailing zero bytes.
fn untar(tar: &[u8]) -> (Vec<Member>, usize) {
    assert_eq!(tar.len() % 10_240, 0, "git pads to 10240-byte records");
    let mut members = Vec::new();
    let mut at = 0;
    let mut pax_path = None;
    while at + 512 <= tar.len() {
        let h = &tar[at..at + 512];
        if h.iter().all(|&b| b == 0) {
            break;
        }
        let stored = octal(h, 148, 8);
        let sum: u64 =
            h.iter().enumerate().map(|(i, &b)| if (148..156).contains(&i) { 32 } else { u64::from(b) }).sum();
        assert_eq!(stored, sum, "checksum at {at}");
        assert_eq!(&h[257..265], b"ustar\x0000");
        assert_eq!((field(h, 265, 32).as_str(), field(h, 297, 32).as_str()), ("root", "root"));
        let size = octal(h, 124, 12);
        let body = tar[at + 512..at + 512 + size as usize].to_vec();
        at += 512 + (size as usize).div_ceil(512) * 512;
        let typeflag = h[156];
        if typeflag == b'x' {
            let text = String::from_utf8(body).expect("pax text");
            pax_path = text.lines().find_map(|l| l.split_once(" path=").map(|(_, p)| p.to_string()));
            continue;
        }
        let prefix = field(h, 345, 155);
        let name = field(h, 0, 100);
        let path = pax_path.take().unwrap_or(if prefix.is_empty() { name } else { format!("{prefix}/{name}") });
        members.push(Member {
            path,
            typeflag,
            mode: octal(h, 100, 8) as u32,
            size,
            mtime: octal(h, 136, 12) as i64,
            link: field(h, 157, 100),
            body,
        });
    }
    let zeros = tar.len() - at;
    assert!(tar[at..].iter().all(|&b| b == 0));
    (members, zeros)
}

fn tree_json(hub: &FakeHub, full_name: &str, name: &str, recursive: bool) -> common::Resp {
    let query = if recursive { "?recursive=1" } else { "" };
    get(hub, &format!("/repos/{full_name}/git/trees/{name}{query}"), &[AUTH])
}

#[test]
fn a_tree_and_its_tarball_agree() {
    let hub = hub(Options::default());
    let repos = with_code(&hub);
    let mut links = 0;
    for (id, full_name) in repos.iter().take(40) {
        let snapshot = hub.snapshot(*id).expect("a snapshot");
        let resp = tree_json(&hub, full_name, "HEAD", true);
        assert_eq!(resp.status, 200);
        let tree = resp.json();
        assert_eq!(tree["truncated"], json!(false));
        let entries = tree["tree"].as_array().expect("entries");
        assert_eq!(entries.len(), snapshot.entries);
        let blobs: Vec<&Value> = entries.iter().filter(|e| e["type"] == "blob").collect();
        assert_eq!(blobs.len(), snapshot.file_count);
        assert_eq!(blobs.iter().map(|e| e["size"].as_u64().unwrap()).sum::<u64>(), snapshot.size_bytes);
        assert!(
            entries.iter().filter(|e| e["type"] == "tree").all(|e| e.get("size").is_none() && e["mode"] == "040000")
        );
        assert!(tree["url"].as_str().unwrap().ends_with(&format!("/git/trees/{}", tree["sha"].as_str().unwrap())));

        let redirect = get(&hub, &format!("/repos/{full_name}/tarball"), &[AUTH]);
        assert_eq!(redirect.status, 302);
        assert!(redirect.body.is_empty());
        let location = redirect.header("location").expect("location").to_string();
        let default_branch = hub.universe().get(*id).unwrap().default_branch;
        assert_eq!(location, format!("{}/{full_name}/legacy.tar.gz/refs/heads/{default_branch}", hub.codeload_url()));
        let got = download(&location);
        assert_eq!((got.status, got.complete), (200, true));
        assert_eq!(got.header("content-type"), Some("application/x-gzip"));
        assert!(got.header("content-length").is_none() && got.header("x-ratelimit-limit").is_none());
        let stem = format!("{}-{}", full_name.replace('/', "-"), &snapshot.commit_sha[..7]);
        assert_eq!(got.header("content-disposition"), Some(format!("attachment; filename={stem}.tar.gz").as_str()));
        assert_eq!(&got.body[..4], &[0x1f, 0x8b, 8, 0]);
        assert_eq!(&got.body[4..8], &[0, 0, 0, 0], "gzip mtime 0");
        let (digest, bytes) = hub.tarball_digest(*id).expect("digest");
        assert_eq!(bytes, got.body.len() as u64);
        assert_eq!(digest, sha256(&got.body));

        let (members, zeros) = untar(&gunzip(&got.body));
        assert!(zeros >= 1024);
        let global = &members[0];
        assert_eq!((global.path.as_str(), global.typeflag), ("pax_global_header", b'g'));
        assert_eq!(global.body, format!("52 comment={}\n", snapshot.commit_sha).into_bytes());
        assert_eq!((members[1].path.clone(), members[1].typeflag), (format!("{stem}/"), b'5'));
        assert_eq!(members.len(), entries.len() + 2);
        for (m, e) in members[2..].iter().zip(entries) {
            assert_eq!(m.mtime, snapshot.committed_at.0);
            let path = e["path"].as_str().unwrap();
            match (e["type"].as_str().unwrap(), e["mode"].as_str().unwrap()) {
                ("tree", _) => {
                    assert_eq!((m.path.clone(), m.typeflag, m.mode), (format!("{stem}/{path}/"), b'5', 0o775))
                }
                (_, "120000") => {
                    assert_eq!((m.path.clone(), m.typeflag, m.size), (format!("{stem}/{path}"), b'2', 0));
                    assert_eq!(m.link.len() as u64, e["size"].as_u64().unwrap());
                    links += 1;
                }
                (_, mode) => {
                    assert_eq!((m.path.clone(), m.typeflag), (format!("{stem}/{path}"), b'0'));
                    assert_eq!(m.size, e["size"].as_u64().unwrap());
                    assert_eq!(m.body.len() as u64, m.size);
                    assert_eq!(m.mode, if mode == "100755" { 0o775 } else { 0o664 });
                }
            }
        }
    }
    assert!(links > 0, "some repository has a symlink");
    let seen = hub.downloads();
    assert_eq!(seen.len(), 40);
    assert!(
        seen.iter().all(|d| d.status == 200 && d.header("authorization").is_none() && d.path.contains("legacy.tar.gz"))
    );
    assert!(seen.iter().all(|d| d.header("user-agent") == Some("fakehub-test")));
}

fn sha256(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn archives_are_stable_and_a_push_changes_them() {
    let hub = hub(Options::default());
    let repos = with_code(&hub);
    let (id, full_name) = &repos[3];
    let sha = hub.snapshot(*id).unwrap().commit_sha;
    let url = format!("{}/{full_name}/legacy.tar.gz/{sha}", hub.codeload_url());
    let first = download(&url);
    assert_eq!(first.body, download(&url).body, "byte-identical");
    let short = download(&format!("{}/{full_name}/legacy.tar.gz/{}", hub.codeload_url(), &sha[..7]));
    assert_eq!(first.body, short.body);
    let before: Vec<_> = repos.iter().map(|(id, _)| (hub.tarball_digest(*id), hub.snapshot(*id))).collect();
    let done = hub.advance_day(1, &DayChanges { pushed: 0.5, ..DayChanges::default() }, 5);
    let mut changed = 0;
    for ((id, _), (digest, snapshot)) in repos.iter().zip(before) {
        if done.pushed.contains(id) {
            assert_ne!(hub.tarball_digest(*id), digest);
            let now = hub.snapshot(*id).unwrap();
            assert_ne!(now.commit_sha, snapshot.unwrap().commit_sha);
            assert_eq!(now.committed_at, hub.universe().get(*id).unwrap().pushed_at);
            changed += 1;
        } else {
            assert_eq!(hub.tarball_digest(*id), digest);
        }
    }
    assert!(changed > 10);
    // The old commit's archive is still served, byte for byte.
    assert_eq!(download(&url).body, first.body);
}

#[test]
fn errors_and_limits() {
    let hub = hub(Options { tree_entry_limit: Some(3), ..Options::default() });
    let u = hub.universe();
    let empty = u.repos().iter().find(|r| !r.deleted && r.is_empty()).expect("an empty repository");
    let resp = tree_json(&hub, &empty.full_name, empty.default_branch, true);
    assert_eq!((resp.status, resp.json()["message"].clone()), (409, json!("Git Repository is empty.")));
    assert_eq!(get(&hub, &format!("/repos/{}/tarball", empty.full_name), &[AUTH]).status, 404);
    let (id, full_name) = with_code(&hub)[0].clone();
    let resp = tree_json(&hub, &full_name, &"ab".repeat(20), true);
    assert_eq!((resp.status, resp.json()["message"].clone()), (404, json!("Not Found")));
    assert_eq!(tree_json(&hub, &full_name, "no-such-branch", false).status, 404);
    assert_eq!(get(&hub, &format!("/repos/{full_name}/tarball/no-such-branch"), &[AUTH]).status, 404);
    assert_eq!(download(&format!("{}/{full_name}/legacy.tar.gz/nope", hub.codeload_url())).status, 404);
    assert_eq!(download(&format!("{}/{full_name}/zipball/HEAD", hub.codeload_url())).status, 404);

    // Truncation, non-recursive listings and subtrees.
    let snapshot = hub.snapshot(id).unwrap();
    let resp = tree_json(&hub, &full_name, &snapshot.commit_sha, true);
    let tree = resp.json();
    assert_eq!(tree["tree"].as_array().unwrap().len(), 3.min(snapshot.entries));
    assert_eq!(tree["truncated"], json!(snapshot.entries > 3));
    hub.set_options(Options::default());
    let top = tree_json(&hub, &full_name, &snapshot.commit_sha, false).json();
    let top = top["tree"].as_array().unwrap();
    assert!(top.iter().all(|e| !e["path"].as_str().unwrap().contains('/')));
    if let Some(dir) = top.iter().find(|e| e["type"] == "tree") {
        let sub = tree_json(&hub, &full_name, dir["sha"].as_str().unwrap(), true).json();
        assert_eq!(sub["sha"], dir["sha"]);
        assert!(!sub["tree"].as_array().unwrap().is_empty());
    }
    // The id form, and the core budget.
    let by_id = get(&hub, &format!("/repositories/{id}/git/trees/HEAD?recursive=true"), &[AUTH]);
    assert_eq!(by_id.status, 200);
    let before = by_id.num("x-ratelimit-used");
    let redirect = get(&hub, &format!("/repositories/{id}/tarball/{}", snapshot.commit_sha), &[AUTH]);
    assert_eq!((redirect.status, redirect.num("x-ratelimit-used")), (302, before + 1));
    assert_eq!(redirect.header("x-ratelimit-resource"), Some("core"));
}

#[test]
fn renamed_repositories_redirect() {
    let hub = hub(Options::default());
    let before: Vec<(u64, String)> = with_code(&hub);
    let done = hub.advance_day(1, &DayChanges { renamed: 0.2, ..DayChanges::default() }, 2);
    let (id, old) = before.iter().find(|(id, _)| done.renamed.contains(id)).expect("a rename");
    let resp = get(&hub, &format!("/repos/{old}/git/trees/HEAD?recursive=1"), &[AUTH]);
    assert_eq!(resp.status, 301);
    assert_eq!(
        resp.header("location"),
        Some(format!("{}/repositories/{id}/git/trees/HEAD?recursive=1", hub.url()).as_str())
    );
    let resp = get(&hub, &format!("/repos/{old}/tarball"), &[AUTH]);
    assert_eq!(
        (resp.status, resp.header("location")),
        (301, Some(format!("{}/repositories/{id}/tarball", hub.url()).as_str()))
    );
}

#[test]
fn downloads_can_be_cut_and_served_elsewhere() {
    let hub = hub(Options { fault_download_cut: 1.0, codeload_host: "127.0.0.2".into(), ..Options::default() });
    assert!(hub.codeload_url().starts_with("http://127.0.0.2:"), "{}", hub.codeload_url());
    for (id, full_name) in with_code(&hub).into_iter().take(5) {
        let full = hub.tarball_digest(id).unwrap().1 as usize;
        let got = download(&format!("{}/{full_name}/legacy.tar.gz/HEAD", hub.codeload_url()));
        assert_eq!(got.status, 200);
        assert!(!got.complete && got.body.len() < full, "cut at {} of {full}", got.body.len());
    }
    assert!(hub.downloads().iter().all(|d| d.cut));
}

#[test]
fn big_archives_stream() {
    let probe = hub(Options::default());
    let (id, full_name) = with_code(&probe)[1].clone();
    drop(probe);
    let target = 20_000_000u64;
    let hub = hub(Options { big_archives: vec![(id, target)], ..Options::default() });
    let snapshot = hub.snapshot(id).unwrap();
    let tree = tree_json(&hub, &full_name, "HEAD", true).json();
    let big = tree["tree"].as_array().unwrap().iter().find(|e| e["path"] == format!("assets/big-{id}.bin")).cloned();
    let big_size = big.expect("the big file is listed")["size"].as_u64().unwrap();
    assert!(snapshot.size_bytes > big_size && big_size > target - 100_000);
    let got = download(&format!("{}/{full_name}/legacy.tar.gz/HEAD", hub.codeload_url()));
    assert!(got.complete);
    let bytes = got.body.len() as u64;
    assert!(bytes.abs_diff(target) < target / 100, "{bytes} bytes for {target}");
    assert_eq!(hub.tarball_digest(id), Some((sha256(&got.body), bytes)));
    let (members, _) = untar(&gunzip(&got.body));
    let member = members.iter().find(|m| m.path.ends_with(&format!("assets/big-{id}.bin"))).expect("in the tar");
    assert_eq!(member.size, big_size);
}

#[test]
fn graphql_reports_the_head_commit_date() {
    let hub = hub(Options::default());
    let (id, full_name) = with_code(&hub)[2].clone();
    let (owner, name) = full_name.split_once('/').unwrap();
    let query = format!(
        "{{ repository(owner: \"{owner}\", name: \"{name}\") {{ defaultBranchRef {{ name target {{ oid ... on Commit {{ committedDate }} }} }} }} }}"
    );
    let resp = graphql(&hub, "t", &json!({ "query": query }));
    let target = &resp.json()["data"]["repository"]["defaultBranchRef"]["target"];
    let snapshot = hub.snapshot(id).unwrap();
    assert_eq!(target["oid"], json!(snapshot.commit_sha));
    assert_eq!(target["committedDate"], json!(snapshot.committed_at.to_string()));
}
