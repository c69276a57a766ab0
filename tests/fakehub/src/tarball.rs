//! A commit's `.tar.gz` as GitHub's codeload serves it (`git archive`'s
//! layout), generated chunk by chunk so even a 500 MB archive never sits in
//! memory. The tar: a pax global header (`pax_global_header`, typeflag `g`,
//! record `52 comment=<commit sha>\n`), the directory `{owner}-{repo}-{sha7}/`,
//! then every directory and blob of the tree in git's order (`code_tree.rs`):
//! ustar headers with uid/gid 0, user/group `root`, mtime = the commit's
//! committer date, modes as `git archive` writes them with its default umask
//! 002 (files 0664, executables 0775, directories 0775, symlinks 0777,
//! typeflag `2` with the target as linkname and size 0); paths longer than
//! 100 bytes use the ustar prefix field (or a pax `path` record). The end is
//! git's: zeros up to a multiple of 10240 bytes, at least two 512-byte blocks.
//! The gzip: no name, mtime 0, OS 3 (Unix), deflate level 6 (miniz_oxide,
//! pinned by the lockfile) or, when the tree has a big pseudo-random file,
//! stored blocks of at most 65,535 bytes (written here, at memory speed), so
//! the bytes only depend on the tree.

use crate::code_tree::{CodeTree, Content, Kind, Mode};
use crate::hash::mix;
use miniz_oxide::deflate::core::{
    CompressorOxide, TDEFLFlush, TDEFLStatus, compress_to_output, create_comp_flags_from_zip_params,
};

const BLOCK: usize = 512;
const RECORD: u64 = 10_240;
/// Tar bytes produced per step (and about the largest chunk sent).
pub(crate) const CHUNK: usize = 64 * 1024;

/// `{owner}-{repo}-{sha7}`: the archive's top directory and file name stem.
pub(crate) fn stem(full_name: &str, commit_sha: &str) -> String {
    format!("{}-{}", full_name.replacen('/', "-", 1), &commit_sha[..7.min(commit_sha.len())])
}

/// About how many tar bytes these blobs take (headers and padded bodies):
/// sizes a big file (`code_tree.rs`).
pub(crate) fn tar_bytes_of<'a>(blobs: impl Iterator<Item = (&'a str, Mode, u64)>) -> u64 {
    let mut dirs = std::collections::BTreeSet::new();
    let mut total = 3 * BLOCK as u64;
    for (path, mode, size) in blobs {
        let mut at = path;
        while let Some((dir, _)) = at.rsplit_once('/') {
            dirs.insert(dir.to_string());
            at = dir;
        }
        total += BLOCK as u64 + if mode == Mode::Link { 0 } else { size.div_ceil(BLOCK as u64) * BLOCK as u64 };
    }
    total + dirs.len() as u64 * BLOCK as u64
}

/// A text blob's bytes: lines of words, exactly `size` bytes, ending in a newline.
pub(crate) fn text(seed: u64, size: u64) -> Vec<u8> {
    let size = size as usize;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut out = Vec::with_capacity(size + 32);
    while out.len() < size {
        let words = rng.usize(1..=10);
        if rng.u8(..8) == 0 {
            out.extend_from_slice(b"    ");
        }
        for w in 0..words {
            if w > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(crate::words::NAME_WORDS[rng.usize(..crate::words::NAME_WORDS.len())].as_bytes());
        }
        out.push(b'\n');
    }
    out.truncate(size);
    if let Some(last) = out.last_mut() {
        *last = b'\n';
    }
    out
}

/// Fill `out` with pseudo-random bytes: block `index` (of 8 bytes) of stream `seed`.
fn random_fill(seed: u64, first_word: u64, out: &mut [u8]) {
    for (i, word) in out.chunks_mut(8).enumerate() {
        let v = mix(seed, first_word + i as u64);
        word.copy_from_slice(&v.to_le_bytes()[..word.len()]);
    }
}

/// Where the tar stream is.
enum Step {
    Global,
    Root,
    /// The header of entry `n`.
    Header(usize),
    /// The body of entry `n`, `done` bytes written.
    Body(usize, u64),
    Trailer,
    Done,
}

