//! The initial deep data of one repository, from (seed, repository id)
//! alone: heavy-tailed counts (most repositories have no or few items, a few
//! have thousands), then the items in time order. The open issue / open pull
//! request split of `open_issues_count` is its own cheap stream
//! ([`open_split`]) so GraphQL can report open-issue counts without
//! generating anything.

use crate::deep::{Deep, PER_REPO, RUN_ID_BASE, WORKFLOW_ID_BASE, Workflow};
use crate::deep_items::{Gen, contributors, pick};
use crate::deep_words as w;
use crate::hash::{mix_all, unit};
use crate::universe::{Repo, Universe, skewed, weighted};
use fastrand::Rng;

/// At most this many issues and pull requests at generation (room is left for advances).
const MAX_NUMBERED: u32 = 90_000;
/// Fraction of repositories with workflows that are "busy CI" ones (over 1,000 runs).
const BUSY_CI: f64 = 0.006;
/// 2019-11-13, when GitHub Actions became generally available: no run is older.
const ACTIONS_GA: i64 = 1_573_603_200;

/// (open issues, open pull requests) making up `repo.open_issues_count`.
pub(crate) fn open_split(seed: u64, repo: &Repo) -> (u32, u32) {
    let total = repo.open_issues_count;
    if !repo.has_issues {
        return (0, total);
    }
    if repo.is_empty() {
        return (total, 0);
    }
    let share = 0.1 + 0.4 * unit(mix_all(&[seed, repo.id, 0x5917]));
    let pulls = (f64::from(total) * share).round() as u32;
    (total - pulls, pulls)
}

fn scaled(n: u32, scale: f64) -> u32 {
    (f64::from(n) * scale).round() as u32
}

/// `n` sorted times in `[from, to]`, denser towards `to`.
fn times(rng: &mut Rng, n: usize, from: i64, to: i64) -> Vec<i64> {
    let span = (to - from).max(0) as f64;
    let mut out: Vec<i64> = (0..n).map(|_| from + (span * rng.f64().sqrt()) as i64).collect();
    out.sort_unstable();
    out
}

/// `k` of `items` chosen at random.
fn choose(rng: &mut Rng, mut items: Vec<usize>, k: usize) -> Vec<usize> {
    rng.shuffle(&mut items);
    items.truncate(k);
    items
}

