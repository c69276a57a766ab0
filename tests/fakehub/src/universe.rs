//! Ground truth: a seeded, deterministic universe of repositories. Ids are
//! sparse and strictly increasing, laid out in consecutive segments of the id
//! space whose mean gap (1, 3, 10 or 30, in a seeded order) makes the density
//! vary 30x, like real GitHub. Roughly `hidden_fraction` of all ids are hidden
//! (private or deleted repositories: they occupy ids, which shapes
//! `/repositories` paging, but every endpoint answers 404 for them); some short
//! "dark" runs are almost entirely hidden, so empty listing pages exist.
//! `deleted_fraction` of the public repositories are listed by
//! `/repositories` but were deleted since (404 / GraphQL NOT_FOUND).
//! `created_at` grows strictly with the id from 2008-01-15 to late 2025 (and
//! on past now for repositories created by advances), so no two repositories
//! share a creation second and date ranges slice searches evenly by id. Owners are skewed (a few own hundreds or more; ~25% are
//! organizations); users star repositories (see `stars.rs`). Ground-truth
//! helpers for the listings and search live next to their endpoints
//! (`owners.rs`, `search.rs`): [`Universe::owned_by`], [`Universe::starred_by`],
//! [`Universe::search`], [`Universe::owners_by_repo_count`]. Deep data
//! (issues, pull requests, runs, commits) is generated per repository on first
//! use ([`Universe::deep`]); [`Universe::advance`] and
//! [`Universe::advance_day`] let time pass (pushes, stars, renames, new
//! descriptions, deletions, new repositories), after which every accessor
//! reads the new state (`timeline.rs`). Every timestamp is at or before
//! [`Universe::now`].

use crate::deep_store::DeepStore;
use crate::ids;
use crate::search::SearchIndex;
use crate::stars;
use crate::time::Timestamp;
use crate::timeline::{State, Tables, Timeline};
use crate::words;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// How to generate a universe.
#[derive(Clone, Debug)]
pub struct UniverseConfig {
    /// Number of public repositories (deleted ones included).
    pub repos: usize,
    pub seed: u64,
    /// Fraction of all ids that are hidden (private/deleted before listing). Default 0.3.
    pub hidden_fraction: f64,
    /// Fraction of public repos listed by `/repositories` but deleted since. Default 0.
    pub deleted_fraction: f64,
    /// Scale of the deep data (issues, pull requests, workflow runs, commits; see
    /// [`crate::deep`]): 1.0 (default) is the normal amount, 0.5 about half the
    /// closed items, runs and commits (open counts always match `open_issues_count`),
    /// 0.0 switches deep data off (`Universe::deep` is `None`, the deep endpoints
    /// answer empty lists and GraphQL's open-issue count is `open_issues_count`).
    pub deep_scale: f64,
}

impl Default for UniverseConfig {
    fn default() -> Self {
        UniverseConfig { repos: 1000, seed: 1, hidden_fraction: 0.3, deleted_fraction: 0.0, deep_scale: 1.0 }
    }
}

impl UniverseConfig {
    /// `repos` public repositories with the given seed and default fractions.
    pub fn new(repos: usize, seed: u64) -> Self {
        UniverseConfig { repos, seed, ..Default::default() }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum OwnerType {
    User,
    Organization,
}

impl OwnerType {
    pub fn as_str(self) -> &'static str {
        match self {
            OwnerType::User => "User",
            OwnerType::Organization => "Organization",
        }
    }
}

/// A license as GitHub describes it (`spdx_id` is `NOASSERTION` for "Other").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct License {
    pub key: &'static str,
    pub name: &'static str,
    pub spdx_id: &'static str,
    /// Database id used for the license node id; 0 for "other" (no node id).
    #[serde(skip)]
    pub github_id: u32,
}

/// A user or organization owning repositories.
#[derive(Clone, Debug, Serialize)]
pub struct Owner {
    pub login: String,
    pub id: u64,
    pub owner_type: OwnerType,
    /// Indices into `Universe::repos()` of this owner's repositories, by id.
    #[serde(skip)]
    pub repo_indices: Vec<u32>,
}

impl Owner {
    /// Legacy node id (`MDQ6VXNlcjE=` style for users, `MDEyOk9yZ2Fu...` for orgs).
    pub fn node_id(&self) -> String {
        match self.owner_type {
            OwnerType::User => ids::user_node_id(self.id),
            OwnerType::Organization => ids::org_node_id(self.id),
        }
    }
}

