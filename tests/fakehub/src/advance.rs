//! Time passing, for incremental crawls and daily refreshes:
//! [`Universe::advance_day`] moves "now" ahead and changes some repositories,
//! stamping every change after the old now; [`Universe::advance`] is the
//! pushes-only form. Which repositories change, and how, is seeded by
//! (universe seed, advance seed, advance number, repository id, a constant
//! per kind of change): each kind is an independent draw among the
//! repositories that were not deleted before the advance, so the data depends
//! only on the seed and the sequence of advance calls.
//!
//! Kinds, applied in this order (a repository deleted by the advance changes
//! in no other way):
//! - deleted: the repository is deleted (REST 404, GraphQL `null` +
//!   NOT_FOUND, gone from search and owner listings; `/repositories` still
//!   lists it, like the generated deleted ones).
//! - pushed (repositories with deep data only): 0-3 new issues (if enabled)
//!   and 0-2 new pull requests (if not empty), 1-3 existing issues or pull
//!   requests updated (closed, reopened, merged, marked ready, labelled,
//!   commented), its running workflow runs completed and 1-8 new runs (if it
//!   has workflows), and 1-5 new commits on the default branch (if not
//!   empty), which moves its head, `pushed_at` and `updated_at`;
//!   `open_issues_count` follows the open items.
//! - starred: `stargazers_count` (and REST's `watchers_count`, the same
//!   number) changes by a nonzero amount, up or down (never below 0), and
//!   `updated_at` moves (GitHub bumps it when a repository is starred).
//! - renamed: a new name under the same owner (same id and node id); the
//!   old name redirects ([`Universe::renamed_from`]: REST 301 to
//!   `/repositories/{id}`, GraphQL `repository(owner:, name:)` follows it);
//!   `updated_at` moves.
//! - described: a new description (rarely none); `updated_at` moves.
//! - created: new repositories with ids above the highest id (gaps and
//!   private ids in between, as the generator lays them out), `created_at`
//!   strictly increasing within (old now, new now], owned by existing
//!   owners, and deep data dated between their creation and the new now
//!   (see `day.rs`). Needs `days >= 1`.

use crate::day;
use crate::deep::{Conclusion, Deep, PER_REPO, RUN_ID_BASE, RunStatus, State, StateReason};
use crate::deep_items::{Gen, contributors};
use crate::deep_store::lock;
use crate::hash::{mix, mix_all, sha, unit};
use crate::time::Timestamp;
use crate::timeline::State as UniverseState;
use crate::universe::{Repo, Universe};
use fastrand::Rng;

/// How much changes in one [`Universe::advance_day`]: fractions (0..=1) of
/// the repositories not deleted before the advance, drawn independently per
/// kind, and a number of new repositories. `Default` changes nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DayChanges {
    /// New commits, issues, pull requests and runs (as [`Universe::advance`]).
    pub pushed: f64,
    /// Stargazer count up or down.
    pub starred: f64,
    /// A new name.
    pub renamed: f64,
    /// A new description.
    pub described: f64,
    /// Deleted.
    pub deleted: f64,
    /// New repositories.
    pub created: usize,
}

/// What one advance did. Every list holds repository ids, ascending.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Advance {
    /// The new now.
    pub now: Timestamp,
    /// Repositories that changed and still exist: the union of `pushed`,
    /// `starred`, `renamed` and `described`.
    pub changed: Vec<u64>,
    pub pushed: Vec<u64>,
    pub starred: Vec<u64>,
    pub renamed: Vec<u64>,
    pub described: Vec<u64>,
    pub deleted: Vec<u64>,
    pub created: Vec<u64>,
}

/// Per-kind constants of the draws (`PUSHED` is what `advance` always used).
const PUSHED: u64 = 0xADA;
const STARRED: u64 = 0x57A2;
const RENAMED: u64 = 0x2E4A;
const DESCRIBED: u64 = 0xDE5C;
const DELETED: u64 = 0xDE1E;
const CREATED: u64 = 0xC2EA;

impl Universe {
    /// Move now ahead by `days` and change about `fraction` of the
    /// repositories that have deep data (see the module docs): exactly
    /// `advance_day(days, &DayChanges { pushed: fraction, ..Default::default() }, seed)`.
    /// With deep data switched off only now moves.
    ///
    /// # Panics
    /// After 1023 advances.
    pub fn advance(&self, days: u32, fraction: f64, seed: u64) -> Advance {
        self.advance_day(days, &DayChanges { pushed: fraction, ..DayChanges::default() }, seed)
    }

