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

/// The largest jump of the search for the newest id (2^40, a thousand times GitHub's id space):
/// a server whose ids never end is an error, not an endless loop.
const MAX_STEP: u64 = 1 << 40;

/// What a probe of `since` found.
#[derive(Clone, Debug)]
pub struct Probe {
    /// The measured stretch.
    pub sample: Sample,
    /// A `rel="next"` link was present: ids continue after the window.
    pub more: bool,
    /// The highest public id on the page.
    pub newest: Option<u64>,
    /// The first and last public repository on the page (id, node id): points whose creation
    /// time ties ids to search's `created:` counts.
    pub edges: Vec<(u64, String)>,
}

/// One `/repositories?since=` page as a sample.
pub async fn probe(github: &GitHub, since: u64) -> Result<Probe, GithubError> {
    let url = github.url(&format!("/repositories?since={since}"));
    let (response, items) = github.get_json::<Vec<MinimalRepository>>(&url, RequestKind::Probe, None).await?;
    let Some(items) = items else {
        return Err(GithubError::Unexpected { url, reason: format!("HTTP {} while probing", response.status) });
    };
    if !items.is_empty() && items.iter().all(|r| r.id <= since) {
        // A server that ignores `since` would make every probe look like the start of the list.
        return Err(GithubError::Unexpected {
            url,
            reason: format!("the page lists no id above since={since} (does the server honour `since`?)"),
        });
    }
    let next = response.next_link().and_then(|link| crate::github::link::query_number(&link, "since"));
    let newest = items.iter().map(|r| r.id).filter(|id| *id > since).max();
    let end = match next {
        Some(next) => next.max(since) + 1,
        None => newest.map_or(since + 1, |n| n + 1),
    };
    let listed: Vec<_> = items.iter().filter(|r| r.id > since && r.id < end).collect();
    let mut edges: Vec<(u64, String)> = [listed.first(), listed.last()]
        .into_iter()
        .flatten()
        .filter_map(|r| r.node_id.clone().map(|node| (r.id, node)))
        .collect();
    edges.dedup();
    let sample = Sample { since, end, public: listed.len() as u64 };
    Ok(Probe { sample, more: next.is_some(), newest, edges })
}

/// An end for `from..`: one past the newest public id, or a bound within 1/4096 of it past
/// which no public id exists (exponential, then binary search). Returns the end and every probe made (they are density samples too).
pub async fn find_end(github: &GitHub, from: u64) -> Result<(u64, Vec<Probe>), GithubError> {
    let mut probes = Vec::new();
    let mut probe_at = async |since: u64| -> Result<Probe, GithubError> {
        let found = probe(github, since).await?;
        probes.push(found.clone());
        Ok(found)
    };
    let first = probe_at(from.saturating_sub(1)).await?;
    if !first.more {
        let end = first.newest.map_or(from, |n| n + 1);
        return Ok((end, probes));
    }
    // Invariant: public ids exist after `low`; none after `high`.
    let mut low = first.newest.unwrap_or(from).max(from);
    let mut step = 1024u64;
    let mut high = loop {
        if step > MAX_STEP {
            return Err(GithubError::Unexpected {
                url: github.url(&format!("/repositories?since={low}")),
                reason: format!("repositories go on past id {low}: no end found (is this a GitHub API?)"),
            });
        }
        let at = low.saturating_add(step);
        let found = probe_at(at).await?;
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
    // No public id lies at or after `high`, so it is a correct end; narrowing it further only
    // trims ids whose listing pages would come back empty anyway.
    while high - low > (high / 4096).max(1) {
        let mid = low + (high - low) / 2;
        let found = probe_at(mid).await?;
        match (found.newest, found.more) {
            (Some(newest), false) => return Ok((newest + 1, probes)),
            (Some(newest), true) => low = newest.max(mid),
            (None, true) => low = mid,
            (None, false) => high = mid,
        }
    }
    Ok((if high - low > 1 { high } else { low + 1 }, probes))
}

/// Samples the density of `[from, to)` with at most `budget` probes: an even first pass with half
/// the budget (in parallel), then one probe at a time where the estimate is least certain.
/// Probes already made (`known`) count as samples. Returns the samples (sorted) and the
/// repositories at the pages' edges.
pub async fn sample_density(
    github: &Arc<GitHub>,
    from: u64,
    to: u64,
    budget: u64,
    known: Vec<Probe>,
) -> Result<(Vec<Sample>, Vec<(u64, String)>), GithubError> {
    let mut samples: Vec<Sample> = Vec::with_capacity(budget as usize);
    let mut edges = Vec::new();
    for probe in known.into_iter().filter(|p| p.sample.since < to) {
        samples.push(probe.sample);
        edges.extend(probe.edges);
    }
    let span = to - from;
    let first_pass = (budget / 2).clamp(1, (span / MIN_PROBE_GAP).max(1));
    let points: Vec<u64> = (0..first_pass)
        .map(|i| (from + (span as u128 * i as u128 / first_pass as u128) as u64).saturating_sub(1))
        .filter(|since| !samples.iter().any(|s| s.since == *since))
        .collect();
    let mut made = 0;
    for chunk in points.chunks(PARALLEL_PROBES) {
        let mut tasks = JoinSet::new();
        for &since in chunk {
            let github = Arc::clone(github);
            tasks.spawn(async move { probe(&github, since).await });
        }
        while let Some(joined) = tasks.join_next().await {
            let probe = joined.expect("probe task does not panic")?;
            made += 1;
            samples.push(probe.sample);
            edges.extend(probe.edges);
        }
    }
    samples.sort_by_key(|s| s.since);
    samples.dedup_by_key(|s| s.since);
    while made < budget {
        let Some(at) = next_probe(&samples, from, to, MIN_PROBE_GAP) else { break };
        let probe = probe(github, at).await?;
        made += 1;
        edges.extend(probe.edges);
        let sample = probe.sample;
        let index = samples.partition_point(|s| s.since < sample.since);
        samples.insert(index, sample);
    }
    edges.sort_unstable();
    edges.dedup();
    Ok((samples, edges))
}