/// One public repository, as the API reports it. The owner's login and the
/// repository name are the two halves of `full_name` (see [`Repo::owner_login`]
/// and [`Repo::name`]). REST quirk kept on purpose: `watchers_count` equals
/// `stargazers_count`; the real watcher count is `subscribers_count` (which is
/// what GraphQL's `watchers{totalCount}` reports).
#[derive(Clone, Debug, Serialize)]
pub struct Repo {
    pub id: u64,
    pub node_id: String,
    pub full_name: String,
    #[serde(skip)]
    name_start: u32,
    pub owner_id: u64,
    pub owner_type: OwnerType,
    pub description: Option<String>,
    pub fork: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub pushed_at: Timestamp,
    pub stargazers_count: u32,
    /// Always equal to `stargazers_count`, as in GitHub's REST API.
    pub watchers_count: u32,
    pub subscribers_count: u32,
    pub forks_count: u32,
    pub network_count: u32,
    /// REST's count: open issues plus open pull requests (GraphQL
    /// `issues(states: OPEN){totalCount}` counts the issues alone; see [`crate::deep`]).
    pub open_issues_count: u32,
    /// Kilobytes. 0 means an empty repository (GraphQL `defaultBranchRef` is null).
    pub size: u32,
    pub language: Option<&'static str>,
    pub topics: Vec<&'static str>,
    pub license: Option<&'static License>,
    pub default_branch: &'static str,
    pub archived: bool,
    pub disabled: bool,
    pub has_issues: bool,
    pub has_projects: bool,
    pub has_wiki: bool,
    pub has_pages: bool,
    pub has_downloads: bool,
    pub has_discussions: bool,
    pub is_template: bool,
    /// Listed by `/repositories` but deleted since: 404 everywhere else.
    pub deleted: bool,
    /// The state it appeared in (0: generated; n: created by the n-th advance).
    #[serde(skip)]
    pub(crate) born: u32,
}

impl Repo {
    /// The repository name (after the `/`).
    pub fn name(&self) -> &str {
        &self.full_name[self.name_start as usize..]
    }

    /// The owner's login (before the `/`).
    pub fn owner_login(&self) -> &str {
        &self.full_name[..self.name_start as usize - 1]
    }

    /// True when the repository has no commits (size 0).
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Give the repository a new name (same owner): a rename.
    pub(crate) fn set_name(&mut self, name: &str) {
        let owner_len = self.name_start as usize - 1;
        self.full_name.truncate(owner_len + 1);
        self.full_name.push_str(name);
    }

    /// The index of the state it appeared in (0 = generated).
    pub(crate) fn born(&self) -> usize {
        self.born as usize
    }
}

/// A stretch of the id space with one mean gap between consecutive ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Segment {
    /// First id of the segment.
    pub start: u64,
    /// One past the last id of the segment.
    pub end: u64,
    pub mean_gap: u32,
    /// A run of (almost) only hidden ids.
    pub dark: bool,
}

/// The ground truth. Repositories are fixed once generated except for what
/// [`Universe::advance`] and [`Universe::advance_day`] change (every accessor
/// reads the newest state).
#[derive(Debug)]
pub struct Universe {
    config: UniverseConfig,
    timeline: Timeline,
    /// Login (lowercase) to index into `owners()` (owners never change, only their repositories).
    owner_by_login: HashMap<String, u32>,
    segments: Vec<Segment>,
    /// Per owner (parallel to `owners`): (starred_at, repo index), newest first.
    starred: Vec<Vec<(i64, u32)>>,
    /// Indices into `owners` of the users (the possible authors of deep data).
    users: Vec<u32>,
    /// Deep data generated so far (and changed by `advance`).
    pub(crate) deep_store: DeepStore,
}

/// Repositories generated per RNG stream (and per unit of parallel work).
const CHUNK: usize = 1 << 15;
const T_FIRST: i64 = 1_200_355_200; // 2008-01-15
const T_LAST_CREATED: i64 = 1_764_547_200; // 2025-12-01
const T_NOW: i64 = 1_767_225_600; // 2026-01-01 (star times)
/// The universe's first "now" is its newest repository's creation plus this.
const NOW_AFTER_NEWEST: i64 = 86_400;

