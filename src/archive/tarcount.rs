//! Counting a snapshot's files while its archive streams by: the `.tar.gz` chunks go through a
//! bounded channel to a thread that gunzips and reads the tar headers (skipping the data), so a
//! crawl that collects both the snapshot and the archive needs no git-tree request. Files are what
//! git calls blobs: regular files and symlinks (a symlink's size is its target's length, as git
//! counts it); directories, submodules and GitHub's `pax_global_header` are not files.

use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use bytes::Bytes;

/// Chunks queued for the counting thread before the download waits for it.
const QUEUE: usize = 8;

/// Files and their total size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FileCount {
    /// Files (regular files and symlinks).
    pub files: u64,
    /// Their sizes summed.
    pub bytes: u64,
}

/// A counter fed with the archive's bytes.
pub struct TarCounter {
    sender: Option<SyncSender<Bytes>>,
    thread: Option<tokio::task::JoinHandle<Result<FileCount, String>>>,
}

impl TarCounter {
    /// Starts the counting thread.
    pub fn start() -> TarCounter {
        let (sender, receiver) = sync_channel(QUEUE);
        let thread = tokio::task::spawn_blocking(move || count(ChunkReader { receiver, current: Bytes::new() }));
        TarCounter { sender: Some(sender), thread: Some(thread) }
    }

    /// Hands the thread the next chunk (waits while the thread is behind).
    pub async fn feed(&mut self, chunk: Bytes) {
        let Some(sender) = &self.sender else { return };
        // The thread ends early on a bad archive; its error comes out of `finish`.
        if let Err(std::sync::mpsc::TrySendError::Full(chunk)) = sender.try_send(chunk) {
            let sender = sender.clone();
            let _ = tokio::task::spawn_blocking(move || sender.send(chunk)).await;
        }
    }

    /// The count, once every chunk was fed; an error when the bytes were not a tar.gz.
    pub async fn finish(mut self) -> Result<FileCount, String> {
        self.sender = None;
        match self.thread.take() {
            Some(thread) => thread.await.map_err(|e| format!("the counting thread failed: {e}"))?,
            None => Err("already finished".into()),
        }
    }
}

/// Reads the chunks as one byte stream.
struct ChunkReader {
    receiver: Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.receiver.recv() {
                Ok(chunk) => self.current = chunk,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current = self.current.slice(n..);
        Ok(n)
    }
}

/// Counts the files of a `.tar.gz` read from `input`.
fn count(input: impl Read) -> Result<FileCount, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(input));
    let mut total = FileCount::default();
    for entry in archive.entries().map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| format!("not a tar.gz archive: {e}"))?;
        let kind = entry.header().entry_type();
        if kind.is_file() || kind.is_contiguous() {
            total.files += 1;
            total.bytes += entry.size();
        } else if kind.is_symlink() {
            total.files += 1;
            total.bytes += entry.link_name_bytes().map_or(0, |name| name.len() as u64);
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tarball() -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
        let mut pax = tar::Header::new_ustar();
        pax.set_entry_type(tar::EntryType::XGlobalHeader);
        pax.set_size(52);
        pax.set_cksum();
        builder
            .append_data(&mut pax, "pax_global_header", &b"52 comment=0123456789012345678901234567890123456789\n"[..])
            .unwrap();
        let mut dir = tar::Header::new_ustar();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_size(0);
        dir.set_cksum();
        builder.append_data(&mut dir, "o-r-0123456/", &[][..]).unwrap();
        for (path, body) in [("o-r-0123456/README.md", &b"hello"[..]), ("o-r-0123456/src/a.rs", &[7u8; 1000][..])] {
            let mut header = tar::Header::new_ustar();
            header.set_size(body.len() as u64);
            header.set_cksum();
            builder.append_data(&mut header, path, body).unwrap();
        }
        let mut link = tar::Header::new_ustar();
        link.set_entry_type(tar::EntryType::Symlink);
        link.set_size(0);
        builder.append_link(&mut link, "o-r-0123456/latest", "src/a.rs").unwrap();
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn files_and_symlinks_count_and_the_rest_does_not() {
        let bytes = tarball();
        let mut counter = TarCounter::start();
        for piece in bytes.chunks(100) {
            counter.feed(Bytes::copy_from_slice(piece)).await;
        }
        assert_eq!(counter.finish().await.unwrap(), FileCount { files: 3, bytes: 5 + 1000 + 8 });
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cut_archive_is_an_error_not_a_count() {
        let bytes = tarball();
        let mut counter = TarCounter::start();
        counter.feed(Bytes::copy_from_slice(&bytes[..bytes.len() / 2])).await;
        assert!(counter.finish().await.is_err());
    }
}
