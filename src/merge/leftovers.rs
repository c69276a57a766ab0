//! Leftovers: the unfinished work of a merge (items stopped at a deadline, failed items, and the
//! work of shards that never arrived), written as one YAML file that a later plan can take up.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::{Collect, WorkItem};
use crate::store::{PlanRow, Store, StoreError, WorkState, WorkStatus};

/// The leftovers file (`leftovers.yaml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leftovers {
    /// Format version.
    pub version: u32,
    /// The plan the work came from.
    pub plan_id: String,
    /// The source of that plan.
    pub source: String,
    /// What the plan collected.
    pub collect: Vec<Collect>,
    /// The remaining work.
    pub items: Vec<Leftover>,
}

/// One piece of unfinished work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Leftover {
    /// The plan it belonged to (absent in files of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// The shard it belonged to.
    pub shard: String,
    /// Why it is left over: `deadline`, `failed`, `interrupted` or `missing`.
    pub reason: String,
    /// The last error, if it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What remains to do (a range already narrowed past its cursor).
    pub work: WorkItem,
}

/// The unfinished work of a database: every work item not completed, narrowed past its cursor
/// but back to the first listed repository still waiting for its detail, less what another plan
/// completed later (a leftovers run merged with the run it finished).
pub fn unfinished(store: &Store, plans: &BTreeMap<String, PlanRow>) -> Result<Vec<Leftover>, StoreError> {
    let states = store.work_items(None)?;
    let done: Vec<&WorkState> = states.iter().filter(|s| s.status == WorkStatus::Completed).collect();
    let mut left = Vec::new();
    for state in states.iter().filter(|s| s.status != WorkStatus::Completed) {
        // Every collect list fetches detail (streams are sized by it), so listed rows without
        // it, or with streams not all collected, are work left in their range.
        let pending = match &state.item {
            WorkItem::IdRange { from, to, .. } => {
                Waiting { first_id: first_waiting(store, *from, *to)?, names: Vec::new() }
            }
            WorkItem::RepoNames { names } => {
                Waiting { first_id: None, names: names_with_pending_streams(store, names)? }
            }
            WorkItem::RepoNodes { repos } | WorkItem::Refresh { repos, .. } => {
                Waiting { first_id: None, names: ids_with_pending_streams(store, repos)? }
            }
            _ => Waiting::default(),
        };
        let Some(leftover) = remaining(state, &pending) else { continue };
        let done_later =
            done.iter().copied().filter(|other| other.plan_id != state.plan_id && other.updated_at > state.updated_at);
        if plans.len() > 1 && covered(&leftover.work, done_later) {
            continue;
        }
        left.push(leftover);
    }
    Ok(left)
}

/// What a work item's repositories still wait for, beyond its cursor.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Waiting {
    /// The lowest id of its range listed but still waiting for detail or a stream.
    pub first_id: Option<u64>,
    /// Its names (before the cursor) whose repositories still wait for a stream (for a list of
    /// node ids: the repository ids, as text).
    pub names: Vec<String>,
}

/// The names among `names` whose repositories have streams not all collected.
fn names_with_pending_streams(store: &Store, names: &[String]) -> Result<Vec<String>, StoreError> {
    let mut statement = store
        .conn()
        .prepare(
            "SELECT DISTINCT lower(r.full_name) FROM stream_state s JOIN repositories r ON r.id = s.repo_id
             WHERE s.status = 'pending'",
        )
        .map_err(|e| store.error(e))?;
    let pending: std::collections::HashSet<String> = statement
        .query_map([], |row| row.get(0))
        .map_err(|e| store.error(e))?
        .collect::<Result<_, _>>()
        .map_err(|e| store.error(e))?;
    Ok(names.iter().filter(|n| pending.contains(&n.to_ascii_lowercase())).cloned().collect())
}

/// The ids (as text) among `repos` whose streams are not all collected.
fn ids_with_pending_streams(store: &Store, repos: &[(u64, String)]) -> Result<Vec<String>, StoreError> {
    let mut statement = store
        .conn()
        .prepare("SELECT 1 FROM stream_state WHERE repo_id = ?1 AND status = 'pending' LIMIT 1")
        .map_err(|e| store.error(e))?;
    let mut pending = Vec::new();
    for (id, _) in repos {
        if statement.exists([*id as i64]).map_err(|e| store.error(e))? {
            pending.push(id.to_string());
        }
    }
    Ok(pending)
}