impl Universe {
    /// Generate deterministically from `cfg` (same config -> same universe).
    pub fn generate(cfg: &UniverseConfig) -> Universe {
        let (all_ids, public_ids, segments) = layout_ids(cfg);
        let max_id = all_ids.last().copied().unwrap_or(0);
        let mut rng = fastrand::Rng::with_seed(cfg.seed ^ 0xA076_1D64_78BD_642F);
        let mut owners = make_owners(&mut rng, cfg.repos);
        // Owner and per-owner counter of every repo (sequential: names depend on it).
        let mut owner_counts = vec![0u32; owners.len()];
        let assigned: Vec<(u32, u32)> = (0..public_ids.len())
            .map(|index| {
                let owner = pick_owner(&mut rng, owners.len());
                owners[owner].repo_indices.push(index as u32);
                owner_counts[owner] += 1;
                (owner as u32, owner_counts[owner] - 1)
            })
            .collect();
        // Everything else, in fixed-size chunks with their own seeded RNG (so the
        // result does not depend on the number of threads).
        let step = ((T_LAST_CREATED - T_FIRST) as f64 / (max_id.max(1) + 1) as f64).max(1.0);
        // An upper bound of "now" (the newest creation + 1 day); clamped exactly below.
        let last_public = public_ids.last().copied().unwrap_or(0);
        let t_end = T_FIRST + ((last_public + 1) as f64 * step) as i64 + NOW_AFTER_NEWEST;
        let chunk = |c: usize| -> Vec<Repo> {
            let mut rng =
                fastrand::Rng::with_seed(cfg.seed ^ 0xE703_7ED1_A0B4_28DB ^ (c as u64).wrapping_mul(0x9E37_79B9));
            let range = c * CHUNK..((c + 1) * CHUNK).min(public_ids.len());
            range
                .map(|i| {
                    let id = public_ids[i];
                    let (owner, counter) = assigned[i];
                    let created = T_FIRST + (id as f64 * step) as i64 + rng.i64(0..step as i64);
                    make_repo(&mut rng, cfg, id, &owners[owner as usize], counter, created, t_end)
                })
                .collect()
        };
        let chunks = public_ids.len().div_ceil(CHUNK);
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8).min(chunks);
        let mut parts: Vec<(usize, Vec<Repo>)> = if threads <= 1 {
            (0..chunks).map(|c| (c, chunk(c))).collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let chunk = &chunk;
                        scope.spawn(move || (t..chunks).step_by(threads).map(|c| (c, chunk(c))).collect::<Vec<_>>())
                    })
                    .collect();
                handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
            })
        };
        parts.sort_unstable_by_key(|(c, _)| *c);
        let mut repos = Vec::with_capacity(public_ids.len());
        for (_, part) in parts {
            repos.extend(part);
        }
        let now = repos.iter().map(|r| r.created_at.0).max().unwrap_or(T_FIRST) + NOW_AFTER_NEWEST;
        for r in &mut repos {
            r.pushed_at = Timestamp(r.pushed_at.0.min(now));
            r.updated_at = Timestamp(r.updated_at.0.min(now));
        }
        let owner_by_login = owners.iter().enumerate().map(|(i, o)| (o.login.to_ascii_lowercase(), i as u32)).collect();
        let mut name_index: Vec<(u64, u32)> =
            repos.iter().enumerate().map(|(i, r)| (name_hash(&r.full_name), i as u32)).collect();
        name_index.sort_unstable();
        let starred = stars::generate(cfg.seed, &owners, &repos, T_NOW);
        let users = (0..owners.len() as u32).filter(|&i| owners[i as usize].owner_type == OwnerType::User).collect();
        let tables = Tables {
            ids: Arc::new(all_ids),
            owners: Arc::new(owners),
            names: Arc::new(name_index),
            old_names: Arc::new(Vec::new()),
        };
        Universe {
            config: cfg.clone(),
            timeline: Timeline::new(State::new(repos, now, tables)),
            owner_by_login,
            segments,
            starred,
            users,
            deep_store: DeepStore::default(),
        }
    }

    /// The search index (lowercased text and packed fields) of the current
    /// state, built on first use.
    pub(crate) fn search_index(&self) -> &SearchIndex {
        let state = self.timeline.current();
        state.search.get_or_init(|| SearchIndex::build(&state.repos, &state.tables.owners))
    }

    /// The states over time (for `advance`).
    pub(crate) fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// The universe's "now": its newest repository's creation + 1 day at
    /// first, moved on by every [`Universe::advance`] / [`Universe::advance_day`].
    /// Every timestamp of the data is at or before it.
    pub fn now(&self) -> Timestamp {
        Timestamp(self.timeline.current().now)
    }

    /// How many times [`Universe::advance`] or [`Universe::advance_day`] was called.
    pub fn advances(&self) -> usize {
        self.timeline.index()
    }

    /// Indices into `owners()` of the users (organizations excluded).
    pub(crate) fn user_indices(&self) -> &[u32] {
        &self.users
    }

    /// Index into `owners()` of a login, case-insensitively.
    pub(crate) fn owner_index(&self, login: &str) -> Option<usize> {
        self.owner_by_login.get(&login.to_ascii_lowercase()).map(|&i| i as usize)
    }

    /// The current state's id list, owners and name indexes.
    pub(crate) fn tables(&self) -> &Tables {
        &self.timeline.current().tables
    }

    /// (starred_at, repo index) of the owner at `owner_index`, newest first.
    pub(crate) fn stars_of(&self, owner_index: usize) -> &[(i64, u32)] {
        self.starred.get(owner_index).map_or(&[], Vec::as_slice)
    }

    pub fn config(&self) -> &UniverseConfig {
        &self.config
    }

    /// Public repositories (deleted ones included), sorted by id, as they are
    /// now (after any advance: created ones appended, renamed ones with their
    /// new name, deleted ones flagged).
    pub fn repos(&self) -> &[Repo] {
        &self.timeline.current().repos
    }

    /// The repositories as generated, before any advance.
    pub(crate) fn initial_repos(&self) -> &[Repo] {
        &self.timeline.state(0).repos
    }

    /// Public repositories with `from <= id < to`.
    pub fn repos_in(&self, from: u64, to: u64) -> Vec<&Repo> {
        let repos = self.repos();
        let start = repos.partition_point(|r| r.id < from);
        repos[start..].iter().take_while(|r| r.id < to).collect()
    }

    /// Highest id of any kind (public or hidden); 0 for an empty universe.
    /// Grows when [`Universe::advance_day`] creates repositories.
    pub fn max_id(&self) -> u64 {
        self.all_ids().last().copied().unwrap_or(0)
    }

    /// Every id in use, public and hidden, sorted.
    pub fn all_ids(&self) -> &[u64] {
        &self.tables().ids
    }

    /// Number of hidden ids.
    pub fn hidden_count(&self) -> usize {
        self.all_ids().len() - self.repos().len()
    }

    /// The id-space layout as generated (for density checks; ids created by
    /// advances lie beyond the last segment).
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// A public repository by id (deleted ones included: check `deleted`).
    pub fn get(&self, id: u64) -> Option<&Repo> {
        let repos = self.repos();
        repos.binary_search_by_key(&id, |r| r.id).ok().map(|i| &repos[i])
    }

    /// A public repository by `owner/name`, case-insensitively like GitHub
    /// (deleted ones included: check `deleted`).
    pub fn by_full_name(&self, full_name: &str) -> Option<&Repo> {
        let (owner, name) = full_name.split_once('/')?;
        self.by_owner_and_name(owner, name)
    }

    /// Same as [`Universe::by_full_name`] with the two halves apart. A
    /// renamed repository answers to its new name only (see
    /// [`Universe::renamed_from`] for the old one).
    pub fn by_owner_and_name(&self, owner: &str, name: &str) -> Option<&Repo> {
        let state = self.timeline.current();
        let names = &state.tables.names;
        let hash = name_hash_parts(owner, name);
        let start = names.partition_point(|&(h, _)| h < hash);
        names[start..]
            .iter()
            .take_while(|&&(h, _)| h == hash)
            .map(|&(_, i)| &state.repos[i as usize])
            .find(|r| r.owner_login().eq_ignore_ascii_case(owner) && r.name().eq_ignore_ascii_case(name))
    }

    /// The repository that was called `owner/name` before a rename (by
    /// [`Universe::advance_day`]) and still exists under another name, if no
    /// repository carries that name now: what GitHub redirects to (REST 301,
    /// GraphQL `repository(followRenames: true)`). Deleted ones included:
    /// check `deleted`.
    pub fn renamed_from(&self, owner: &str, name: &str) -> Option<&Repo> {
        if self.by_owner_and_name(owner, name).is_some() {
            return None;
        }
        let state = self.timeline.current();
        let old = &state.tables.old_names;
        let hash = name_hash_parts(owner, name);
        let start = old.partition_point(|o| o.hash < hash);
        old[start..]
            .iter()
            .take_while(|o| o.hash == hash)
            .find(|o| o.full_name.eq_ignore_ascii_case(&format!("{owner}/{name}")))
            .map(|o| &state.repos[o.index as usize])
    }

    /// An owner by login, case-insensitively.
    pub fn owner(&self, login: &str) -> Option<&Owner> {
        let key = login.to_ascii_lowercase();
        self.owner_by_login.get(&key).map(|&i| &self.owners()[i as usize])
    }

    /// Every owner (users and organizations), with their repositories' indices as of now.
    pub fn owners(&self) -> &[Owner] {
        &self.tables().owners
    }

    /// A repository the API can serve: public and not deleted.
    pub fn visible(&self, id: u64) -> Option<&Repo> {
        self.get(id).filter(|r| !r.deleted)
    }

    /// One `/repositories?since=` page: the window is the next `window` ids of
    /// all ids (public and hidden) greater than `since`. Returns the public repos
    /// in the window, the last id of the window (None when the window is empty)
    /// and whether any id exists beyond the window.
    pub fn listing_page(&self, since: u64, window: usize) -> (Vec<&Repo>, Option<u64>, bool) {
        let all_ids = self.all_ids();
        let start = all_ids.partition_point(|&id| id <= since);
        let end = (start + window).min(all_ids.len());
        if start >= end {
            return (Vec::new(), None, false);
        }
        let last = all_ids[end - 1];
        (self.repos_in(since.saturating_add(1), last + 1), Some(last), end < all_ids.len())
    }
}

