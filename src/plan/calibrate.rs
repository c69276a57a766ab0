//! Counting what probes cannot see. A probe measures the density of the one page it lands on;
//! a dense run of ids between two probes is invisible to it, and a shard that holds one comes out
//! several times too big. Search counts are exact over any creation-time range, and ids grow with
//! creation time, so a count of `created:` up to the time of an id is the number of public
//! repositories below that id. Each shard cut is checked that way and moved until it holds its
//! share (regula falsi between the counts around it, with an even split every other try so a
//! misleading model cannot stall it).
//!
//! The clock for an id comes from the repositories at the probes' page edges (one GraphQL query
//! per 100), interpolated in between. Search only counts forks that have more stars than their
//! parent, so on GitHub the counts undercount forks a little; the cut stays exact in ids either
//! way — a wrong count only makes a shard larger or smaller, never loses a repository.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::task::JoinSet;

use super::ids::{Anchor, Model, SETTLED, Sample};
use super::search::{self, FIRST_SECOND, LAST_SECOND};
use crate::github::graphql::NODES_PER_QUERY;
use crate::github::{GitHub, GithubError, RequestKind};
use crate::time::epoch_seconds;

/// What every count asks for: all public repositories, forks included.
const EVERYTHING: &str = "fork:true";

/// Searches sent at once (the GitHub layer paces them to the search budget).
const PARALLEL_COUNTS: usize = 8;

/// Creation times of known repositories, by id.
#[derive(Clone, Debug, Default)]
pub struct Timeline {
    /// `(id, created second)`, sorted by id, seconds non-decreasing.
    points: Vec<(u64, u64)>,
}

impl Timeline {
    /// A timeline from `(id, second)` points in any order.
    pub fn new(mut points: Vec<(u64, u64)>) -> Timeline {
        points.sort_unstable();
        points.dedup_by_key(|p| p.0);
        let mut latest = 0;
        for point in &mut points {
            latest = latest.max(point.1);
            point.1 = latest;
        }
        Timeline { points }
    }

    /// Estimated creation second of the first public repository at or after `id`; `None` when
    /// `id` is past every known repository (count to the end of time).
    pub fn second_at(&self, id: u64) -> Option<u64> {
        let above = self.points.partition_point(|p| p.0 < id);
        let &(hi_id, hi_second) = self.points.get(above)?;
        if hi_id == id || above == 0 {
            return Some(hi_second);
        }
        let (lo_id, lo_second) = self.points[above - 1];
        let share = (id - lo_id) as f64 / (hi_id - lo_id) as f64;
        let second = lo_second + ((hi_second - lo_second) as f64 * share).ceil() as u64;
        Some(second.clamp(lo_second + 1, hi_second.max(lo_second + 1)))
    }
}

/// Reads the creation time of repositories by node id (GraphQL, 100 per query).
pub async fn timeline(github: &GitHub, repositories: &[(u64, String)]) -> Result<Timeline, GithubError> {
    const QUERY: &str = "query($ids: [ID!]!) {\n  rateLimit { cost remaining resetAt limit }\n  nodes(ids: $ids) {\n    ... on Repository { databaseId createdAt }\n  }\n}";
    let mut points = Vec::with_capacity(repositories.len());
    for chunk in repositories.chunks(NODES_PER_QUERY) {
        let ids: Vec<&str> = chunk.iter().map(|(_, node)| node.as_str()).collect();
        let response = github.graphql(QUERY, json!({ "ids": ids }), RequestKind::Probe).await?;
        let nodes = response.data.get("nodes").and_then(Value::as_array).cloned().unwrap_or_default();
        for node in nodes {
            let id = node.get("databaseId").and_then(Value::as_u64);
            let created = node.get("createdAt").and_then(Value::as_str).and_then(epoch_seconds);
            if let (Some(id), Some(created)) = (id, created) {
                points.push((id, created));
            }
        }
    }
    Ok(Timeline::new(points))
}

/// Results per count request: when a whole interval fits in one page, its repositories come back
/// with the count, and each becomes an exact anchor.
const PAGE: u64 = 100;

/// Counts of public repositories below ids of `[from, to)`.
pub struct Counter {
    github: Arc<GitHub>,
    timeline: Timeline,
    /// Creation second of the first repository of the range.
    start: u64,
    from: u64,
    to: u64,
}

/// One count to make: the repositories in `[lo.id, to)`, on top of the known `lo`.
type Ask = (Anchor, u64);

