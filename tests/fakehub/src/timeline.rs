//! The universe's states over time. State 0 is what `Universe::generate`
//! made; each `Universe::advance` / `Universe::advance_day` appends a new
//! state (a copy of the repository table with the changed repositories
//! patched, new repositories appended, and a later "now"; the id list, the
//! owners and the name indexes are shared with the previous state unless
//! the advance changed them). Repositories only ever get appended (new ones
//! have higher ids), so an index into one state's table names the same
//! repository in every later state. States are never removed, so `&Repo`s
//! handed out earlier stay valid, while every accessor reads the newest
//! state. The store is a fixed array of `OnceLock`s (safe, lock-free reads);
//! at most [`MAX_STATES`].

use crate::search::SearchIndex;
use crate::universe::{Owner, Repo};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

/// Initial state plus at most `MAX_STATES - 1` advances.
pub(crate) const MAX_STATES: usize = 1024;

/// A name a repository was renamed away from (`/repos/{old}` answers 301).
#[derive(Clone, Debug)]
pub(crate) struct OldName {
    /// `name_hash` of the old full name.
    pub hash: u64,
    /// Index of the repository (into every later state's `repos`).
    pub index: u32,
    pub full_name: String,
}

/// What a state holds besides its repositories (shared between states while unchanged).
#[derive(Clone, Debug)]
pub(crate) struct Tables {
    /// Every id in use, public and hidden, sorted.
    pub ids: Arc<Vec<u64>>,
    /// Owners with their repositories' indices.
    pub owners: Arc<Vec<Owner>>,
    /// (hash of the lowercase full name, index into `repos`), sorted.
    pub names: Arc<Vec<(u64, u32)>>,
    /// Names repositories were renamed away from, sorted by hash.
    pub old_names: Arc<Vec<OldName>>,
}

/// One state of the universe.
pub(crate) struct State {
    /// Every public repository (deleted ones included), sorted by id.
    pub repos: Vec<Repo>,
    /// The universe's "now", epoch seconds.
    pub now: i64,
    pub tables: Tables,
    /// The search index of `repos`, built on first search.
    pub search: OnceLock<SearchIndex>,
}

impl State {
    pub fn new(repos: Vec<Repo>, now: i64, tables: Tables) -> State {
        State { repos, now, tables, search: OnceLock::new() }
    }
}

/// Append-only list of states; readers see the newest.
pub(crate) struct Timeline {
    states: Box<[OnceLock<State>]>,
    current: AtomicUsize,
}

impl std::fmt::Debug for Timeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Timeline").field("current", &self.index()).finish_non_exhaustive()
    }
}

impl Timeline {
    pub fn new(first: State) -> Timeline {
        let states: Box<[OnceLock<State>]> = (0..MAX_STATES).map(|_| OnceLock::new()).collect();
        let _ = states[0].set(first);
        Timeline { states, current: AtomicUsize::new(0) }
    }

    /// Index of the newest state (0 before any advance).
    pub fn index(&self) -> usize {
        self.current.load(Ordering::Acquire)
    }

    /// The newest state.
    pub fn current(&self) -> &State {
        self.state(self.index())
    }

    /// State `i` (0 = as generated).
    pub fn state(&self, i: usize) -> &State {
        match self.states.get(i).and_then(OnceLock::get) {
            Some(state) => state,
            None => panic!("fakehub: state {i} does not exist"),
        }
    }

    /// Append a state and make it current. Callers serialise pushes.
    ///
    /// # Panics
    /// After `MAX_STATES - 1` advances.
    pub fn push(&self, state: State) {
        let next = self.index() + 1;
        assert!(next < MAX_STATES, "fakehub: at most {} advances", MAX_STATES - 1);
        if self.states[next].set(state).is_err() {
            panic!("fakehub: concurrent advances");
        }
        self.current.store(next, Ordering::Release);
    }
}