/// FNV-1a of the ASCII-lowercased `owner/name`.
fn name_hash_parts(owner: &str, name: &str) -> u64 {
    [owner.as_bytes(), b"/", name.as_bytes()]
        .iter()
        .flat_map(|part| part.iter())
        .fold(0xCBF2_9CE4_8422_2325, |h, &b| {
            (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0000_0100_0000_01B3)
        })
}

pub(crate) fn name_hash(full_name: &str) -> u64 {
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, ""));
    name_hash_parts(owner, name)
}

/// Lay out the id space: (all ids, public ids, segments).
fn layout_ids(cfg: &UniverseConfig) -> (Vec<u64>, Vec<u64>, Vec<Segment>) {
    let hidden = if cfg.hidden_fraction.is_finite() { cfg.hidden_fraction.clamp(0.0, 0.95) } else { 0.0 };
    let mut rng = fastrand::Rng::with_seed(cfg.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5851_F42D);
    let total_estimate = (cfg.repos as f64 / (1.0 - hidden)) as usize + 1;
    let seg_base = (total_estimate / 40).clamp(50, 5000);
    let mut all = Vec::with_capacity(total_estimate + total_estimate / 16);
    let mut public = Vec::with_capacity(cfg.repos);
    let mut segments = Vec::new();
    let mut gaps = [1u32, 3, 10, 30];
    let mut gap_pos = gaps.len();
    let mut next_id = 1 + rng.u64(0..3);
    let mut any_dark = false;
    // Dark runs hold about 4% of the ids (at least one run when anything is hidden).
    let dark_p = (0.04 * seg_base as f64 / 260.0).min(0.12);
    let mut hidden_so_far = 0usize;
    while public.len() < cfg.repos {
        let dark = hidden > 0.0 && segments.len() >= 2 && (rng.f64() < dark_p || (segments.len() >= 3 && !any_dark));
        let (mean_gap, count) = if dark {
            any_dark = true;
            (1, rng.usize(120..=400))
        } else {
            if gap_pos == gaps.len() {
                rng.shuffle(&mut gaps);
                gap_pos = 0;
            }
            gap_pos += 1;
            (gaps[gap_pos - 1], rng.usize(seg_base / 2..=seg_base * 3 / 2))
        };
        let hidden_p = if dark {
            0.995
        } else {
            // Steer the overall hidden fraction back towards the target after dark runs.
            let target = hidden * (all.len() + count) as f64 - hidden_so_far as f64;
            (target / count as f64).clamp(hidden * 0.5, (hidden * 1.5).min(0.95))
        };
        let start = next_id;
        for _ in 0..count {
            all.push(next_id);
            if rng.f64() >= hidden_p {
                public.push(next_id);
            } else {
                hidden_so_far += 1;
            }
            next_id += if mean_gap == 1 { 1 } else { rng.u64(1..=u64::from(2 * mean_gap - 1)) };
            if public.len() == cfg.repos {
                break;
            }
        }
        segments.push(Segment { start, end: next_id, mean_gap, dark });
    }
    if hidden > 0.0 {
        // A tail of hidden ids after the last public one.
        for _ in 0..rng.usize(1..=150) {
            all.push(next_id);
            next_id += rng.u64(1..=5);
        }
    }
    (all, public, segments)
}

