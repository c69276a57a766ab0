//! Planning: turns a source spec into shard manifests, a plan file and the matrix for the crawl
//! job. Planning is a pure function of its request ([`make_plan`]); writing the files is separate
//! ([`write_plan`]), so the same inputs always give byte-identical manifests.

pub mod manifest;
pub mod source;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use manifest::{Budget, Collect, Manifest, ManifestError, ShardId, WorkItem};
pub use source::{Source, SourceError};

use crate::artifact::write_atomically;

/// GitHub Actions runs at most this many jobs from one matrix.
pub const MATRIX_JOB_LIMIT: u32 = 256;

/// Everything `plan` needs, already validated by the CLI layer.
#[derive(Clone, Debug)]
pub struct PlanRequest {
    /// What to crawl.
    pub source: Source,
    /// How many shards to cut.
    pub shards: u32,
    /// The most jobs one matrix may hold.
    pub max_jobs: u32,
    /// What each crawl collects.
    pub collect: Vec<Collect>,
    /// The credential budget the crawls will have.
    pub requests_per_hour: u32,
    /// Per-shard deadline written into every manifest.
    pub deadline: Option<String>,
    /// Overrides the derived plan id (the workflow passes its run id).
    pub plan_id: Option<String>,
}

/// The plan file (`plan.yaml`): what was planned, from what, by which version.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// Format version (same as manifests).
    pub version: u32,
    /// The plan id every manifest carries.
    pub plan_id: String,
    /// The source spec.
    pub source: String,
    /// The octoshard version that planned.
    pub tool_version: String,
    /// The options the plan was made with.
    pub options: PlanOptions,
    /// One entry per shard, in order.
    pub shards: Vec<PlanShard>,
}

/// The planning options, recorded so a plan can be reproduced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanOptions {
    /// Requested shard count.
    pub shards: u32,
    /// Matrix job limit.
    pub max_jobs: u32,
    /// What crawls collect.
    pub collect: Vec<Collect>,
    /// Credential budget per hour.
    pub requests_per_hour: u32,
    /// Per-shard deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
}

/// A shard as listed in the plan file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanShard {
    /// The shard name (`shard-0003`).
    pub name: String,
    /// Its manifest file, relative to the plan folder.
    pub manifest: String,
    /// Its work items, for a reader of the plan.
    pub work: Vec<String>,
}

/// A finished plan, not yet written anywhere.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The plan file.
    pub file: PlanFile,
    /// One manifest per shard, in order.
    pub manifests: Vec<Manifest>,
}

/// A plan that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The request itself is contradictory or out of range.
    #[error("cannot plan {source_spec}: {reason}")]
    Invalid {
        /// The source spec.
        source_spec: String,
        /// Why.
        reason: String,
    },
    /// The plan folder could not be written.
    #[error("cannot write the plan to {path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl Plan {
    /// The matrix for the crawl job: only shard names, because job outputs are capped at 1 MB.
    pub fn matrix_json(&self) -> String {
        let names: Vec<&str> = self.manifests.iter().map(|m| m.shard.name.as_str()).collect();
        serde_json::json!({ "shard": names }).to_string()
    }
}

/// Splits the request's source into shards. Pure: no I/O, no clock.
pub fn make_plan(request: &PlanRequest) -> Result<Plan, PlanError> {
    let invalid = |reason: String| PlanError::Invalid { source_spec: request.source.to_string(), reason };
    if request.shards == 0 {
        return Err(invalid("--shards must be at least 1".into()));
    }
    if request.shards > request.max_jobs {
        return Err(invalid(format!(
            "{} shards exceed --max-jobs {} (GitHub runs at most {MATRIX_JOB_LIMIT} jobs per matrix)",
            request.shards, request.max_jobs
        )));
    }
    if request.collect.is_empty() {
        return Err(invalid("--collect is empty".into()));
    }
    let work = match &request.source {
        Source::Ids { from, to: Some(to) } => split_id_range(*from, *to, request.shards),
        Source::Ids { to: None, .. } => {
            return Err(invalid("open-ended id ranges are not supported yet; give both ends (ids:A..B)".into()));
        }
        other => return Err(invalid(format!("`{}:` sources are not supported yet; use ids:A..B", other.kind()))),
    };
    let plan_id = match &request.plan_id {
        Some(id) => {
            manifest::check_name("--plan-id", id).map_err(invalid)?;
            id.clone()
        }
        None => derived_plan_id(request),
    };
    let count = work.len() as u32;
    let width = count.saturating_sub(1).to_string().len().max(4);
    let manifests: Vec<Manifest> = work
        .into_iter()
        .enumerate()
        .map(|(index, items)| Manifest {
            version: manifest::MANIFEST_VERSION,
            plan_id: plan_id.clone(),
            shard: ShardId { index: index as u32, count, name: format!("shard-{index:0width$}") },
            source: request.source.to_string(),
            collect: request.collect.clone(),
            work: items,
            budget: Budget { requests_per_hour: request.requests_per_hour, deadline: request.deadline.clone() },
        })
        .collect();
    let file = PlanFile {
        version: manifest::MANIFEST_VERSION,
        plan_id,
        source: request.source.to_string(),
        tool_version: crate::TOOL_VERSION.to_string(),
        options: PlanOptions {
            shards: request.shards,
            max_jobs: request.max_jobs,
            collect: request.collect.clone(),
            requests_per_hour: request.requests_per_hour,
            deadline: request.deadline.clone(),
        },
        shards: manifests
            .iter()
            .map(|m| PlanShard {
                name: m.shard.name.clone(),
                manifest: format!("{}.yaml", m.shard.name),
                work: m.work.iter().map(ToString::to_string).collect(),
            })
            .collect(),
    };
    Ok(Plan { file, manifests })
}