    /// Move now ahead by `days` and apply `changes` (see the module docs):
    /// a day of GitHub for a daily refresh. Copies the repository table once
    /// per call (fine for test universes; a second or so for a million
    /// repositories). Pushes need deep data (`UniverseConfig::deep_scale > 0`);
    /// the other kinds do not.
    ///
    /// # Panics
    /// After 1023 advances.
    pub fn advance_day(&self, days: u32, changes: &DayChanges, seed: u64) -> Advance {
        let _serial = lock(&self.deep_store.advancing);
        let state = self.timeline().current();
        let step = self.advances() as u64 + 1;
        let (old_now, new_now) = (state.now, state.now + i64::from(days) * 86_400);
        let mut repos = state.repos.clone();
        let mut tables = state.tables.clone();
        let mut done = Advance { now: Timestamp(new_now), ..Advance::default() };
        let universe_seed = self.config().seed;
        let draw = |id: u64, kind: u64, fraction: f64| -> Option<u64> {
            if fraction <= 0.0 {
                return None;
            }
            let h = mix_all(&[universe_seed, seed, step, id, kind]);
            (unit(h) < fraction).then_some(h)
        };

        for repo in repos.iter_mut().filter(|r| !r.deleted) {
            if draw(repo.id, DELETED, changes.deleted).is_some() {
                repo.deleted = true;
                done.deleted.push(repo.id);
            }
        }
        if self.config().deep_scale > 0.0 {
            for repo in repos.iter_mut().filter(|r| !r.deleted) {
                let Some(h) = draw(repo.id, PUSHED, changes.pushed) else { continue };
                let Some(deep) = self.deep(repo.id) else { continue };
                let mut deep = (*deep).clone();
                let mut rng = Rng::with_seed(mix(h, 1));
                change(self, repo, &mut deep, &mut rng, old_now, new_now);
                repo.open_issues_count = (deep.open_issues() + deep.open_pulls()) as u32;
                if let Some(head) = deep.head() {
                    repo.pushed_at = head.committer.date;
                    repo.updated_at = repo.updated_at.max(head.committer.date);
                }
                // Drawn but with nothing to change (an empty repository with issues disabled
                // and no workflows): nothing happened to it, so it is not reported.
                let moved = self.deep(repo.id).is_none_or(|before| *before != deep);
                self.store_deep(deep);
                if moved {
                    done.pushed.push(repo.id);
                }
            }
        }
        for repo in repos.iter_mut().filter(|r| !r.deleted) {
            if let Some(h) = draw(repo.id, STARRED, changes.starred) {
                let mut rng = Rng::with_seed(mix(h, 1));
                day::star(repo, &mut rng);
                day::touch(repo, &mut rng, old_now, new_now);
                done.starred.push(repo.id);
            }
        }
        let mut names = day::Names::new(self);
        for (index, repo) in repos.iter_mut().enumerate().filter(|(_, r)| !r.deleted) {
            if let Some(h) = draw(repo.id, RENAMED, changes.renamed) {
                let mut rng = Rng::with_seed(mix(h, 1));
                names.rename(repo, index as u32, &mut rng);
                day::touch(repo, &mut rng, old_now, new_now);
                done.renamed.push(repo.id);
            }
        }
        for repo in repos.iter_mut().filter(|r| !r.deleted) {
            if let Some(h) = draw(repo.id, DESCRIBED, changes.described) {
                let mut rng = Rng::with_seed(mix(h, 1));
                day::describe(repo, &mut rng);
                day::touch(repo, &mut rng, old_now, new_now);
                done.described.push(repo.id);
            }
        }
        if changes.created > 0 && new_now > old_now {
            let mut rng = Rng::with_seed(mix_all(&[universe_seed, seed, step, CREATED]));
            let creation = day::Creation { u: self, step: step as u32, old_now, new_now };
            done.created = creation.run(&mut rng, changes.created, &mut repos, &mut tables, &mut names);
        }
        names.apply(&repos, &mut tables);

        let mut changed: Vec<u64> =
            [&done.pushed, &done.starred, &done.renamed, &done.described].into_iter().flatten().copied().collect();
        changed.sort_unstable();
        changed.dedup();
        done.changed = changed;
        self.timeline().push(UniverseState::new(repos, new_now, tables));
        done
    }
}

/// `n` sorted times in (old, new], or `new` when no time passed.
fn stamps(rng: &mut Rng, n: usize, old: i64, new: i64) -> Vec<i64> {
    let mut out: Vec<i64> = (0..n).map(|_| if new > old { old + 1 + rng.i64(0..new - old) } else { new }).collect();
    out.sort_unstable();
    out
}