fn make_owners(rng: &mut fastrand::Rng, repos: usize) -> Vec<Owner> {
    let count = (repos / 10).clamp(1, 5000);
    let mut seen_logins = HashSet::with_capacity(count);
    let mut seen_ids = HashSet::with_capacity(count);
    let mut owners = Vec::with_capacity(count);
    while owners.len() < count {
        let owner_type = if rng.f64() < 0.25 { OwnerType::Organization } else { OwnerType::User };
        let mut login = String::new();
        for _ in 0..rng.usize(1..=3) {
            login.push_str(words::SYLLABLES[rng.usize(..words::SYLLABLES.len())]);
        }
        if owner_type == OwnerType::Organization {
            login.push('-');
            login.push_str(words::ORG_SUFFIXES[rng.usize(..words::ORG_SUFFIXES.len())]);
        } else if rng.f64() < 0.5 {
            login.push_str(&rng.u32(1..2025).to_string());
        }
        if rng.f64() < 0.15 {
            // Mixed-case logins: lookups must be case-insensitive.
            let first = login[..1].to_ascii_uppercase();
            login.replace_range(..1, &first);
        }
        if !seen_logins.insert(login.to_ascii_lowercase()) {
            continue;
        }
        let mut id = rng.u64(1..=150_000_000);
        while !seen_ids.insert(id) {
            id = rng.u64(1..=150_000_000);
        }
        owners.push(Owner { login, id, owner_type, repo_indices: Vec::new() });
    }
    owners
}