/// The tar bytes of a tree, produced in pieces.
pub(crate) struct TarStream {
    tree: CodeTree,
    stem: String,
    step: Step,
    written: u64,
}

impl TarStream {
    pub fn new(tree: CodeTree, full_name: &str) -> TarStream {
        let stem = stem(full_name, &tree.commit_sha);
        TarStream { tree, stem, step: Step::Global, written: 0 }
    }

    pub fn done(&self) -> bool {
        matches!(self.step, Step::Done)
    }

    fn push(&mut self, out: &mut Vec<u8>, bytes: &[u8]) {
        out.extend_from_slice(bytes);
        self.written += bytes.len() as u64;
    }

    /// Append tar bytes to `out` until it holds at least `max` bytes or the stream ends.
    pub fn fill(&mut self, out: &mut Vec<u8>, max: usize) {
        let mtime = self.tree.committed_at.0.max(0) as u64;
        while out.len() < max {
            match self.step {
                Step::Global => {
                    let record = pax_record("comment", &self.tree.commit_sha);
                    let mut h = header("pax_global_header", 0o666, record.len() as u64, mtime, b'g', "");
                    h.extend_from_slice(&record);
                    pad(&mut h);
                    self.push(out, &h);
                    self.step = Step::Root;
                }
                Step::Root => {
                    let h = entry_header(&format!("{}/", self.stem), 0o775, 0, mtime, b'5', "", &self.tree.commit_sha);
                    self.push(out, &h);
                    self.step = Step::Header(0);
                }
                Step::Header(n) if n >= self.tree.entries.len() => self.step = Step::Trailer,
                Step::Header(n) => {
                    let e = &self.tree.entries[n];
                    let h = match &e.kind {
                        Kind::Tree => {
                            entry_header(&format!("{}/{}/", self.stem, e.path), 0o775, 0, mtime, b'5', "", &e.sha)
                        }
                        Kind::Blob { mode: Mode::Link, content, .. } => {
                            let target = match content {
                                Content::Link(t) => t.as_str(),
                                _ => "",
                            };
                            entry_header(&format!("{}/{}", self.stem, e.path), 0o777, 0, mtime, b'2', target, &e.sha)
                        }
                        Kind::Blob { mode, size, .. } => {
                            let perm = if *mode == Mode::Exec { 0o775 } else { 0o664 };
                            entry_header(&format!("{}/{}", self.stem, e.path), perm, *size, mtime, b'0', "", &e.sha)
                        }
                    };
                    let next = match &e.kind {
                        Kind::Blob { mode, size, .. } if *mode != Mode::Link && *size > 0 => Step::Body(n, 0),
                        _ => Step::Header(n + 1),
                    };
                    self.push(out, &h);
                    self.step = next;
                }
                Step::Body(n, done) => {
                    let Kind::Blob { size, content, .. } = &self.tree.entries[n].kind else {
                        self.step = Step::Header(n + 1);
                        continue;
                    };
                    let size = *size;
                    match content {
                        Content::Random(seed) => {
                            // Whole 8-byte words, so any piece continues the same stream.
                            let room = (max - out.len()).max(BLOCK) as u64 & !7;
                            let take = room.min(size - done);
                            let start = out.len();
                            out.resize(start + take.next_multiple_of(8) as usize, 0);
                            random_fill(*seed, done / 8, &mut out[start..]);
                            out.truncate(start + take as usize);
                            self.written += take;
                            if done + take < size {
                                self.step = Step::Body(n, done + take);
                                continue;
                            }
                        }
                        Content::Text(seed) => {
                            let bytes = text(*seed, size);
                            self.push(out, &bytes);
                        }
                        Content::Link(_) => {}
                    }
                    let tail = (BLOCK - (size % BLOCK as u64) as usize) % BLOCK;
                    self.push(out, &[0u8; BLOCK][..tail]);
                    self.step = Step::Header(n + 1);
                }
                Step::Trailer => {
                    let mut tail = RECORD - self.written % RECORD;
                    if tail < 2 * BLOCK as u64 {
                        tail += RECORD;
                    }
                    self.push(out, &vec![0u8; tail as usize]);
                    self.step = Step::Done;
                }
                Step::Done => return,
            }
        }
    }
}