/// The repository's deep data as generated (before any advance). `repo` is its
/// initial state, `now` the universe's first now.
pub(crate) fn generate(u: &Universe, repo: &Repo, now: i64) -> Deep {
    let seed = u.config().seed;
    let scale = u.config().deep_scale.max(0.0);
    let mut rng = Rng::with_seed(mix_all(&[seed, repo.id, 0xDEE9]));
    let empty = repo.is_empty();
    let mut gen = Gen { u, repo, team: Vec::new(), labels: Vec::new() };
    let label_count = rng.usize(4..=10);
    while gen.labels.len() < label_count {
        let l = pick(&mut rng, w::LABELS);
        if !gen.labels.contains(&l) {
            gen.labels.push(l);
        }
    }
    let team_size = 1 + skewed(&mut rng, 0.5, 1.2, 30) as usize;
    if let Some(owner) = gen.owner_account() {
        gen.team.push(owner);
    }
    for _ in 0..team_size * 2 {
        if gen.team.len() >= team_size {
            break;
        }
        if let Some(a) = gen.random_user(&mut rng)
            && !gen.team.contains(&a)
        {
            gen.team.push(a);
        }
    }

    // Issues and pull requests: counts, then one number sequence in time order.
    let (open_i, open_p) = open_split(seed, repo);
    let closed = |rng: &mut Rng, open: u32| skewed(rng, 0.55, 0.9, 2500) + (f64::from(open) * rng.f64() * 2.0) as u32;
    let closed_i = if repo.has_issues { scaled(closed(&mut rng, open_i), scale) } else { 0 };
    let closed_p = if empty { 0 } else { scaled(closed(&mut rng, open_p), scale) };
    let issues_total = (open_i + closed_i).min(MAX_NUMBERED / 2).max(open_i);
    let pulls_total = (open_p + closed_p).min(MAX_NUMBERED / 2).max(open_p);
    let n = (issues_total + pulls_total) as usize;
    let created = times(&mut rng, n, repo.created_at.0, now);
    let mut is_pull: Vec<bool> = (0..n).map(|i| i >= issues_total as usize).collect();
    rng.shuffle(&mut is_pull);
    let issue_slots: Vec<usize> = (0..n).filter(|&i| !is_pull[i]).collect();
    let pull_slots: Vec<usize> = (0..n).filter(|&i| is_pull[i]).collect();
    let mut open = vec![false; n];
    for i in choose(&mut rng, issue_slots, open_i as usize).into_iter().chain(choose(&mut rng, pull_slots, open_p as usize)) {
        open[i] = true;
    }
    let mut deep = Deep {
        repo_id: repo.id,
        has_issues: repo.has_issues,
        labels: gen.labels.clone(),
        issues: Vec::with_capacity(issues_total as usize),
        pulls: Vec::with_capacity(pulls_total as usize),
        workflows: Vec::new(),
        runs: Vec::new(),
        contributors: Vec::new(),
        commits: Vec::new(),
    };
    for i in 0..n {
        let number = i as u32 + 1;
        if is_pull[i] {
            deep.pulls.push(gen.pull(&mut rng, number, created[i], open[i], now));
        } else {
            deep.issues.push(gen.issue(&mut rng, number, created[i], open[i], now));
        }
    }
    if empty {
        return deep;
    }

    // Commits of the default branch: the newest is dated `pushed_at`.
    let span = repo.pushed_at.0 - repo.created_at.0;
    let mut count = scaled(skewed(&mut rng, 0.0, 0.8, 3000), scale).max(1);
    if span < 3600 {
        count = count.min(3);
    }
    let mut dates = times(&mut rng, count as usize - 1, repo.created_at.0, repo.pushed_at.0);
    dates.push(repo.pushed_at.0);
    let mut commits: Vec<_> =
        dates.iter().enumerate().map(|(i, &d)| gen.commit(&mut rng, i as u64, d, repo.created_at.0)).collect();

    // Workflows and their runs.
    let workflow_count = weighted(&mut rng, &[(0usize, 40), (1, 35), (2, 15), (3, 10)]);
    while deep.workflows.len() < workflow_count {
        let (name, stem) = pick(&mut rng, w::WORKFLOWS);
        if deep.workflows.iter().all(|wf| wf.name != name) {
            let id = WORKFLOW_ID_BASE + repo.id * PER_REPO + deep.workflows.len() as u64 + 1;
            deep.workflows.push(Workflow { id, name, path: format!(".github/workflows/{stem}.yml") });
        }
    }
    if !deep.workflows.is_empty() {
        let runs = if rng.f64() < BUSY_CI { rng.u32(1200..=5000) } else { skewed(&mut rng, 0.15, 0.9, 1000) };
        let runs = scaled(runs, scale) as usize;
        let mut at = times(&mut rng, runs, repo.created_at.0.max(ACTIONS_GA.min(now)), now);
        let running = runs > 0 && rng.f64() < 0.15;
        if running && let Some(last) = at.last_mut() {
            *last = (*last).max(now - rng.i64(60..3600));
        }
        let oldest_first: Vec<&_> = commits.iter().collect();
        let mut numbers = vec![0u32; deep.workflows.len()];
        for (k, &created) in at.iter().enumerate() {
            let which = if deep.workflows.len() == 1 { 0 } else { (rng.f64().powi(2) * deep.workflows.len() as f64) as usize };
            numbers[which] += 1;
            let id = RUN_ID_BASE + repo.id * PER_REPO + k as u64 + 1;
            let last = running && k + 1 == runs;
            let run = gen.run(&mut rng, id, &deep.workflows[which], numbers[which], created, last, now, &oldest_first);
            deep.runs.push(run);
        }
        deep.runs.reverse();
    }
    commits.reverse();
    deep.contributors = contributors(&commits);
    deep.commits = commits;
    deep
}