/// Skewed owner choice: low indices own many repositories.
pub(crate) fn pick_owner(rng: &mut fastrand::Rng, count: usize) -> usize {
    let u = rng.f64();
    ((u * u * u) * count as f64) as usize % count
}

pub(crate) fn weighted<T: Copy>(rng: &mut fastrand::Rng, table: &[(T, u32)]) -> T {
    let total: u32 = table.iter().map(|&(_, w)| w).sum();
    let mut pick = rng.u32(..total);
    for &(value, weight) in table {
        if pick < weight {
            return value;
        }
        pick -= weight;
    }
    table[0].0
}

/// `n` in decimal, written into `buf`.
fn decimal(mut n: u32, buf: &mut [u8; 10]) -> &str {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[start..]).unwrap_or("0")
}

/// Pareto-like count: most are small, a few are huge.
pub(crate) fn skewed(rng: &mut fastrand::Rng, zero_p: f64, alpha: f64, cap: u32) -> u32 {
    if rng.f64() < zero_p {
        return 0;
    }
    let u = 1.0 - rng.f64(); // (0, 1]
    let x = u.powf(-1.0 / alpha);
    (x.min(f64::from(cap))) as u32
}

fn make_repo(
    rng: &mut fastrand::Rng,
    cfg: &UniverseConfig,
    id: u64,
    owner: &Owner,
    counter: u32,
    created: i64,
    t_end: i64,
) -> Repo {
    // Strings are built with one exact allocation each (this is the hot loop).
    let w = |rng: &mut fastrand::Rng| words::NAME_WORDS[rng.usize(..words::NAME_WORDS.len())];
    let sep = ["-", "-", "-", "_", "."][rng.usize(..5)];
    let mut digits = [0u8; 10];
    let counter = decimal(counter, &mut digits);
    let login = owner.login.as_str();
    let mut full_name = if counter == "0" {
        if rng.bool() { [login, "/", w(rng)].concat() } else { [login, "/", w(rng), sep, w(rng)].concat() }
    } else if rng.f64() < 0.3 {
        [login, "/", w(rng), counter].concat()
    } else {
        [login, "/", w(rng), sep, w(rng), sep, counter].concat()
    };
    let name_start = login.len() + 1;
    if rng.f64() < 0.1 {
        full_name[name_start..name_start + 1].make_ascii_uppercase();
    }

    let description = match rng.u32(..100) {
        0..=29 => None,
        30..=32 => Some(words::DESC_ODD[rng.usize(..words::DESC_ODD.len())].to_string()),
        _ => Some(
            [
                words::DESC_ADJECTIVES[rng.usize(..words::DESC_ADJECTIVES.len())],
                " ",
                words::DESC_NOUNS[rng.usize(..words::DESC_NOUNS.len())],
                " for ",
                words::TOPICS[rng.usize(..words::TOPICS.len())],
            ]
            .concat(),
        ),
    };
    let fork = rng.f64() < 0.15;
    let size = if rng.f64() < 0.05 { 0 } else { skewed(rng, 0.0, 0.7, 4_000_000) };
    let pushed = if size == 0 || rng.f64() < 0.3 {
        created + rng.i64(0..120)
    } else {
        created + ((t_end - created) as f64 * rng.f64().powi(2)) as i64
    };
    let updated = (pushed.max(created) + rng.i64(0..86_400 * 30)).min(t_end);
    let stars = skewed(rng, 0.6, 0.75, 400_000);
    let forks = if stars == 0 { u32::from(rng.f64() < 0.05) } else { (f64::from(stars) * rng.f64() * 0.3) as u32 };
    let subscribers = 1 + stars / 30 + rng.u32(0..3);
    let open_issues = skewed(rng, 0.7, 1.0, 5000);
    let language = if size == 0 || rng.f64() < 0.2 { None } else { Some(weighted(rng, words::LANGUAGES)) };
    let topic_count = if rng.f64() < 0.6 { 0 } else { rng.usize(1..=4) };
    let mut topics: Vec<&'static str> = Vec::new();
    while topics.len() < topic_count {
        let t = words::TOPICS[rng.usize(..words::TOPICS.len())];
        if !topics.contains(&t) {
            topics.push(t);
        }
    }
    topics.sort_unstable();
    let license = if rng.f64() < 0.45 { None } else { Some(&words::LICENSES[rng.usize(..words::LICENSES.len())]) };
    let default_branch = weighted(rng, words::BRANCHES);
    let deleted = cfg.deleted_fraction > 0.0 && rng.f64() < cfg.deleted_fraction;
    let archived = rng.f64() < 0.03;
    let has_issues = rng.f64() < 0.92;
    // Open pull requests need a branch, open issues need issues enabled.
    let open_issues = if size == 0 && !has_issues { 0 } else { open_issues };
    Repo {
        id,
        node_id: ids::repo_node_id(id),
        full_name,
        name_start: name_start as u32,
        owner_id: owner.id,
        owner_type: owner.owner_type,
        description,
        fork,
        created_at: Timestamp(created),
        updated_at: Timestamp(updated),
        pushed_at: Timestamp(pushed),
        stargazers_count: stars,
        watchers_count: stars,
        subscribers_count: subscribers,
        forks_count: forks,
        network_count: forks,
        open_issues_count: open_issues,
        size,
        language,
        topics,
        license,
        default_branch,
        archived,
        disabled: false,
        has_issues,
        has_projects: rng.f64() < 0.9,
        has_wiki: rng.f64() < 0.85,
        has_pages: rng.f64() < 0.05,
        has_downloads: true,
        has_discussions: rng.f64() < 0.05,
        is_template: rng.f64() < 0.01,
        deleted,
        born: 0,
    }
}