/// Writes `plan.yaml` and one `shard-NNNN.yaml` per shard into `dir`, each file atomically.
pub fn write_plan(plan: &Plan, dir: &Path) -> Result<(), PlanError> {
    let write = |path: PathBuf, text: String| {
        write_atomically(&path, text.as_bytes()).map_err(|source| PlanError::Write { path, source })
    };
    std::fs::create_dir_all(dir).map_err(|source| PlanError::Write { path: dir.to_path_buf(), source })?;
    for manifest in &plan.manifests {
        write(dir.join(format!("{}.yaml", manifest.shard.name)), manifest.to_yaml())?;
    }
    let text = serde_yaml::to_string(&plan.file).expect("a plan file always serializes");
    write(dir.join("plan.yaml"), text)
}

/// Cuts `from..to` into at most `shards` contiguous ranges of equal id span.
fn split_id_range(from: u64, to: u64, shards: u32) -> Vec<Vec<WorkItem>> {
    let span = to - from;
    let count = u64::from(shards).min(span);
    (0..count)
        .map(|i| {
            let start = from + (u128::from(span) * u128::from(i) / u128::from(count)) as u64;
            let end = from + (u128::from(span) * u128::from(i + 1) / u128::from(count)) as u64;
            vec![WorkItem::IdRange { from: start, to: end }]
        })
        .collect()
}

/// A plan id that depends only on the request, so re-planning gives the same id.
fn derived_plan_id(request: &PlanRequest) -> String {
    let canonical = format!(
        "{}|{}|{:?}|{}|{:?}",
        request.source, request.shards, request.collect, request.requests_per_hour, request.deadline
    );
    format!("{}-{:016x}", request.source.kind(), fnv1a(canonical.as_bytes()))
}

/// FNV-1a, 64 bit: pinned forever because plan ids derive from it.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(source: &str, shards: u32) -> PlanRequest {
        PlanRequest {
            source: source.parse().unwrap(),
            shards,
            max_jobs: MATRIX_JOB_LIMIT,
            collect: vec![Collect::Metadata],
            requests_per_hour: 5000,
            deadline: None,
            plan_id: None,
        }
    }

    #[test]
    fn id_shards_cover_the_range_exactly_once() {
        let plan = make_plan(&request("ids:10..1000", 7)).unwrap();
        assert_eq!(plan.manifests.len(), 7);
        let mut next = 10;
        for manifest in &plan.manifests {
            let WorkItem::IdRange { from, to } = manifest.work[0];
            assert_eq!(from, next);
            assert!(to > from);
            next = to;
            manifest.validate().unwrap();
        }
        assert_eq!(next, 1000);
    }

    #[test]
    fn tiny_ranges_get_fewer_shards_and_huge_ones_do_not_overflow() {
        assert_eq!(make_plan(&request("ids:0..3", 8)).unwrap().manifests.len(), 3);
        let plan = make_plan(&request(&format!("ids:0..{}", u64::MAX), 256)).unwrap();
        assert_eq!(plan.manifests.len(), 256);
        assert_eq!(
            plan.manifests[255].work[0],
            WorkItem::IdRange { from: u64::MAX - u64::MAX / 256 - 1, to: u64::MAX }
        );
    }

    #[test]
    fn planning_is_deterministic_and_the_id_pinned() {
        let a = make_plan(&request("ids:0..1000000", 8)).unwrap();
        let b = make_plan(&request("ids:0..1000000", 8)).unwrap();
        assert_eq!(a.file, b.file);
        assert_eq!(
            a.manifests.iter().map(Manifest::to_yaml).collect::<Vec<_>>(),
            b.manifests.iter().map(Manifest::to_yaml).collect::<Vec<_>>()
        );
        assert_eq!(a.file.plan_id, format!("ids-{:016x}", fnv1a(b"ids:0..1000000|8|[Metadata]|5000|None")));
        assert_ne!(a.file.plan_id, make_plan(&request("ids:0..1000001", 8)).unwrap().file.plan_id);
    }

    #[test]
    fn the_matrix_names_every_shard() {
        let plan = make_plan(&request("ids:0..100", 3)).unwrap();
        assert_eq!(plan.matrix_json(), r#"{"shard":["shard-0000","shard-0001","shard-0002"]}"#);
    }

    #[test]
    fn impossible_requests_are_refused() {
        let error = make_plan(&request("ids:0..100", 0)).unwrap_err().to_string();
        assert!(error.contains("--shards must be at least 1"), "{error}");
        let error = make_plan(&request("ids:0..100000", 300)).unwrap_err().to_string();
        assert!(error.contains("exceed --max-jobs"), "{error}");
        let mut bad_id = request("ids:0..100", 2);
        bad_id.plan_id = Some("../x".into());
        assert!(make_plan(&bad_id).unwrap_err().to_string().contains("--plan-id"));
    }
}
