//! Leftovers: the unfinished work of a merge (items stopped at a deadline, failed items, and the
//! work of shards that never arrived), written as one YAML file that a later plan can take up.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::{Collect, WorkItem};
use crate::store::{WorkState, WorkStatus};

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

/// What remains of a work item, given its cursor; `None` if nothing does.
pub fn remaining(state: &WorkState) -> Option<Leftover> {
    if state.status == WorkStatus::Completed {
        return None;
    }
    let reason = match state.status {
        WorkStatus::Failed => "failed",
        WorkStatus::Processing => "interrupted",
        _ => "deadline",
    };
    let work = match &state.item {
        WorkItem::IdRange { from, to } => {
            let done_through = state.cursor.as_deref().and_then(|c| c.parse::<u64>().ok());
            let from = match done_through {
                Some(since) => (*from).max(since.saturating_add(1)),
                None => *from,
            };
            if from >= *to {
                return None;
            }
            WorkItem::IdRange { from, to: *to }
        }
        WorkItem::RepoNames { names } => {
            let done = state.cursor.as_deref().and_then(|c| c.parse::<usize>().ok()).unwrap_or(0);
            if done >= names.len() {
                return None;
            }
            WorkItem::RepoNames { names: names[done..].to_vec() }
        }
        // Page-based listings restart from their first page: pages shift as repositories are
        // added, so a page number from an earlier crawl does not say what is done.
        other @ (WorkItem::Search { .. } | WorkItem::OwnerRepos { .. } | WorkItem::Starred { .. }) => other.clone(),
    };
    Some(Leftover { shard: state.shard.clone(), reason: reason.into(), error: state.error.clone(), work })
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
            shard: "shard-0001".into(),
            idx: 0,
            item: WorkItem::IdRange { from: 100, to: 200 },
            status,
            cursor: cursor.map(str::to_string),
            attempts: 1,
            stored: 0,
            error: None,
        }
    }

    #[test]
    fn remaining_work_starts_after_the_cursor() {
        assert_eq!(remaining(&state(WorkStatus::Completed, Some("199"))), None);
        assert_eq!(
            remaining(&state(WorkStatus::Pending, None)).unwrap().work,
            WorkItem::IdRange { from: 100, to: 200 }
        );
        let left = remaining(&state(WorkStatus::Pending, Some("150"))).unwrap();
        assert_eq!((left.work, left.reason.as_str()), (WorkItem::IdRange { from: 151, to: 200 }, "deadline"));
        assert_eq!(
            remaining(&state(WorkStatus::Failed, Some("40"))).unwrap().work,
            WorkItem::IdRange { from: 100, to: 200 }
        );
        assert_eq!(remaining(&state(WorkStatus::Processing, Some("199"))), None);
    }
}
