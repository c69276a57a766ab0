//! Where deep data lives: generated on first use per repository and cached
//! (so a universe of a million repositories starts as fast as before), and
//! replaced by [`crate::advance`] when a repository changes. Readers get an
//! `Arc<Deep>` snapshot that never changes under them.

use crate::deep::Deep;
use crate::deep_gen;
use crate::universe::{Repo, Universe};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

/// The cache of generated (and advanced) deep data, by repository id.
#[derive(Default)]
pub(crate) struct DeepStore {
    cache: Mutex<HashMap<u64, Arc<Deep>>>,
    /// Held by `advance` for its whole run (advances are serialised).
    pub advancing: Mutex<()>,
}

impl std::fmt::Debug for DeepStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeepStore").field("cached", &lock(&self.cache).len()).finish()
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Universe {
    /// The deep data of a repository as it is now: `None` for unknown, hidden
    /// and deleted repositories, and for every repository when
    /// `UniverseConfig::deep_scale` is 0. Generated on first use (then cached).
    pub fn deep(&self, repo_id: u64) -> Option<Arc<Deep>> {
        if self.config().deep_scale <= 0.0 {
            return None;
        }
        let index = self.repos().binary_search_by_key(&repo_id, |r| r.id).ok()?;
        if self.repos()[index].deleted {
            return None;
        }
        if let Some(deep) = lock(&self.deep_store.cache).get(&repo_id) {
            return Some(deep.clone());
        }
        // Generated from the repository as it was when it appeared (generated
        // or created by an advance) and that state's now; advances since then
        // changed the cache, not this.
        let birth = self.timeline().state(self.repos()[index].born());
        let generated = Arc::new(deep_gen::generate(self, &birth.repos[index], birth.now));
        // Another thread (or an advance) may have stored it meanwhile: theirs wins.
        Some(lock(&self.deep_store.cache).entry(repo_id).or_insert(generated).clone())
    }

    /// How many repositories' deep data has been generated so far.
    pub fn deep_generated(&self) -> usize {
        lock(&self.deep_store.cache).len()
    }

    /// (open issues, open pull requests) of a repository, without generating
    /// its deep data when it was never generated (the split is seeded).
    pub(crate) fn open_counts(&self, repo: &Repo) -> (u32, u32) {
        if let Some(deep) = lock(&self.deep_store.cache).get(&repo.id) {
            return (deep.open_issues() as u32, deep.open_pulls() as u32);
        }
        deep_gen::open_split(self.config().seed, repo)
    }

    /// Replace a repository's deep data (`advance`).
    pub(crate) fn store_deep(&self, deep: Deep) {
        lock(&self.deep_store.cache).insert(deep.repo_id, Arc::new(deep));
    }
}
