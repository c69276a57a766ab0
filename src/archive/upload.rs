//! One archive from the download host into storage, streamed: each chunk is hashed (sha256),
//! counted, handed to the tar counter when the snapshot is counted from the archive, and written
//! to storage. Small archives go in one PUT; larger ones as a multipart upload of 5 MiB parts with
//! at most two in flight, so memory stays flat whatever the size. Nothing is recorded unless the
//! object is complete; an upload that fails or runs over the limit is aborted.

use bytes::{Bytes, BytesMut};
use object_store::path::Path as Key;
use object_store::{ObjectStoreExt, PutPayload, WriteMultipart};

use super::tarcount::TarCounter;
use super::{ArchiveError, Storage};
use crate::github::{Download, DownloadError};

/// Size of each part of a multipart upload (S3's minimum for all but the last).
pub const PART_BYTES: usize = 5 * 1024 * 1024;

/// Parts uploading at once per archive.
const PARTS_IN_FLIGHT: usize = 2;

/// An archive complete in storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// Its URI (`archives.uri`).
    pub uri: String,
    /// sha256 of its bytes, lowercase hex.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
}

/// How an upload ended when nothing failed.
#[derive(Debug)]
pub enum Uploaded {
    /// Complete in storage.
    Stored(Stored),
    /// Larger than the limit: nothing stored.
    TooLarge,
}

/// Why an upload did not finish.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The download failed (worth a new try when transient).
    #[error(transparent)]
    Download(#[from] DownloadError),
    /// Storage refused or failed (after `object_store`'s own retries).
    #[error(transparent)]
    Storage(#[from] ArchiveError),
}

/// The text of a storage error, without the credential-bearing parts (object_store's messages
/// hold the request URL and the service's answer, never the keys).
pub(super) fn storage_reason(error: &object_store::Error) -> String {
    let text = error.to_string();
    text.lines().next().unwrap_or_default().chars().take(400).collect()
}

/// Streams `download` into `key`, stopping at `max_bytes` when set.
pub async fn upload(
    storage: &Storage,
    key: &Key,
    download: &mut Download,
    max_bytes: Option<u64>,
    mut counter: Option<&mut TarCounter>,
) -> Result<Uploaded, UploadError> {
    let fail = |e: object_store::Error| ArchiveError::Storage { key: storage.uri(key), reason: storage_reason(&e) };
    if max_bytes.zip(download.announced_len()).is_some_and(|(max, len)| len > max) {
        return Ok(Uploaded::TooLarge);
    }
    storage.clear_staged(key);
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    let mut total = 0u64;
    let mut first = BytesMut::new();
    let mut multipart: Option<WriteMultipart> = None;
    loop {
        let chunk = match download.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(error) => {
                abort(multipart).await;
                return Err(error.into());
            }
        };
        total += chunk.len() as u64;
        if max_bytes.is_some_and(|max| total > max) {
            abort(multipart).await;
            return Ok(Uploaded::TooLarge);
        }
        digest.update(&chunk);
        if let Some(counter) = counter.as_deref_mut() {
            counter.feed(chunk.clone()).await;
        }
        match multipart.as_mut() {
            Some(writer) => {
                if let Err(error) = writer.wait_for_capacity(PARTS_IN_FLIGHT).await {
                    abort(multipart).await;
                    return Err(fail(error).into());
                }
                writer.put(chunk);
            }
            None => {
                first.extend_from_slice(&chunk);
                if first.len() >= PART_BYTES {
                    let upload = storage.store.put_multipart(key).await.map_err(fail)?;
                    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
                    writer.put(std::mem::take(&mut first).freeze());
                    multipart = Some(writer);
                }
            }
        }
    }
    match multipart {
        Some(writer) => {
            writer.finish().await.map_err(fail)?;
        }
        None => {
            let payload = PutPayload::from(Bytes::from(first));
            storage.store.put(key, payload).await.map_err(fail)?;
        }
    }
    let sha256 = digest.finish().as_ref().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Uploaded::Stored(Stored { uri: storage.uri(key), sha256, bytes: total }))
}

/// Gives up a multipart upload (its parts are dropped by the store).
async fn abort(multipart: Option<WriteMultipart>) {
    if let Some(writer) = multipart
        && let Err(error) = writer.abort().await
    {
        tracing::warn!("could not abort an unfinished archive upload: {}", storage_reason(&error));
    }
}