/// A repository created at `created` by the advance making state `born`
/// (`now` is that state's now): [`make_repo`]'s name, description, language,
/// topics and licence, with what a day-old repository has: few or no stars,
/// no forks, hardly any open issues, a first push soon after creation, not
/// archived, not deleted.
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_repo(
    rng: &mut fastrand::Rng,
    cfg: &UniverseConfig,
    id: u64,
    owner: &Owner,
    counter: u32,
    created: i64,
    now: i64,
    born: u32,
) -> Repo {
    let mut r = make_repo(rng, cfg, id, owner, counter, created, now);
    if rng.f64() < 0.2 {
        r.size = 0;
        r.language = None;
    } else {
        r.size = r.size.clamp(1, 5000);
    }
    let stars = if rng.f64() < 0.9 { 0 } else { rng.u32(1..=3) };
    r.stargazers_count = stars;
    r.watchers_count = stars;
    r.subscribers_count = 1;
    r.forks_count = 0;
    r.network_count = 0;
    r.open_issues_count = if r.has_issues && rng.f64() < 0.05 { 1 } else { 0 };
    let pushed = if r.size == 0 { created } else { created + rng.i64(0..=(now - created).clamp(0, 6 * 3600)) };
    r.pushed_at = Timestamp(pushed);
    r.updated_at = Timestamp(pushed + rng.i64(0..=(now - pushed).clamp(0, 600)));
    r.archived = false;
    r.deleted = false;
    r.born = born;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Universe {
        Universe::generate(&UniverseConfig {
            repos: 3000,
            seed: 7,
            hidden_fraction: 0.3,
            deleted_fraction: 0.05,
            ..Default::default()
        })
    }

    #[test]
    fn deterministic() {
        let a = small();
        let b = small();
        assert_eq!(a.all_ids(), b.all_ids());
        assert_eq!(serde_json::to_string(a.repos()).ok(), serde_json::to_string(b.repos()).ok());
        let c = Universe::generate(&UniverseConfig { seed: 8, ..a.config().clone() });
        assert_ne!(a.all_ids(), c.all_ids());
    }

    #[test]
    fn deterministic_across_chunks() {
        let cfg = UniverseConfig::new(CHUNK + 500, 3);
        let a = Universe::generate(&cfg);
        let b = Universe::generate(&cfg);
        assert_eq!(a.repos().len(), CHUNK + 500);
        let key = |u: &Universe| {
            u.repos().iter().map(|r| (r.id, r.full_name.clone(), r.stargazers_count)).collect::<Vec<_>>()
        };
        assert_eq!(key(&a), key(&b));
    }

    #[test]
    fn shape() {
        let u = small();
        assert_eq!(u.repos().len(), 3000);
        assert!(u.repos()[0].id < 10, "ids start near 1");
        assert!(u.repos().windows(2).all(|w| w[0].id < w[1].id));
        assert!(u.all_ids().windows(2).all(|w| w[0] < w[1]));
        assert!(u.repos().windows(2).all(|w| w[0].created_at < w[1].created_at));
        let hidden = u.hidden_count() as f64 / u.all_ids().len() as f64;
        assert!((0.25..0.45).contains(&hidden), "hidden fraction {hidden}");
        let deleted = u.repos().iter().filter(|r| r.deleted).count();
        assert!((50..300).contains(&deleted), "deleted {deleted}");
        let names: HashSet<String> = u.repos().iter().map(|r| r.full_name.to_ascii_lowercase()).collect();
        assert_eq!(names.len(), 3000, "full names unique (case-insensitively)");
        let zero_stars = u.repos().iter().filter(|r| r.stargazers_count == 0).count();
        assert!(zero_stars > 1500);
        assert!(u.repos().iter().any(|r| r.stargazers_count > 1000));
        assert_eq!(u.max_id(), *u.all_ids().last().unwrap_or(&0));
        assert!(u.repos().iter().all(|r| r.born() == 0));
        for r in u.repos().iter().step_by(97) {
            assert_eq!(u.get(r.id).map(|x| x.id), Some(r.id));
            let upper = r.full_name.to_ascii_uppercase();
            assert_eq!(u.by_full_name(&upper).map(|x| x.id), Some(r.id));
            assert_eq!(format!("{}/{}", r.owner_login(), r.name()), r.full_name);
            assert_eq!(r.node_id, ids::repo_node_id(r.id));
        }
        assert!(u.by_full_name("nobody/nothing").is_none());
        assert!(u.by_full_name("no-slash").is_none());
    }

    #[test]
    fn density_varies_tenfold() {
        let u = small();
        let ids = u.all_ids();
        let densities: Vec<f64> = u
            .segments()
            .iter()
            .filter_map(|s| {
                let n = ids.partition_point(|&i| i < s.end) - ids.partition_point(|&i| i < s.start);
                (n >= 40).then(|| n as f64 / (s.end - s.start) as f64)
            })
            .collect();
        let max = densities.iter().cloned().fold(0.0, f64::max);
        let min = densities.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!(max / min >= 10.0, "density ratio {}", max / min);
    }

    #[test]
    fn listing_pages() {
        let u = small();
        let (page, last, more) = u.listing_page(0, 100);
        assert!(more);
        assert_eq!(last, Some(u.all_ids()[99]));
        assert!(page.len() < 100 && !page.is_empty());
        let (page, last, more) = u.listing_page(u.max_id(), 100);
        assert!(page.is_empty() && last.is_none() && !more);
    }
}