impl Counter {
    /// A counter for `[from, to)` on a timeline.
    pub fn new(github: Arc<GitHub>, timeline: Timeline, from: u64, to: u64) -> Counter {
        let start = if from <= 1 { FIRST_SECOND } else { timeline.second_at(from).unwrap_or(FIRST_SECOND) };
        Counter { github, timeline, start, from, to }
    }

    /// The search query for the repositories in `[lo, x)`, or `None` when that is empty in time.
    fn query(&self, lo: u64, x: u64) -> Option<String> {
        let first = if lo <= self.from { Some(self.start) } else { self.timeline.second_at(lo) }?;
        let last = self.timeline.second_at(x).map_or(LAST_SECOND, |second| second.saturating_sub(1));
        (last >= first).then(|| search::restricted(EVERYTHING, (first, last)))
    }

    /// Makes the counts (in parallel batches) and returns their anchors: one at each end, and one
    /// at every repository of an interval that came back whole.
    pub async fn measure(&mut self, asks: &[Ask]) -> Result<Vec<Anchor>, GithubError> {
        let mut answers = Vec::with_capacity(asks.len());
        for chunk in asks.chunks(PARALLEL_COUNTS) {
            let mut tasks = JoinSet::new();
            for &(lo, x) in chunk {
                let github = Arc::clone(&self.github);
                let query = self.query(lo.id, x);
                tasks.spawn(async move {
                    let (total, found) = match query {
                        Some(query) => search::count_and_list(&github, &query, PAGE as u32).await?,
                        None => (0, Vec::new()),
                    };
                    Ok::<_, GithubError>((lo, x, total, found))
                });
            }
            while let Some(joined) = tasks.join_next().await {
                answers.push(joined.expect("count task does not panic")?);
            }
        }
        answers.sort_unstable_by_key(|(lo, x, ..)| (*x, lo.id));
        let mut anchors = Vec::new();
        let mut clock = Vec::new();
        for (lo, x, total, mut found) in answers {
            anchors.push(Anchor { id: x, below: lo.below + total });
            if found.len() as u64 != total {
                continue;
            }
            found.sort_unstable_by_key(|f| f.id);
            for (rank, repository) in found.iter().enumerate() {
                if repository.id > lo.id && repository.id < x {
                    anchors.push(Anchor { id: repository.id, below: lo.below + rank as u64 });
                }
                if let Some(second) = repository.created_at.as_deref().and_then(epoch_seconds) {
                    clock.push((repository.id, second));
                }
            }
        }
        if !clock.is_empty() {
            clock.extend(self.timeline.points.iter().copied());
            self.timeline = Timeline::new(clock);
        }
        Ok(anchors)
    }

    /// Moves the cuts of `shards` equal shards until each is settled or `budget` counts are spent.
    /// `anchors` must already hold the count at `to`.
    pub async fn refine(
        &mut self,
        samples: &[Sample],
        anchors: &mut Vec<Anchor>,
        shards: u32,
        budget: u64,
    ) -> Result<(), GithubError> {
        let mut spent = 0;
        let mut tries: HashMap<u32, u32> = HashMap::new();
        while spent < budget {
            let model = Model::new(samples, anchors, self.from, self.to);
            let asks = next_counts(&model, shards, &mut tries, budget - spent);
            if asks.is_empty() {
                break;
            }
            tracing::debug!(counts = asks.len(), spent, budget, "checking shard cuts with search counts");
            spent += asks.len() as u64;
            anchors.extend(self.measure(&asks).await?);
        }
        Ok(())
    }
}

