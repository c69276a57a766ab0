//! The repository-level changes of [`Universe::advance_day`] besides pushes
//! (`advance.rs` draws who changes and applies pushes): stars, renames, new
//! descriptions and new repositories.
//!
//! - Stars move by 1-3 for most repositories and by up to about 0.2% of the
//!   count for popular ones; one change in five is a net loss (never below 0).
//! - A new name keeps the owner: the old name with a word added, a new word,
//!   or two new words; never a name the owner uses or used (old names keep
//!   redirecting), never one given earlier in the same advance.
//! - A new description is a fresh sentence from the generator's vocabulary;
//!   one in twenty descriptions is removed instead (`null`).
//! - New repositories continue the id space above the highest id with the
//!   generator's gaps (a mean gap of 1, 3, 10 or 30 per advance) and private
//!   ids among them (`hidden_fraction`), plus a short tail of private ids;
//!   `created_at` strictly increases with the id within (old now, new now];
//!   owners are picked with the generator's skew; the repository itself is
//!   [`crate::universe::new_repo`] (a day old: few stars, no forks, a first
//!   push within hours, 20% empty).
//!
//! [`Universe::advance_day`]: crate::Universe::advance_day

use crate::time::Timestamp;
use crate::timeline::{OldName, Tables};
use crate::universe::{Repo, Universe, name_hash, new_repo, pick_owner};
use crate::words;
use fastrand::Rng;
use std::collections::HashSet;
use std::sync::Arc;

/// Move `updated_at` to a time in (old, new] (to `new` when no time passed),
/// unless it is later already.
pub(crate) fn touch(repo: &mut Repo, rng: &mut Rng, old: i64, new: i64) {
    let at = if new > old { old + 1 + rng.i64(0..new - old) } else { new };
    repo.updated_at = repo.updated_at.max(Timestamp(at));
}

/// Change the stargazer count by a nonzero amount (REST `watchers_count` follows).
pub(crate) fn star(repo: &mut Repo, rng: &mut Rng) {
    let stars = repo.stargazers_count;
    let by = 1 + rng.u32(0..=(stars / 500).min(100_000) + 2);
    let stars = if stars >= by && rng.f64() < 0.2 { stars - by } else { stars.saturating_add(by) };
    repo.stargazers_count = stars;
    repo.watchers_count = stars;
}

/// A description as the generator writes them.
fn sentence(rng: &mut Rng) -> String {
    let pick = |rng: &mut Rng, list: &[&'static str]| list[rng.usize(..list.len())];
    if rng.f64() < 0.05 {
        return pick(rng, words::DESC_ODD).to_string();
    }
    [pick(rng, words::DESC_ADJECTIVES), " ", pick(rng, words::DESC_NOUNS), " for ", pick(rng, words::TOPICS)].concat()
}

/// Give the repository a description different from the one it has.
pub(crate) fn describe(repo: &mut Repo, rng: &mut Rng) {
    loop {
        let new = if repo.description.is_some() && rng.f64() < 0.05 { None } else { Some(sentence(rng)) };
        if new != repo.description {
            repo.description = new;
            return;
        }
    }
}

/// A candidate new name for a repository called `old`.
fn candidate(rng: &mut Rng, old: &str) -> String {
    let w = |rng: &mut Rng| words::NAME_WORDS[rng.usize(..words::NAME_WORDS.len())];
    let sep = ["-", "-", "-", "_", "."][rng.usize(..5)];
    match rng.u32(..10) {
        0..=3 if old.len() < 80 => [old, sep, w(rng)].concat(),
        4..=5 => w(rng).to_string(),
        _ => [w(rng), sep, w(rng)].concat(),
    }
}

/// The names given during one advance, and what the name indexes need to learn.
pub(crate) struct Names<'u> {
    u: &'u Universe,
    /// Lowercase full names given in this advance.
    given: HashSet<String>,
    /// (index, old full name) of each renamed repository.
    renamed: Vec<(u32, String)>,
    /// Indices of the created repositories.
    created: Vec<u32>,
}