/// `"{len} {key}={value}\n"`, len counting itself.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let body = key.len() + value.len() + 3;
    let mut len = body + body.to_string().len();
    if len.to_string().len() != body.to_string().len() {
        len += 1;
    }
    format!("{len} {key}={value}\n").into_bytes()
}

fn pad(bytes: &mut Vec<u8>) {
    bytes.resize(bytes.len().next_multiple_of(BLOCK), 0);
}

/// A header as `git archive` writes it for `path`, preceded by a pax
/// extended header when the path, link target or size do not fit ustar.
fn entry_header(path: &str, mode: u32, size: u64, mtime: u64, typeflag: u8, link: &str, sha: &str) -> Vec<u8> {
    let mut records = Vec::new();
    let (mut prefix, mut name) = ("", path.to_string());
    if path.len() > 100 {
        let split = path_prefix(path, 155);
        if split > 0 && path.len() - split - 1 <= 100 {
            prefix = &path[..split];
            name = path[split + 1..].to_string();
        } else {
            name = format!("{sha}.data");
            records.extend(pax_record("path", path));
        }
    }
    let mut linkname = link.to_string();
    if link.len() > 100 {
        linkname = format!("see {sha}.paxheader");
        records.extend(pax_record("linkpath", link));
    }
    let mut size_field = size;
    if size >= 0o77_777_777_777 {
        records.extend(pax_record("size", &size.to_string()));
        size_field = 0;
    }
    let mut out = Vec::new();
    if !records.is_empty() {
        out = header(&format!("{sha}.paxheader"), 0o666, records.len() as u64, mtime, b'x', "");
        out.extend_from_slice(&records);
        pad(&mut out);
    }
    let mut h = header(&name, mode, size_field, mtime, typeflag, &linkname);
    h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
    set_checksum(&mut h);
    out.extend_from_slice(&h);
    out
}

/// git's `get_path_prefix`: where to split `path` so the prefix fits `max`.
fn path_prefix(path: &str, max: usize) -> usize {
    let bytes = path.as_bytes();
    let mut i = bytes.len();
    if i > 1 && bytes[i - 1] == b'/' {
        i -= 1;
    }
    i = i.min(max);
    loop {
        if i == 0 {
            return 0;
        }
        i -= 1;
        if i == 0 || bytes[i] == b'/' {
            return i;
        }
    }
}

/// One 512-byte ustar header (`git archive`'s fields; checksum set).
fn header(name: &str, mode: u32, size: u64, mtime: u64, typeflag: u8, link: &str) -> Vec<u8> {
    let mut h = vec![0u8; BLOCK];
    let put = |h: &mut Vec<u8>, at: usize, bytes: &[u8]| h[at..at + bytes.len()].copy_from_slice(bytes);
    put(&mut h, 0, &name.as_bytes()[..name.len().min(100)]);
    put(&mut h, 100, format!("{:07o}", mode & 0o7777).as_bytes());
    put(&mut h, 108, b"0000000");
    put(&mut h, 116, b"0000000");
    put(&mut h, 124, format!("{size:011o}").as_bytes());
    put(&mut h, 136, format!("{mtime:011o}").as_bytes());
    h[156] = typeflag;
    put(&mut h, 157, &link.as_bytes()[..link.len().min(100)]);
    put(&mut h, 257, b"ustar\0");
    put(&mut h, 263, b"00");
    put(&mut h, 265, b"root");
    put(&mut h, 297, b"root");
    put(&mut h, 329, b"0000000");
    put(&mut h, 337, b"0000000");
    set_checksum(&mut h);
    h
}

fn set_checksum(h: &mut [u8]) {
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:07o}\0").as_bytes());
}

/// A tree's `.tar.gz`, produced chunk by chunk.
pub(crate) struct GzStream {
    tar: TarStream,
    /// `None`: level 0, stored blocks written here (far faster than miniz's).
    deflate: Option<Box<CompressorOxide>>,
    crc: crc32fast::Hasher,
    length: u64,
    level: u8,
    started: bool,
    finished: bool,
    input: Vec<u8>,
    /// Tar bytes (for a download cut's position).
    pub tar_total: u64,
}

