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
const BUSY_CI: f64 = 0.005;
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
    let mut maker = Gen { u, repo, team: Vec::new(), labels: Vec::new() };
    let label_count = rng.usize(4..=10);
    while maker.labels.len() < label_count {
        let l = pick(&mut rng, w::LABELS);
        if !maker.labels.contains(&l) {
            maker.labels.push(l);
        }
    }
    let team_size = 1 + skewed(&mut rng, 0.5, 1.2, 30) as usize;
    if let Some(owner) = maker.owner_account() {
        maker.team.push(owner);
    }
    for _ in 0..team_size * 2 {
        if maker.team.len() >= team_size {
            break;
        }
        if let Some(a) = maker.random_user(&mut rng)
            && !maker.team.contains(&a)
        {
            maker.team.push(a);
        }
    }

    // Issues and pull requests: counts, then one number sequence in time order.
    let (open_i, open_p) = open_split(seed, repo);
    let closed = |rng: &mut Rng, open: u32| skewed(rng, 0.6, 1.0, 2000) + (f64::from(open) * rng.f64() * 1.5) as u32;
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
    for i in
        choose(&mut rng, issue_slots, open_i as usize).into_iter().chain(choose(&mut rng, pull_slots, open_p as usize))
    {
        open[i] = true;
    }
    let mut deep = Deep {
        repo_id: repo.id,
        has_issues: repo.has_issues,
        labels: maker.labels.clone(),
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
            deep.pulls.push(maker.pull(&mut rng, number, created[i], open[i], now));
        } else {
            deep.issues.push(maker.issue(&mut rng, number, created[i], open[i], now));
        }
    }
    if empty {
        return deep;
    }

    // Commits of the default branch: the newest is dated `pushed_at`.
    let span = repo.pushed_at.0 - repo.created_at.0;
    let mut count = scaled(skewed(&mut rng, 0.0, 0.9, 2000), scale).max(1);
    if span < 3600 {
        count = count.min(3);
    }
    let mut dates = times(&mut rng, count as usize - 1, repo.created_at.0, repo.pushed_at.0);
    dates.push(repo.pushed_at.0);
    let mut commits: Vec<_> =
        dates.iter().enumerate().map(|(i, &d)| maker.commit(&mut rng, i as u64, d, repo.created_at.0)).collect();

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
        let runs = if rng.f64() < BUSY_CI { rng.u32(1100..=2500) } else { skewed(&mut rng, 0.3, 1.0, 1000) };
        let runs = scaled(runs, scale) as usize;
        let mut at = times(&mut rng, runs, repo.created_at.0.max(ACTIONS_GA.min(now)), now);
        let running = runs > 0 && rng.f64() < 0.15;
        if running && let Some(last) = at.last_mut() {
            *last = (*last).max(now - rng.i64(60..3600));
        }
        let oldest_first: Vec<&_> = commits.iter().collect();
        let mut numbers = vec![0u32; deep.workflows.len()];
        for (k, &created) in at.iter().enumerate() {
            let which =
                if deep.workflows.len() == 1 { 0 } else { (rng.f64().powi(2) * deep.workflows.len() as f64) as usize };
            numbers[which] += 1;
            let id = RUN_ID_BASE + repo.id * PER_REPO + k as u64 + 1;
            let last = running && k + 1 == runs;
            let run =
                maker.run(&mut rng, id, &deep.workflows[which], numbers[which], created, last, now, &oldest_first);
            deep.runs.push(run);
        }
        deep.runs.reverse();
    }
    commits.reverse();
    deep.contributors = contributors(&commits);
    deep.commits = commits;
    deep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deep::{RunStatus, State};
    use crate::universe::UniverseConfig;

    fn check(u: &Universe, r: &Repo, d: &Deep) {
        let now = u.now().0;
        let within = |t: i64| r.created_at.0 <= t && t <= now;
        assert_eq!(d.open_issues() + d.open_pulls(), r.open_issues_count as usize, "{}", r.full_name);
        assert_eq!(u.open_counts(r), (d.open_issues() as u32, d.open_pulls() as u32));
        assert_eq!(d.has_issues, r.has_issues);
        if !d.has_issues {
            assert!(d.issues.is_empty());
        }
        if r.is_empty() {
            assert!(d.commits.is_empty() && d.runs.is_empty() && d.contributors.is_empty() && d.pulls.is_empty());
        } else {
            let head = d.head().expect("a non-empty repository has commits");
            assert_eq!(head.committer.date, r.pushed_at, "pushed_at is the head's date");
        }
        let mut numbers: Vec<u32> = d.issues.iter().map(|i| i.number).chain(d.pulls.iter().map(|p| p.number)).collect();
        numbers.sort_unstable();
        assert!(numbers.iter().enumerate().all(|(k, &n)| n == k as u32 + 1), "one sequence 1..N");
        for i in &d.issues {
            assert!(within(i.created_at.0) && i.updated_at >= i.created_at && i.updated_at.0 <= now);
            assert_eq!(i.closed_at.is_some(), i.state == State::Closed);
            assert!(i.closed_at.is_none_or(|c| i.created_at <= c && c <= i.updated_at));
            assert!(i.labels.len() <= 4 && i.labels.iter().all(|l| d.labels.contains(l)));
        }
        for p in &d.pulls {
            assert!(within(p.created_at.0) && p.updated_at >= p.created_at && p.updated_at.0 <= now);
            assert!(p.merged_at.is_none_or(|m| p.state == State::Closed && Some(m) == p.closed_at));
            assert_eq!(p.merged(), p.merge_commit_sha.is_some());
            assert_eq!(p.base_ref, r.default_branch);
        }
        assert!(
            d.runs.windows(2).all(|w| (w[0].created_at, w[0].id) > (w[1].created_at, w[1].id)),
            "runs newest first"
        );
        for run in &d.runs {
            assert!(
                within(run.created_at.0)
                    && run.run_started_at >= run.created_at
                    && run.updated_at >= run.run_started_at
            );
            assert!(run.updated_at.0 <= now);
            assert_eq!(run.conclusion.is_some(), run.status == RunStatus::Completed);
            assert!(d.workflows.iter().any(|w| w.id == run.workflow_id && w.name == run.name));
        }
        assert!(d.commits.windows(2).all(|w| w[0].committer.date >= w[1].committer.date), "commits newest first");
        for c in &d.commits {
            assert!(within(c.committer.date.0) && within(c.author.date.0) && c.author.date <= c.committer.date);
            assert_eq!(c.sha.len(), 40);
        }
        assert!(d.contributors.windows(2).all(|w| w[0].contributions >= w[1].contributions));
        let linked = d.commits.iter().filter(|c| c.author_account.is_some()).count();
        assert_eq!(d.contributors.iter().map(|c| c.contributions as usize).sum::<usize>(), linked);
    }

    #[test]
    fn a_universe_of_deep_data_is_consistent_and_heavy_tailed() {
        let u = Universe::generate(&UniverseConfig::new(2000, 1));
        assert_eq!(u.deep_generated(), 0, "nothing generated up front");
        let (mut items, mut big_runs, mut big_items, mut disabled, mut repos) = (0, 0, 0, 0, 0);
        let (mut authors, mut ghosts, mut pulls, mut no_head, mut commits, mut linked) = (0, 0, 0, 0, 0, 0);
        let mut shas = std::collections::HashSet::new();
        for r in u.repos().iter().filter(|r| !r.deleted) {
            let d = u.deep(r.id).expect("deep data");
            check(&u, r, &d);
            repos += 1;
            items += d.item_count();
            big_runs += usize::from(d.runs.len() > 1000);
            big_items += usize::from(d.issues.len() + d.pulls.len() > 1000);
            disabled += usize::from(!d.has_issues);
            authors += d.issues.len() + d.pulls.len();
            ghosts += d.issues.iter().filter(|i| i.author.is_none()).count()
                + d.pulls.iter().filter(|p| p.author.is_none()).count();
            pulls += d.pulls.len();
            no_head += d.pulls.iter().filter(|p| p.head_repo_id.is_none()).count();
            commits += d.commits.len();
            linked += d.commits.iter().filter(|c| c.author_account.is_some()).count();
            shas.extend(d.commits.iter().map(|c| c.sha.clone()));
        }
        assert_eq!(u.deep_generated(), repos);
        assert!((20_000..80_000).contains(&items), "a few tens of thousands of items: {items}");
        assert!(big_runs >= 2, "some repositories over GitHub's 1,000-run cap: {big_runs}");
        assert!((1..=20).contains(&big_items), "very few with more than 1,000 issues and pull requests: {big_items}");
        let share = |a: usize, b: usize| a as f64 / b as f64;
        assert!((0.05..0.11).contains(&share(disabled, repos)), "issues disabled: {disabled}/{repos}");
        assert!((0.015..0.05).contains(&share(ghosts, authors)), "deleted authors: {ghosts}/{authors}");
        assert!((0.03..0.08).contains(&share(no_head, pulls)), "deleted forks: {no_head}/{pulls}");
        assert!((0.7..0.9).contains(&share(linked, commits)), "linked commit authors: {linked}/{commits}");
        assert_eq!(shas.len(), commits, "shas unique");
        let quiet = u
            .repos()
            .iter()
            .filter(|r| !r.deleted && u.deep(r.id).is_some_and(|d| d.issues.len() + d.pulls.len() <= 3))
            .count();
        assert!(quiet * 2 > repos, "most repositories have none or a few: {quiet}/{repos}");
    }

    #[test]
    fn deterministic_per_repository_whatever_the_order() {
        let cfg = UniverseConfig::new(600, 9);
        let (a, b) = (Universe::generate(&cfg), Universe::generate(&cfg));
        let ids: Vec<u64> = a.repos().iter().filter(|r| !r.deleted).map(|r| r.id).collect();
        for id in &ids {
            a.deep(*id);
        }
        for id in ids.iter().rev() {
            assert_eq!(a.deep(*id), b.deep(*id), "repository {id}");
        }
        let other = Universe::generate(&UniverseConfig::new(600, 10));
        let differs = ids.iter().filter_map(|&id| Some((a.deep(id)?, other.deep(id)?))).any(|(x, y)| x != y);
        assert!(differs, "another seed, other data");
    }

    #[test]
    fn scale_and_switch() {
        let full = Universe::generate(&UniverseConfig::new(800, 4));
        let half = Universe::generate(&UniverseConfig { deep_scale: 0.5, ..UniverseConfig::new(800, 4) });
        let off = Universe::generate(&UniverseConfig { deep_scale: 0.0, ..UniverseConfig::new(800, 4) });
        let total = |u: &Universe| u.repos().iter().filter_map(|r| u.deep(r.id)).map(|d| d.item_count()).sum::<usize>();
        let (f, h) = (total(&full), total(&half));
        assert!(h * 100 < f * 85 && h * 10 > f * 3, "half scale (open items are not scaled): {h} vs {f}");
        for r in half.repos().iter().filter(|r| !r.deleted) {
            check(&half, r, &half.deep(r.id).expect("deep"));
        }
        assert!(off.repos().iter().all(|r| off.deep(r.id).is_none()));
        assert_eq!(off.deep_generated(), 0);
    }
}