/// The counts to make next, one per unsettled cut: the whole bracket when it fits one page (its
/// repositories settle the cut), else up to the model's quantile, or on every other try up to the
/// bracket's middle. At most `limit`, in id order.
fn next_counts(model: &Model, shards: u32, tries: &mut HashMap<u32, u32>, limit: u64) -> Vec<Ask> {
    let (from, to) = model.range();
    let total = model.below(to);
    let tolerance = (total / f64::from(shards) * SETTLED).max(0.5);
    let counted: Vec<Anchor> = std::iter::once(Anchor { id: from, below: 0 })
        .chain(model.anchors().map(|(id, below)| Anchor { id, below: below as u64 }))
        .collect();
    // Unsettled cuts, by the bracket of counts around them.
    let mut brackets: Vec<(Bracket, Vec<(u32, f64)>)> = Vec::new();
    for k in 1..shards {
        let target = total * f64::from(k) / f64::from(shards);
        if counted.iter().any(|a| (a.below as f64 - target).abs() <= tolerance) {
            continue;
        }
        let lo = *counted.iter().rev().find(|a| (a.below as f64) < target).unwrap_or(&counted[0]);
        let hi = counted.iter().find(|a| a.below as f64 > target).map_or(to, |a| a.id);
        match brackets.last_mut() {
            Some((bracket, targets)) if *bracket == (lo, hi) => targets.push((k, target)),
            _ => brackets.push(((lo, hi), vec![(k, target)])),
        }
    }
    // With too few counts left, the widest brackets (in repositories) go first.
    brackets.sort_by(|a, b| bracket_mass(model, b.0).total_cmp(&bracket_mass(model, a.0)));
    let mut asks: Vec<Ask> = Vec::new();
    for ((lo, hi), targets) in brackets {
        if model.below(hi) - lo.below as f64 <= PAGE as f64 {
            // The whole bracket fits one page: its repositories settle every cut in it. Asked
            // before and still unsettled means counts and listing disagree; stop there.
            let tried = tries.entry(targets[0].0).or_default();
            *tried += 1;
            if *tried <= 6 {
                asks.push((lo, hi));
            }
            continue;
        }
        let parts = targets.len() as u64 + 1;
        for (i, (k, target)) in targets.into_iter().enumerate() {
            let tried = tries.entry(k).or_default();
            *tried += 1;
            // Regula falsi on the model, and on every other try an even split of the bracket,
            // so a model that misplaces a dense run cannot stall the cut.
            let x = if tried.is_multiple_of(2) {
                lo.id + (hi - lo.id) * (i as u64 + 1) / parts
            } else {
                model.quantile(target)
            };
            if x > lo.id && x < hi {
                asks.push((lo, x));
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    asks.retain(|(_, x)| seen.insert(*x));
    asks.truncate(limit as usize);
    asks.sort_unstable_by_key(|(lo, x)| (*x, lo.id));
    asks
}

/// The counts on either side of a target: the anchor below it and the id of the one above.
type Bracket = (Anchor, u64);

/// Repositories counted between a bracket's ends.
fn bracket_mass(model: &Model, (lo, hi): Bracket) -> f64 {
    model.below(hi) - lo.below as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_interpolates_between_known_repositories() {
        let timeline = Timeline::new(vec![(300, 3000), (100, 1000), (200, 1500)]);
        assert_eq!(timeline.second_at(100), Some(1000));
        assert_eq!(timeline.second_at(50), Some(1000));
        assert_eq!(timeline.second_at(150), Some(1250));
        assert_eq!(timeline.second_at(101), Some(1005));
        assert_eq!(timeline.second_at(300), Some(3000));
        assert_eq!(timeline.second_at(301), None);
    }

    /// A space of 10,000 ids: density 0.05, except a dense run of 500 at 1.0 in [6000, 6500)
    /// that no probe saw.
    fn below_truth(x: u64) -> u64 {
        let dense = x.clamp(6000, 6500) - 6000;
        let sparse = x.min(10_000) - dense;
        dense + sparse / 20
    }

    #[test]
    fn counts_move_cuts_onto_a_dense_run_the_probes_missed() {
        let samples: Vec<Sample> = (0..10)
            .map(|i| i * 1000)
            .filter(|s| *s != 6000)
            .map(|since| Sample { since, end: since + 100, public: 5 })
            .collect();
        let (from, to) = (0, 10_000);
        let mut anchors = vec![Anchor { id: to, below: below_truth(to) }];
        let mut tries = HashMap::new();
        let shards = 4;
        for _ in 0..12 {
            let model = Model::new(&samples, &anchors, from, to);
            let asks = next_counts(&model, shards, &mut tries, 100);
            if asks.is_empty() {
                break;
            }
            // The truth answers each count; the whole list comes back when it fits one page.
            for (lo, x) in asks {
                let total = below_truth(x) - lo.below;
                anchors.push(Anchor { id: x, below: lo.below + total });
                if total <= PAGE {
                    anchors.extend((lo.id..x).map(|id| Anchor { id, below: below_truth(id) }));
                }
            }
        }
        let bounds = Model::new(&samples, &anchors, from, to).cut(shards);
        let sizes: Vec<u64> = bounds.windows(2).map(|w| below_truth(w[1]) - below_truth(w[0])).collect();
        let (min, max) = (*sizes.iter().min().unwrap(), *sizes.iter().max().unwrap());
        assert!(max as f64 <= 1.4 * min as f64, "{sizes:?} from {bounds:?}");
        // The probes alone put every cut in the sparse stretch.
        let naive = Model::new(&samples, &[], from, to).cut(shards);
        let naive: Vec<u64> = naive.windows(2).map(|w| below_truth(w[1]) - below_truth(w[0])).collect();
        assert!(naive.iter().max().unwrap() > &(2 * naive.iter().min().unwrap()), "{naive:?}");
    }
}
