//! Files that cross job boundaries: atomic writes (temporary file in the same folder, fsync,
//! rename), gzip compression of finished shards, and detection of what an input file really is.
//! A reader never sees half a file: either the old one or the new one.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

/// What the first bytes of a file say it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A SQLite database.
    Sqlite,
    /// A gzip stream (a compressed shard, if it is one of ours).
    Gzip,
    /// Anything else.
    Other,
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads the magic bytes of `path`; extensions lie, headers do not.
pub fn detect(path: &Path) -> io::Result<FileKind> {
    let mut head = [0u8; 16];
    let mut file = File::open(path)?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..])? {
            0 => break,
            n => read += n,
        }
    }
    Ok(kind_of(&head[..read]))
}

/// Classifies a file from its first bytes.
pub fn kind_of(head: &[u8]) -> FileKind {
    if head.starts_with(SQLITE_MAGIC) {
        FileKind::Sqlite
    } else if head.starts_with(&GZIP_MAGIC) {
        FileKind::Gzip
    } else {
        FileKind::Other
    }
}

/// A temporary path beside `path` (same folder, so the final rename is atomic).
fn temporary_beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    tempfile::Builder::new().prefix(&format!(".{name}.")).suffix(".tmp").tempfile_in(dir)
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut temporary = temporary_beside(path)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Compresses `source` into `destination` atomically; returns the compressed size.
pub fn gzip_atomically(source: &Path, destination: &Path) -> io::Result<u64> {
    let started = std::time::Instant::now();
    let temporary = temporary_beside(destination)?;
    {
        let mut input = BufReader::with_capacity(1 << 20, File::open(source)?);
        let mut encoder = GzEncoder::new(BufWriter::with_capacity(1 << 20, temporary.as_file()), Compression::new(6));
        io::copy(&mut input, &mut encoder)?;
        encoder.finish()?.flush()?;
    }
    temporary.as_file().sync_all()?;
    let size = temporary.as_file().metadata()?.len();
    temporary.persist(destination).map_err(|e| e.error)?;
    tracing::debug!(
        bytes_in = std::fs::metadata(source).map(|m| m.len()).unwrap_or(0),
        bytes_out = size,
        ms = started.elapsed().as_millis() as u64,
        backend = GZIP_BACKEND,
        "compressed {}",
        destination.display()
    );
    Ok(size)
}

/// The flate2 backend this build compresses with (for the benchmarks' figures).
const GZIP_BACKEND: &str = "zlib-rs";

/// Decompresses `source` into `destination`, checking the gzip CRC and length on the way
/// (a truncated or corrupted artifact fails here, by name).
pub fn gunzip(source: &Path, destination: &Path) -> io::Result<u64> {
    gunzip_sided(source, destination).map_err(|error| match error {
        GunzipError::Source(e) | GunzipError::Destination(e) => e,
    })
}

/// Which side of an unpacking failed: a bad input is the input's fault, a full disk is not.
#[derive(Debug)]
pub enum GunzipError {
    /// Reading or decoding the gzip file failed.
    Source(io::Error),
    /// Writing the unpacked file failed.
    Destination(io::Error),
}

/// [`gunzip`], telling a bad input from a failed write.
pub fn gunzip_sided(source: &Path, destination: &Path) -> Result<u64, GunzipError> {
    let file = File::open(source).map_err(GunzipError::Source)?;
    let mut decoder = MultiGzDecoder::new(BufReader::with_capacity(1 << 20, file));
    let mut output = BufWriter::with_capacity(1 << 20, File::create(destination).map_err(GunzipError::Destination)?);
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let read = match decoder.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(GunzipError::Source(e)),
        };
        output.write_all(&buffer[..read]).map_err(GunzipError::Destination)?;
        size += read as u64;
    }
    output.flush().map_err(GunzipError::Destination)?;
    Ok(size)
}

/// A SQLite file to read `path` as: the file itself, or for gzip a temporary unpacked copy
/// (deleted when the returned guard drops). The error says what the file is instead.
pub fn readable_sqlite(path: &Path) -> Result<(std::path::PathBuf, Option<tempfile::TempPath>), String> {
    match detect(path).map_err(|e| e.to_string())? {
        FileKind::Sqlite => Ok((path.to_path_buf(), None)),
        FileKind::Gzip => {
            let temporary = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?.into_temp_path();
            gunzip(path, &temporary).map_err(|e| format!("not a valid gzip file ({e})"))?;
            Ok((temporary.to_path_buf(), Some(temporary)))
        }
        FileKind::Other => Err("not a SQLite database or a gzip file".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_round_trips_and_truncation_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("a.bin");
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        std::fs::write(&plain, &data).unwrap();
        let packed = dir.path().join("a.bin.gz");
        gzip_atomically(&plain, &packed).unwrap();
        assert_eq!(detect(&packed).unwrap(), FileKind::Gzip);
        let back = dir.path().join("b.bin");
        gunzip(&packed, &back).unwrap();
        assert_eq!(std::fs::read(&back).unwrap(), data);

        let bytes = std::fs::read(&packed).unwrap();
        std::fs::write(&packed, &bytes[..bytes.len() / 2]).unwrap();
        assert!(gunzip(&packed, &back).is_err());
        // Only the final file is left: no temporary files beside it.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
    }

    #[test]
    fn kinds_come_from_magic_bytes() {
        assert_eq!(kind_of(b"SQLite format 3\0rest"), FileKind::Sqlite);
        assert_eq!(kind_of(&[0x1f, 0x8b, 8]), FileKind::Gzip);
        assert_eq!(kind_of(b"hello"), FileKind::Other);
        assert_eq!(kind_of(b""), FileKind::Other);
    }
}
