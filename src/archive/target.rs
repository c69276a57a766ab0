//! Where archives go: a local folder or an S3-compatible bucket, named by one `--archive-to`
//! value, opened through `object_store` (credentials from the usual AWS environment, an endpoint
//! override for MinIO, R2 or Ceph in `AWS_ENDPOINT_URL`).

use std::path::PathBuf;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path as Key;

use super::ArchiveError;

/// A parsed `--archive-to` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArchiveTarget {
    /// A local folder (`file:///data/archives`, or a plain path).
    Folder(PathBuf),
    /// An S3 bucket and a key prefix (`s3://bucket/prefix`).
    S3 {
        /// The bucket.
        bucket: String,
        /// Keys start with this (no leading or trailing slash; may be empty).
        prefix: String,
    },
}

impl ArchiveTarget {
    /// Parses `file:///path`, `s3://bucket[/prefix]` or a plain folder path.
    pub fn parse(text: &str) -> Result<ArchiveTarget, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty; give a folder, file:///path or s3://bucket/prefix".into());
        }
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.');
            if bucket.len() < 3 || bucket.len() > 63 || !bucket.chars().all(valid) {
                return Err(format!("`{bucket}` is not an S3 bucket name (3-63 of a-z 0-9 . -)"));
            }
            let prefix = prefix.trim_matches('/');
            if prefix.split('/').any(|part| part == "." || part == "..") || prefix.contains("//") {
                return Err(format!("`{prefix}` is not a key prefix"));
            }
            return Ok(ArchiveTarget::S3 { bucket: bucket.to_string(), prefix: prefix.to_string() });
        }
        if let Some(path) = text.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err("a file:// target needs an absolute path (file:///data/archives)".into());
            }
            return Ok(ArchiveTarget::Folder(PathBuf::from(path)));
        }
        if text.contains("://") {
            return Err(format!("`{text}` is not a folder, file:///path or s3://bucket/prefix"));
        }
        Ok(ArchiveTarget::Folder(PathBuf::from(text)))
    }
}

impl std::fmt::Display for ArchiveTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArchiveTarget::Folder(path) => write!(f, "{}", path.display()),
            ArchiveTarget::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            ArchiveTarget::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// An opened target: the store, where keys start, and how a key is named for the database.
pub struct Storage {
    pub(super) store: Arc<dyn ObjectStore>,
    prefix: String,
    /// `file:///abs/folder` or `s3://bucket`: a key's URI is this, a slash and the key.
    uri_base: String,
    /// The folder of a local target (to clear what a killed upload left there).
    pub(super) folder: Option<PathBuf>,
    shown: String,
}

impl Storage {
    /// Opens a target: creates a local folder, or builds an S3 client from the environment.
    pub fn open(target: &ArchiveTarget) -> Result<Storage, ArchiveError> {
        let fail = |reason: String| ArchiveError::Target { target: target.to_string(), reason };
        match target {
            ArchiveTarget::Folder(path) => {
                std::fs::create_dir_all(path).map_err(|e| fail(e.to_string()))?;
                let folder = std::fs::canonicalize(path).map_err(|e| fail(e.to_string()))?;
                let store =
                    object_store::local::LocalFileSystem::new_with_prefix(&folder).map_err(|e| fail(e.to_string()))?;
                Ok(Storage {
                    store: Arc::new(store),
                    prefix: String::new(),
                    uri_base: format!("file://{}", folder.display()),
                    shown: folder.display().to_string(),
                    folder: Some(folder),
                })
            }
            ArchiveTarget::S3 { bucket, prefix } => {
                check_aws_environment().map_err(fail)?;
                let mut builder = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
                let endpoint = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"]
                    .iter()
                    .find_map(|name| std::env::var(name).ok().filter(|v| !v.is_empty()));
                if let Some(endpoint) = endpoint {
                    // A plain-http endpoint was asked for by name (a local MinIO): allow it.
                    builder = builder.with_allow_http(endpoint.starts_with("http://")).with_endpoint(endpoint);
                }
                let store = builder.build().map_err(|e| fail(e.to_string()))?;
                Ok(Storage {
                    store: Arc::new(store),
                    prefix: prefix.clone(),
                    uri_base: format!("s3://{bucket}"),
                    shown: target.to_string(),
                    folder: None,
                })
            }
        }
    }

