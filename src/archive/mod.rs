//! Code archives in cold storage: each repository's default branch at one commit, as GitHub's
//! tarball, stored under a content-addressed key (`<prefix>/<repo id>/<sha>.tar.gz`) in a local
//! folder or an S3-compatible bucket, with its sha256 and size recorded in `archives`. The crawl
//! decides what to archive (`crawl::code`); this module knows where archives go and how bytes get
//! there.

pub mod tarcount;
mod target;
mod upload;

pub use target::{ArchiveTarget, Storage};
pub use upload::{PART_BYTES, Stored, UploadError, Uploaded, upload};

/// A storage target that cannot be used, or an object it could not write.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The target cannot be opened or does not answer.
    #[error("cannot use archive target {target}: {reason}")]
    Target {
        /// The target as given.
        target: String,
        /// Why.
        reason: String,
    },
    /// Writing one object failed.
    #[error("cannot store archive {key}: {reason}")]
    Storage {
        /// The object's URI.
        key: String,
        /// Why.
        reason: String,
    },
}

/// Parses a size: bytes (`1048576`), or a number with a unit (`500MB`, `2GiB`, `10k`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("`{text}` is not a size (e.g. 500MB, 2GiB, 1048576)"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("`{other}` is not a size unit (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)")),
    };
    let bytes = (number * scale).round();
    if !(1.0..9.0e18).contains(&bytes) {
        return Err(format!("`{text}` is not a usable size"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_parse_with_and_without_units() {
        use super::parse_size;
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("2GiB"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("1.5 kB"), Ok(1500));
        for bad in ["", "MB", "5 parsecs", "0", "-3"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
