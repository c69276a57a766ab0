//! The universe's states over time. State 0 is what `Universe::generate`
//! made; each `Universe::advance` appends a new state (a copy of the
//! repository table with the changed repositories patched, and a later
//! "now"). States are never removed, so `&Repo`s handed out earlier stay
//! valid, while every accessor reads the newest state. The store is a fixed
//! array of `OnceLock`s (safe, lock-free reads); at most [`MAX_STATES`].

use crate::search::SearchIndex;
use crate::universe::Repo;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Initial state plus at most `MAX_STATES - 1` advances.
pub(crate) const MAX_STATES: usize = 1024;

/// One state of the universe.
pub(crate) struct State {
    /// Every public repository (deleted ones included), sorted by id.
    pub repos: Vec<Repo>,
    /// The universe's "now", epoch seconds.
    pub now: i64,
    /// The search index of `repos`, built on first search.
    pub search: OnceLock<SearchIndex>,
}

impl State {
    pub fn new(repos: Vec<Repo>, now: i64) -> State {
        State { repos, now, search: OnceLock::new() }
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
