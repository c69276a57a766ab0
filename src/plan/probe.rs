//! Probing the id space through the GitHub layer: where the newest repository is (for `ids:A..`)
//! and how dense each stretch is (for balanced shards). Every probe is one
//! `GET /repositories?since=` page; results are sorted, so the same GitHub gives the same samples
//! and therefore the same plan.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::ids::{Sample, next_probe};
use crate::github::models::MinimalRepository;
use crate::github::{GitHub, GithubError, RequestKind};

/// Probes sent at once during the first, even pass (the GitHub layer caps concurrency further).
const PARALLEL_PROBES: usize = 8;

/// Probes closer than this many ids to a neighbour are not worth their request.
const MIN_PROBE_GAP: u64 = 200;

/// What a probe of `since` found.
#[derive(Clone, Copy, Debug)]
pub struct Probe {
    /// The measured stretch.
    pub sample: Sample,
    /// A `rel="next"` link was present: ids continue after the window.
    pub more: bool,
    /// The highest public id on the page.
    pub newest: Option<u64>,
}

/// One `/repositories?since=` page as a sample.
pub async fn probe(github: &GitHub, since: u64) -> Result<Probe, GithubError> {
    let url = github.url(&format!("/repositories?since={since}"));
    let (response, items) = github.get_json::<Vec<MinimalRepository>>(&url, RequestKind::Probe, None).await?;
    let Some(items) = items else {
        return Err(GithubError::Unexpected { url, reason: format!("HTTP {} while probing", response.status) });
    };
    let next = response.next_link().and_then(|link| crate::github::link::query_number(&link, "since"));
    let newest = items.iter().map(|r| r.id).filter(|id| *id > since).max();
    let end = match next {
        Some(next) => next.max(since) + 1,
        None => newest.map_or(since + 1, |n| n + 1),
    };
    let public = items.iter().filter(|r| r.id > since && r.id < end).count() as u64;
    Ok(Probe { sample: Sample { since, end, public }, more: next.is_some(), newest })
}

/// One past the newest public id at or after `from`: exponential, then binary search (about
/// 2 log2(n) probes). Returns `(end, probes used)`.
pub async fn find_end(github: &GitHub, from: u64) -> Result<(u64, u64), GithubError> {
    let mut probes = 1u64;
    let first = probe(github, from.saturating_sub(1)).await?;
    if !first.more {
        return Ok((first.newest.map_or(from, |n| n + 1), probes));
    }
    // Invariant: public ids exist after `low`; none after `high`.
    let mut low = first.newest.unwrap_or(from).max(from);
    let mut step = 1024u64;
    let mut high = loop {
        let at = low.saturating_add(step);
        probes += 1;
        let found = probe(github, at).await?;
        if let Some(newest) = found.newest {
            low = newest.max(at);
            if !found.more {
                return Ok((newest + 1, probes));
            }
            step = step.saturating_mul(2);
        } else if found.more {
            low = at;
            step = step.saturating_mul(2);
        } else {
            break at;
        }
    };
    while high - low > 1 {
        let mid = low + (high - low) / 2;
        probes += 1;
        let found = probe(github, mid).await?;
        match (found.newest, found.more) {
            (Some(newest), false) => return Ok((newest + 1, probes)),
            (Some(newest), true) => low = newest.max(mid),
            (None, true) => low = mid,
            (None, false) => high = mid,
        }
    }
    Ok((low + 1, probes))
}

/// Samples the density of `[from, to)` with at most `budget` probes: an even first pass with half
/// the budget (in parallel), then one probe at a time where the estimate is least certain.
pub async fn sample_density(github: &Arc<GitHub>, from: u64, to: u64, budget: u64) -> Result<Vec<Sample>, GithubError> {
    let span = to - from;
    let first_pass = (budget / 2).clamp(1, (span / MIN_PROBE_GAP).max(1));
    let points: Vec<u64> = (0..first_pass)
        .map(|i| (from + (span as u128 * i as u128 / first_pass as u128) as u64).saturating_sub(1))
        .collect();
    let mut samples = Vec::with_capacity(budget as usize);
    for chunk in points.chunks(PARALLEL_PROBES) {
        let mut tasks = JoinSet::new();
        for &since in chunk {
            let github = Arc::clone(github);
            tasks.spawn(async move { probe(&github, since).await });
        }
        while let Some(joined) = tasks.join_next().await {
            samples.push(joined.expect("probe task does not panic")?.sample);
        }
    }
    samples.sort_by_key(|s| s.since);
    samples.dedup_by_key(|s| s.since);
    for _ in samples.len() as u64..budget {
        let Some(at) = next_probe(&samples, from, to, MIN_PROBE_GAP) else { break };
        let sample = probe(github, at).await?.sample;
        let index = samples.partition_point(|s| s.since < sample.since);
        samples.insert(index, sample);
    }
    Ok(samples)
}