/// The lowest id in `[from, to)` still waiting: listed without detail, or with streams not all
/// collected.
fn first_waiting(store: &Store, from: u64, to: u64) -> Result<Option<u64>, StoreError> {
    store
        .conn()
        .query_row(
            "SELECT min(id) FROM (
                SELECT min(id) AS id FROM repositories WHERE detail_fetched_at IS NULL AND id >= ?1 AND id < ?2
                UNION ALL
                SELECT min(repo_id) FROM stream_state WHERE status = 'pending' AND repo_id >= ?1 AND repo_id < ?2)",
            [from as i64, to as i64],
            |row| row.get::<_, Option<i64>>(0),
        )
        .map(|id| id.map(|id| id as u64))
        .map_err(|e| store.error(e))
}

/// True when completed work items cover `work`: id ranges whose union spans it, or the same item.
fn covered<'a>(work: &WorkItem, done: impl Iterator<Item = &'a WorkState>) -> bool {
    let WorkItem::IdRange { from, to, .. } = work else {
        return done.into_iter().any(|state| &state.item == work);
    };
    let mut ranges: Vec<(u64, u64)> = done
        .filter_map(|state| match state.item {
            WorkItem::IdRange { from, to, .. } => Some((from, to)),
            _ => None,
        })
        .collect();
    ranges.sort_unstable();
    let mut reached = *from;
    for (start, end) in ranges {
        if start > reached {
            break;
        }
        reached = reached.max(end);
        if reached >= *to {
            return true;
        }
    }
    false
}

/// What is left of a list whose cursor counts the entries done: those done but still `waiting`
/// (for detail or streams), then those not done; `None` when nothing is.
fn left_of<T: Clone>(items: &[T], state: &WorkState, waiting: impl Fn(&T) -> bool) -> Option<Vec<T>> {
    let done = state.cursor.as_deref().and_then(|c| c.parse::<usize>().ok()).unwrap_or(0).min(items.len());
    let mut left: Vec<T> = items[..done].iter().filter(|item| waiting(item)).cloned().collect();
    left.extend_from_slice(&items[done..]);
    (!left.is_empty()).then_some(left)
}

/// What remains of a work item, given its cursor and what its repositories still wait for;
/// `None` if nothing does.
pub fn remaining(state: &WorkState, waiting: &Waiting) -> Option<Leftover> {
    if state.status == WorkStatus::Completed {
        return None;
    }
    let reason = match state.status {
        WorkStatus::Failed => "failed",
        WorkStatus::Processing => "interrupted",
        _ => "deadline",
    };
    let work = match &state.item {
        WorkItem::IdRange { from, to, discover } => {
            let done_through = state.cursor.as_deref().and_then(|c| c.parse::<u64>().ok());
            let mut start = match done_through {
                Some(since) => (*from).max(since.saturating_add(1)),
                None => *from,
            };
            // Listed but without detail or streams: the listing of those ids is part of what is left.
            if let Some(pending) = waiting.first_id.filter(|id| (*from..*to).contains(id)) {
                start = start.min(pending);
            }
            if start >= *to {
                return None;
            }
            WorkItem::IdRange { from: start, to: *to, discover: discover.clone() }
        }
        WorkItem::RepoNames { names } => {
            WorkItem::RepoNames { names: left_of(names, state, |name| waiting.names.contains(name))? }
        }
        WorkItem::RepoNodes { repos } => {
            WorkItem::RepoNodes { repos: left_of(repos, state, |(id, _)| waiting.names.contains(&id.to_string()))? }
        }
        // Checked and changed but not collected yet, or not checked yet: checked again (against
        // the same earlier database, they are still changed).
        WorkItem::Refresh { date, repos } => WorkItem::Refresh {
            date: date.clone(),
            repos: left_of(repos, state, |(id, _)| waiting.names.contains(&id.to_string()))?,
        },
        // Page-based listings restart from their first page: pages shift as repositories are
        // added, so a page number from an earlier crawl does not say what is done.
        other @ (WorkItem::Search { .. } | WorkItem::OwnerRepos { .. } | WorkItem::Starred { .. }) => other.clone(),
    };
    Some(Leftover {
        plan_id: Some(state.plan_id.clone()),
        shard: state.shard.clone(),
        reason: reason.into(),
        error: state.error.clone(),
        work,
    })
}