fn change(u: &Universe, repo: &Repo, deep: &mut Deep, rng: &mut Rng, old: i64, new: i64) {
    let team: Vec<_> =
        deep.contributors.iter().take(10).map(|c| crate::deep::Account { login: c.login.clone(), id: c.id }).collect();
    let maker = Gen { u, repo, team, labels: deep.labels.clone() };
    let seed = u.config().seed;

    // New issues and pull requests, in time order.
    let new_issues = if deep.has_issues { rng.usize(0..=3) } else { 0 };
    let new_pulls = if repo.is_empty() { 0 } else { rng.usize(0..=2) };
    let mut kinds: Vec<bool> = (0..new_issues + new_pulls).map(|i| i >= new_issues).collect();
    rng.shuffle(&mut kinds);
    let existing = deep.last_number();
    for (is_pull, at) in kinds.into_iter().zip(stamps(rng, new_issues + new_pulls, old, new)) {
        let number = deep.last_number() + 1;
        if is_pull {
            deep.pulls.push(maker.pull(rng, number, at, true, new));
        } else {
            deep.issues.push(maker.issue(rng, number, at, true, new));
        }
    }

    // Updates of older items.
    let updates = rng.usize(1..=3);
    for at in stamps(rng, updates, old, new) {
        if existing == 0 {
            break;
        }
        let number = rng.u32(1..=existing);
        let roll = rng.f64();
        if let Ok(i) = deep.issues.binary_search_by_key(&number, |x| x.number) {
            let issue = &mut deep.issues[i];
            match issue.state {
                State::Open if roll < 0.6 => {
                    issue.state = State::Closed;
                    issue.closed_at = Some(Timestamp(at));
                    issue.state_reason =
                        Some(if rng.f64() < 0.8 { StateReason::Completed } else { StateReason::NotPlanned });
                }
                State::Closed if roll < 0.4 => {
                    issue.state = State::Open;
                    issue.closed_at = None;
                    issue.state_reason = Some(StateReason::Reopened);
                }
                _ => issue.comments += 1,
            }
            if rng.f64() < 0.3 && !maker.labels.is_empty() {
                let label = maker.labels[rng.usize(..maker.labels.len())];
                if !issue.labels.contains(&label) && issue.labels.len() < 4 {
                    issue.labels.push(label);
                }
            }
            issue.updated_at = issue.updated_at.max(Timestamp(at));
        } else if let Ok(i) = deep.pulls.binary_search_by_key(&number, |x| x.number) {
            let pull = &mut deep.pulls[i];
            match pull.state {
                State::Open if roll < 0.5 && !pull.draft => {
                    pull.state = State::Closed;
                    pull.closed_at = Some(Timestamp(at));
                    pull.merged_at = Some(Timestamp(at));
                    pull.merge_commit_sha = Some(sha(&[seed, repo.id, u64::from(number), 0x3E4C]));
                }
                State::Open if roll < 0.7 => {
                    pull.state = State::Closed;
                    pull.closed_at = Some(Timestamp(at));
                }
                State::Open => {
                    pull.draft = false;
                    pull.commits += 1;
                    pull.head_sha = sha(&[seed, repo.id, u64::from(number), at as u64, 0x4EAD]);
                }
                State::Closed if !pull.merged() && roll < 0.3 => {
                    pull.state = State::Open;
                    pull.closed_at = None;
                }
                State::Closed => pull.comments += 1,
            }
            pull.updated_at = pull.updated_at.max(Timestamp(at));
        }
    }

    // New commits on the default branch.
    if !repo.is_empty() {
        let earliest = deep.head().map_or(repo.created_at.0, |c| c.committer.date.0);
        let first_seq = deep.commits.len() as u64;
        let count = rng.usize(1..=5);
        let fresh: Vec<_> = stamps(rng, count, old, new)
            .into_iter()
            .enumerate()
            .map(|(k, at)| maker.commit(rng, first_seq + k as u64, at.max(earliest), earliest))
            .collect();
        deep.commits.splice(0..0, fresh.into_iter().rev());
        deep.contributors = contributors(&deep.commits);
    }

    // Runs: the running ones finish, new ones start.
    if !deep.workflows.is_empty() {
        let finish = stamps(rng, 1, old, new)[0];
        for run in deep.runs.iter_mut().filter(|r| r.status != RunStatus::Completed) {
            run.status = RunStatus::Completed;
            run.conclusion = Some(Conclusion::Success);
            run.updated_at = run.updated_at.max(Timestamp(finish));
        }
        let oldest_first: Vec<&_> = deep.commits.iter().rev().collect();
        let mut fresh = Vec::new();
        let count = rng.usize(1..=8);
        for at in stamps(rng, count, old, new) {
            let workflow = &deep.workflows[rng.usize(..deep.workflows.len())];
            let number = deep
                .runs
                .iter()
                .chain(fresh.iter())
                .filter(|r| r.workflow_id == workflow.id)
                .map(|r| r.run_number)
                .max()
                .unwrap_or(0)
                + 1;
            let id = RUN_ID_BASE + repo.id * PER_REPO + (deep.runs.len() + fresh.len()) as u64 + 1;
            fresh.push(maker.run(rng, id, workflow, number, at, false, new, &oldest_first));
        }
        deep.runs.splice(0..0, fresh.into_iter().rev());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::universe::UniverseConfig;

    fn universe() -> Universe {
        Universe::generate(&UniverseConfig::new(800, 3))
    }

    #[test]
    fn advancing_changes_some_repositories_after_the_old_now() {
        let u = universe();
        let before_now = u.now();
        let snapshot: Vec<(u64, Option<std::sync::Arc<Deep>>)> =
            u.repos().iter().map(|r| (r.id, u.deep(r.id))).collect();
        let repos_before = u.repos().to_vec();
        let step = u.advance(7, 0.2, 42);
        assert_eq!(step.now.0, before_now.0 + 7 * 86_400);
        assert_eq!(u.now(), step.now);
        assert_eq!(u.advances(), 1);
        let visible = repos_before.iter().filter(|r| !r.deleted).count();
        assert!(
            step.changed.len() * 100 > visible * 12 && step.changed.len() * 100 < visible * 28,
            "about 20%: {}",
            step.changed.len()
        );
        for (id, old) in snapshot {
            let repo = u.get(id).expect("repo");
            let old_repo = repos_before.iter().find(|r| r.id == id).expect("old repo");
            let new = u.deep(id);
            if !step.changed.contains(&id) {
                assert_eq!(new, old, "unchanged repository {id}");
                assert_eq!(repo.pushed_at, old_repo.pushed_at);
                continue;
            }
            let (old, new) = (old.expect("old deep"), new.expect("new deep"));
            assert_ne!(old, new);
            assert_eq!(new.open_issues() + new.open_pulls(), repo.open_issues_count as usize);
            let after = |t: Timestamp| t > before_now && t <= step.now;
            if !repo.is_empty() {
                let head = new.head().expect("head");
                assert!(after(head.committer.date) && head.sha != old.head().expect("old head").sha);
                assert_eq!(repo.pushed_at, head.committer.date);
                assert!(repo.updated_at >= repo.pushed_at);
                assert!(new.commits.ends_with(&old.commits), "history kept");
            }
            // Every item changed or added is stamped after the old now.
            for i in &new.issues {
                match old.issue(i.number) {
                    Some(o) if o == i => {}
                    _ => assert!(after(i.updated_at), "issue {} of {id}", i.number),
                }
            }
            for p in &new.pulls {
                match old.pull(p.number) {
                    Some(o) if o == p => {}
                    _ => assert!(after(p.updated_at)),
                }
            }
            assert!(new.runs.windows(2).all(|w| (w[0].created_at, w[0].id) > (w[1].created_at, w[1].id)));
        }
        // The search index follows the new state.
        let changed = u.get(step.changed[0]).expect("changed");
        let pushed = format!("pushed:>={}", Timestamp(changed.pushed_at.0).to_string().split('T').next().unwrap_or(""));
        assert!(
            u.search(&format!("{pushed} fork:true"))
                .is_ok_and(|found| found.iter().any(|r| r.id == changed.id) || changed.deleted)
        );
    }

    #[test]
    fn the_same_sequence_gives_the_same_data() {
        let (a, b) = (universe(), universe());
        // Different laziness: `a` generates everything first.
        for r in a.repos() {
            a.deep(r.id);
        }
        for (days, fraction, seed) in [(3, 0.3, 1), (0, 0.1, 2), (30, 1.0, 1)] {
            assert_eq!(a.advance(days, fraction, seed), b.advance(days, fraction, seed));
        }
        for r in b.repos() {
            assert_eq!(a.deep(r.id), b.deep(r.id));
        }
        assert_eq!(serde_json::to_string(a.repos()).ok(), serde_json::to_string(b.repos()).ok());
        let c = universe();
        c.advance(3, 0.3, 99);
        let differs = c.repos().iter().zip(a.repos()).any(|(x, y)| x.pushed_at != y.pushed_at);
        assert!(differs);
    }

    #[test]
    fn without_deep_data_only_now_moves() {
        let u = Universe::generate(&UniverseConfig { deep_scale: 0.0, ..UniverseConfig::new(300, 1) });
        let step = u.advance(2, 1.0, 1);
        assert!(step.changed.is_empty());
        assert_eq!(u.now(), step.now);
    }
}
