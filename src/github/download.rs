//! Downloads from GitHub's download host (code archives): the API answers a tarball request with
//! a redirect to another host, and that host gets no credential. The URL it is given may carry a
//! short-lived token of its own (private repositories), so only its path is ever recorded or
//! shown. The body is read chunk by chunk: an archive of any size never sits in memory.

use std::time::{Duration, Instant};

use bytes::Bytes;

use super::client::GitHub;
use super::{RequestKind, RequestRecord};

/// A download that could not be made or finished.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The download URL is not one octoshard follows (another scheme, or http from an https API).
    #[error("refusing to download {url}: {reason}")]
    Refused {
        /// The URL, without its query.
        url: String,
        /// Why.
        reason: String,
    },
    /// The connection failed, timed out or was cut, or the host answered 5xx: worth another try.
    #[error("download of {url} failed: {reason}")]
    Transient {
        /// The URL, without its query.
        url: String,
        /// What happened.
        reason: String,
    },
    /// The host answered something final (404, 403, ...).
    #[error("download of {url} answered HTTP {status}")]
    Status {
        /// The URL, without its query.
        url: String,
        /// The status.
        status: u16,
    },
}

impl DownloadError {
    /// True when trying again may work.
    pub fn is_transient(&self) -> bool {
        matches!(self, DownloadError::Transient { .. })
    }
}

/// A download in progress: read it with [`Download::chunk`].
pub struct Download {
    response: reqwest::Response,
    url: String,
    record: RequestRecord,
    started: Instant,
    bytes: u64,
}

/// The URL without its query and fragment: what may be logged.
pub(crate) fn shown(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_string()
}

impl GitHub {
    /// Starts downloading `url` (a `Location` the API gave) without any credential.
    pub async fn download(&self, url: &str) -> Result<Download, DownloadError> {
        let show = shown(url);
        let refused = |reason: &str| DownloadError::Refused { url: show.clone(), reason: reason.to_string() };
        let scheme = url.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("https") => {}
            Some("http") if self.api_url().starts_with("http://") => {}
            Some("http") => return Err(refused("plain http from an https API")),
            _ => return Err(refused("not an http(s) URL")),
        }
        let started = Instant::now();
        let mut record = RequestRecord {
            at: crate::time::now_rfc3339(),
            kind: RequestKind::ArchiveDownload,
            path: show.clone(),
            status: 0,
            cost: 0,
            latency_ms: 0,
            waited_ms: 0,
            attempt: 1,
            credential: "none".into(),
            conditional: false,
            error: None,
        };
        let answer = self.download_client().get(url).send().await;
        let response = match answer {
            Ok(response) => response,
            Err(error) => {
                return Err(DownloadError::Transient { url: show, reason: super::client::transport_reason(&error) });
            }
        };
        let status = response.status().as_u16();
        record.status = status;
        if status >= 500 || status == 429 {
            return Err(DownloadError::Transient { url: show, reason: format!("HTTP {status}") });
        }
        if status != 200 {
            return Err(DownloadError::Status { url: show, status });
        }
        Ok(Download { response, url: show, record, started, bytes: 0 })
    }
}

impl Download {
    /// The size the host announced, when it did (GitHub's download host usually does not).
    pub fn announced_len(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// The next piece of the body; `None` at its end.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, DownloadError> {
        match self.response.chunk().await {
            Ok(Some(bytes)) => {
                self.bytes += bytes.len() as u64;
                Ok(Some(bytes))
            }
            Ok(None) => Ok(None),
            Err(error) => Err(DownloadError::Transient {
                url: self.url.clone(),
                reason: format!("{} after {} bytes", super::client::transport_reason(&error), self.bytes),
            }),
        }
    }

    /// The record of this download, its time measured until now.
    pub fn record(&self) -> RequestRecord {
        RequestRecord { latency_ms: self.started.elapsed().as_millis() as u64, ..self.record.clone() }
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// How long the download host may stay silent before a download counts as cut.
pub(crate) fn read_timeout(policy_timeout: Duration) -> Duration {
    policy_timeout.max(Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_path_of_a_download_url_is_shown() {
        assert_eq!(
            shown("https://codeload.github.com/o/r/legacy.tar.gz/abc?token=SECRET"),
            "https://codeload.github.com/o/r/legacy.tar.gz/abc"
        );
        assert_eq!(shown("http://127.0.0.1:9/x#frag"), "http://127.0.0.1:9/x");
    }
}