impl GzStream {
    pub fn new(tree: CodeTree, full_name: &str) -> GzStream {
        let stored = tree.entries.iter().any(|e| matches!(e.kind, Kind::Blob { content: Content::Random(_), .. }));
        let tar_total = tar_bytes_of(tree.blobs().map(|(e, mode, size)| (e.path.as_str(), mode, size)));
        let level = if stored { 0 } else { 6 };
        GzStream {
            tar: TarStream::new(tree, full_name),
            deflate: (level > 0)
                .then(|| Box::new(CompressorOxide::new(create_comp_flags_from_zip_params(i32::from(level), -15, 0)))),
            crc: crc32fast::Hasher::new(),
            length: 0,
            level,
            started: false,
            finished: false,
            input: Vec::with_capacity(CHUNK + BLOCK),
            tar_total,
        }
    }

    /// Stored (level 0) rather than compressed.
    pub fn stored(&self) -> bool {
        self.level == 0
    }

    /// The next piece of the `.tar.gz` (`None` after the last).
    pub fn next_chunk(&mut self) -> Option<Vec<u8>> {
        if self.finished {
            return None;
        }
        let mut out = Vec::with_capacity(CHUNK + 64);
        if !self.started {
            self.started = true;
            // zlib's XFL: 4 for the fastest levels, 0 for the default one.
            let xfl = if self.level < 2 { 4 } else { 0 };
            out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
        }
        loop {
            self.input.clear();
            self.tar.fill(&mut self.input, if self.deflate.is_some() { CHUNK } else { 4 * STORED_BLOCK });
            self.crc.update(&self.input);
            self.length += self.input.len() as u64;
            let flush = if self.tar.done() { TDEFLFlush::Finish } else { TDEFLFlush::None };
            match self.deflate.as_deref_mut() {
                Some(deflate) => {
                    let mut rest: &[u8] = &self.input;
                    loop {
                        let (status, used) = compress_to_output(deflate, rest, flush, |bytes| {
                            out.extend_from_slice(bytes);
                            true
                        });
                        rest = &rest[used.min(rest.len())..];
                        if status != TDEFLStatus::Okay || rest.is_empty() {
                            break;
                        }
                    }
                }
                None => stored_blocks(&self.input, flush == TDEFLFlush::Finish, &mut out),
            }
            if flush == TDEFLFlush::Finish {
                out.extend_from_slice(&self.crc.clone().finalize().to_le_bytes());
                out.extend_from_slice(&(self.length as u32).to_le_bytes());
                self.finished = true;
                return Some(out);
            }
            if out.len() >= CHUNK / 4 {
                return Some(out);
            }
        }
    }
}

/// The largest stored deflate block.
pub(crate) const STORED_BLOCK: usize = 65_535;

/// `input` as stored (uncompressed) deflate blocks; `last` ends the stream
/// with an empty final block.
fn stored_blocks(input: &[u8], last: bool, out: &mut Vec<u8>) {
    for block in input.chunks(STORED_BLOCK) {
        let len = block.len() as u16;
        out.push(0);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    if last {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
}

/// SHA-256 (hex) and length of a tree's `.tar.gz`, streamed.
pub(crate) fn digest(tree: CodeTree, full_name: &str) -> (String, u64) {
    let mut stream = GzStream::new(tree, full_name);
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let mut bytes = 0u64;
    while let Some(chunk) = stream.next_chunk() {
        ctx.update(&chunk);
        bytes += chunk.len() as u64;
    }
    (ctx.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect(), bytes)
}

impl crate::Universe {
    /// (SHA-256 hex, bytes) of the current head's `.tar.gz` exactly as the
    /// download host serves it (no big archives): `None` for unknown,
    /// hidden, deleted and empty repositories. Streams, so it is cheap in
    /// memory even for big archives.
    pub fn tarball_digest(&self, repo_id: u64) -> Option<(String, u64)> {
        self.tarball_digest_with(repo_id, &[])
    }

    /// [`crate::Universe::tarball_digest`] with `Options::big_archives` applied.
    pub fn tarball_digest_with(&self, repo_id: u64, big_archives: &[(u64, u64)]) -> Option<(String, u64)> {
        let tree = self.head_tree(repo_id, big_archives)?;
        let repo = self.visible(repo_id)?;
        Some(digest(tree, &repo.full_name))
    }
}