impl<'u> Names<'u> {
    pub fn new(u: &'u Universe) -> Names<'u> {
        Names { u, given: HashSet::new(), renamed: Vec::new(), created: Vec::new() }
    }

    /// Whether `owner/name` is used now, was used before a rename, or was given in this advance.
    fn taken(&self, owner: &str, name: &str) -> bool {
        self.u.by_owner_and_name(owner, name).is_some()
            || self.u.renamed_from(owner, name).is_some()
            || self.given.contains(&format!("{owner}/{name}").to_ascii_lowercase())
    }

    /// Rename the repository at `index`.
    pub fn rename(&mut self, repo: &mut Repo, index: u32, rng: &mut Rng) {
        let old = repo.full_name.clone();
        let owner = repo.owner_login().to_string();
        let mut name = candidate(rng, repo.name());
        let mut attempt = 0;
        while self.taken(&owner, &name) {
            attempt += 1;
            name = if attempt < 8 { candidate(rng, repo.name()) } else { format!("{name}-{attempt}") };
        }
        repo.set_name(&name);
        self.given.insert(repo.full_name.to_ascii_lowercase());
        self.renamed.push((index, old));
    }

    /// Keep a new repository's name unless it is taken (then add `-2`, `-3`, ...).
    fn claim(&mut self, repo: &mut Repo) {
        let owner = repo.owner_login().to_string();
        let base = repo.name().to_string();
        let mut n = 1;
        while self.taken(&owner, repo.name()) {
            n += 1;
            repo.set_name(&format!("{base}-{n}"));
        }
        self.given.insert(repo.full_name.to_ascii_lowercase());
    }

    /// Update the name index (renamed and created repositories) and the old names.
    pub fn apply(self, repos: &[Repo], tables: &mut Tables) {
        if self.renamed.is_empty() && self.created.is_empty() {
            return;
        }
        let moved: HashSet<u32> = self.renamed.iter().map(|(i, _)| *i).collect();
        let mut names: Vec<(u64, u32)> = tables.names.iter().filter(|(_, i)| !moved.contains(i)).copied().collect();
        for &i in moved.iter().chain(&self.created) {
            names.push((name_hash(&repos[i as usize].full_name), i));
        }
        names.sort_unstable();
        tables.names = Arc::new(names);
        if !self.renamed.is_empty() {
            let mut old = (*tables.old_names).clone();
            for (index, full_name) in self.renamed {
                old.push(OldName { hash: name_hash(&full_name), index, full_name });
            }
            old.sort_by_key(|o| (o.hash, o.index));
            tables.old_names = Arc::new(old);
        }
    }
}

/// New repositories of one advance.
pub(crate) struct Creation<'u> {
    pub u: &'u Universe,
    /// The state the advance makes (the new repositories' `born`).
    pub step: u32,
    pub old_now: i64,
    pub new_now: i64,
}

impl Creation<'_> {
    /// Create up to `count` repositories (at most one per second of the
    /// advance), appended to `repos`, their ids and owners recorded in
    /// `tables`, their names in `names`. Returns their ids.
    pub fn run(
        &self,
        rng: &mut Rng,
        count: usize,
        repos: &mut Vec<Repo>,
        tables: &mut Tables,
        names: &mut Names,
    ) -> Vec<u64> {
        let span = usize::try_from(self.new_now - self.old_now).unwrap_or(0);
        let count = count.min(span);
        if count == 0 {
            return Vec::new();
        }
        let cfg = self.u.config();
        let hidden = if cfg.hidden_fraction.is_finite() { cfg.hidden_fraction.clamp(0.0, 0.95) } else { 0.0 };
        let mean_gap = [1u64, 3, 10, 30][rng.usize(..4)];
        let ids = Arc::make_mut(&mut tables.ids);
        let mut next = ids.last().copied().unwrap_or(0);
        let mut public = Vec::with_capacity(count);
        while public.len() < count {
            next += if mean_gap == 1 { 1 } else { rng.u64(1..=2 * mean_gap - 1) };
            ids.push(next);
            if rng.f64() >= hidden {
                public.push(next);
            }
        }
        if hidden > 0.0 {
            for _ in 0..rng.usize(0..=3) {
                next += rng.u64(1..=5);
                ids.push(next);
            }
        }
        let owners = Arc::make_mut(&mut tables.owners);
        let slot = (span / count) as i64;
        for (k, &id) in public.iter().enumerate() {
            let created = self.old_now + 1 + (k * span / count) as i64 + rng.i64(0..slot);
            let owner = pick_owner(rng, owners.len());
            let counter = owners[owner].repo_indices.len() as u32;
            let mut repo = new_repo(rng, cfg, id, &owners[owner], counter, created, self.new_now, self.step);
            names.claim(&mut repo);
            let index = repos.len() as u32;
            owners[owner].repo_indices.push(index);
            names.created.push(index);
            repos.push(repo);
        }
        public
    }
}