/// The file name of the leftovers file inside its folder.
pub const FILE_NAME: &str = "leftovers.yaml";

/// Writes `dir/leftovers.yaml`; returns its path.
pub fn write(dir: &Path, leftovers: &Leftovers) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(FILE_NAME);
    let text = serde_yaml::to_string(leftovers).expect("leftovers serialize");
    crate::artifact::write_atomically(&path, text.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(status: WorkStatus, cursor: Option<&str>) -> WorkState {
        WorkState {
            plan_id: "p".into(),
            shard: "shard-0001".into(),
            idx: 0,
            item: WorkItem::IdRange { from: 100, to: 200, discover: None },
            status,
            cursor: cursor.map(str::to_string),
            attempts: 1,
            stored: 0,
            error: None,
            updated_at: "2026-01-01T00:00:00.000Z".into(),
        }
    }

    #[test]
    fn remaining_work_starts_after_the_cursor() {
        assert_eq!(remaining(&state(WorkStatus::Completed, Some("199")), &Waiting::default()), None);
        assert_eq!(
            remaining(&state(WorkStatus::Pending, None), &Waiting::default()).unwrap().work,
            WorkItem::IdRange { from: 100, to: 200, discover: None }
        );
        let left = remaining(&state(WorkStatus::Pending, Some("150")), &Waiting::default()).unwrap();
        assert_eq!(
            (left.work, left.reason.as_str()),
            (WorkItem::IdRange { from: 151, to: 200, discover: None }, "deadline")
        );
        assert_eq!(
            remaining(&state(WorkStatus::Failed, Some("40")), &Waiting::default()).unwrap().work,
            WorkItem::IdRange { from: 100, to: 200, discover: None }
        );
        assert_eq!(remaining(&state(WorkStatus::Processing, Some("199")), &Waiting::default()), None);
    }

    fn at(id: u64) -> Waiting {
        Waiting { first_id: Some(id), names: Vec::new() }
    }

    #[test]
    fn rows_waiting_for_detail_pull_the_range_back() {
        // Regression (issue 10.2): listed up to 150, detail stored only below 120.
        let left = remaining(&state(WorkStatus::Pending, Some("150")), &at(120)).unwrap();
        assert_eq!(left.work, WorkItem::IdRange { from: 120, to: 200, discover: None });
        let left = remaining(&state(WorkStatus::Processing, Some("199")), &at(190)).unwrap();
        assert_eq!(left.work, WorkItem::IdRange { from: 190, to: 200, discover: None });
        // A pending row outside the range says nothing about it.
        let left = remaining(&state(WorkStatus::Pending, Some("150")), &at(20)).unwrap();
        assert_eq!(left.work, WorkItem::IdRange { from: 151, to: 200, discover: None });
    }

    #[test]
    fn id_ranges_are_covered_by_the_union_of_completed_ranges() {
        let done = |ranges: &[(u64, u64)]| -> Vec<WorkState> {
            ranges
                .iter()
                .map(|&(from, to)| WorkState {
                    item: WorkItem::IdRange { from, to, discover: None },
                    ..state(WorkStatus::Completed, None)
                })
                .collect()
        };
        let work = WorkItem::IdRange { from: 150, to: 200, discover: None };
        assert!(covered(&work, done(&[(180, 200), (100, 160), (160, 181)]).iter()));
        assert!(!covered(&work, done(&[(100, 160), (161, 200)]).iter()));
        assert!(!covered(&work, done(&[(150, 199)]).iter()));
        let search = WorkItem::Search { query: "q".into(), sort: None, limit: None };
        let same = WorkState { item: search.clone(), ..state(WorkStatus::Completed, None) };
        assert!(covered(&search, [same].iter()));
    }
}