    /// The content-addressed key of a repository's archive at a commit:
    /// `<prefix>/<repo id>/<sha>.tar.gz`.
    pub fn key(&self, repo_id: u64, sha: &str) -> Key {
        if self.prefix.is_empty() {
            Key::from(format!("{repo_id}/{sha}.tar.gz"))
        } else {
            Key::from(format!("{}/{repo_id}/{sha}.tar.gz", self.prefix))
        }
    }

    /// The URI stored in `archives.uri` for a key.
    pub fn uri(&self, key: &Key) -> String {
        format!("{}/{key}", self.uri_base)
    }

    /// The target as shown to users.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Checks that the target answers (a bucket that exists, credentials it takes) before a crawl
    /// spends anything: one listing request.
    pub async fn check(&self) -> Result<(), ArchiveError> {
        use futures_util::TryStreamExt;
        let prefix = (!self.prefix.is_empty()).then(|| Key::from(self.prefix.as_str()));
        let mut listing = self.store.list(prefix.as_ref());
        listing
            .try_next()
            .await
            .map(drop)
            .map_err(|e| ArchiveError::Target { target: self.shown.clone(), reason: super::upload::storage_reason(&e) })
    }

    /// Removes what an upload of `key` killed earlier left in a local folder (`object_store`
    /// stages a local upload as `<file>#<n>` and renames it when complete).
    pub(super) fn clear_staged(&self, key: &Key) {
        let Some(folder) = &self.folder else { return };
        let file = folder.join(key.as_ref());
        let (Some(dir), Some(name)) = (file.parent(), file.file_name().and_then(|n| n.to_str())) else { return };
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let other = entry.file_name();
            let Some(other) = other.to_str() else { continue };
            let staged = other
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('#'))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if staged {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Refuses AWS variables that are set but empty: an empty key is a mistake, not "no key".
fn check_aws_environment() -> Result<(), String> {
    for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_ENDPOINT_URL"] {
        if std::env::var_os(name).is_some_and(|v| v.is_empty()) {
            return Err(format!("{name} is set but empty"));
        }
    }
    let id = std::env::var_os("AWS_ACCESS_KEY_ID").is_some();
    let secret = std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some();
    if id != secret {
        let missing = if id { "AWS_SECRET_ACCESS_KEY" } else { "AWS_ACCESS_KEY_ID" };
        return Err(format!("{missing} is not set (both keys are needed)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_bad_ones_say_why() {
        assert_eq!(ArchiveTarget::parse("file:///data/a").unwrap(), ArchiveTarget::Folder("/data/a".into()));
        assert_eq!(ArchiveTarget::parse("archives").unwrap(), ArchiveTarget::Folder("archives".into()));
        assert_eq!(
            ArchiveTarget::parse("s3://my-bucket/code/daily/").unwrap(),
            ArchiveTarget::S3 { bucket: "my-bucket".into(), prefix: "code/daily".into() }
        );
        assert_eq!(
            ArchiveTarget::parse("s3://my-bucket").unwrap(),
            ArchiveTarget::S3 { bucket: "my-bucket".into(), prefix: String::new() }
        );
        for (bad, says) in [
            ("", "empty"),
            ("s3://A_B/x", "bucket name"),
            ("s3://ok-bucket/../x", "key prefix"),
            ("file://relative", "absolute"),
            ("gs://bucket", "s3://bucket/prefix"),
        ] {
            let error = ArchiveTarget::parse(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn keys_are_content_addressed_under_the_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::open(&ArchiveTarget::Folder(dir.path().join("a"))).unwrap();
        let key = storage.key(42, "abc");
        assert_eq!(key.as_ref(), "42/abc.tar.gz");
        let folder = std::fs::canonicalize(dir.path().join("a")).unwrap();
        assert_eq!(storage.uri(&key), format!("file://{}/42/abc.tar.gz", folder.display()));
    }
}
