//! Attempts of requests that ended in an error. A successful request hands its attempts to the
//! caller, who commits them with the data they paid for; a failed one has no data to go with, so
//! its attempts wait here, in a ledger scoped to the task that sent them (one crawl of one shard),
//! until that crawl records them. Without a scope (planning) they are simply not kept.

use std::cell::RefCell;
use std::future::Future;

use super::RequestRecord;

tokio::task_local! {
    static FAILED: RefCell<Vec<RequestRecord>>;
}

/// Runs `work` with a ledger of failed attempts of its own.
pub async fn scope<F: Future>(work: F) -> F::Output {
    FAILED.scope(RefCell::new(Vec::new()), work).await
}

/// Keeps the attempts of a request that failed for good (no-op outside a [`scope`]).
pub fn spill(records: Vec<RequestRecord>) {
    if records.is_empty() {
        return;
    }
    let _ = FAILED.try_with(|failed| failed.borrow_mut().extend(records));
}

/// Takes the failed attempts kept so far in this task's ledger.
pub fn take() -> Vec<RequestRecord> {
    FAILED.try_with(|failed| std::mem::take(&mut *failed.borrow_mut())).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(path: &str) -> RequestRecord {
        RequestRecord {
            at: String::new(),
            kind: super::super::RequestKind::Other,
            path: path.into(),
            status: 500,
            cost: 0,
            latency_ms: 0,
            waited_ms: 0,
            conditional: false,
            attempt: 1,
            credential: "token-1".into(),
            error: None,
        }
    }

    #[tokio::test]
    async fn each_scope_keeps_its_own_failures() {
        spill(vec![record("/outside")]);
        let inner = scope(async {
            spill(vec![record("/a"), record("/b")]);
            let nested = tokio::spawn(scope(async {
                spill(vec![record("/c")]);
                take()
            }));
            let nested = nested.await.unwrap();
            (take(), nested, take())
        })
        .await;
        let paths = |records: &[RequestRecord]| records.iter().map(|r| r.path.clone()).collect::<Vec<_>>();
        assert_eq!(paths(&inner.0), ["/a", "/b"]);
        assert_eq!(paths(&inner.1), ["/c"]);
        assert!(inner.2.is_empty());
        assert!(take().is_empty());
    }
}
