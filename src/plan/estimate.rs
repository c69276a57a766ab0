//! The capacity model: what a plan costs in API budget and time, and how many shards and waves it
//! needs so that every job finishes inside its time limit. Pure arithmetic, shared by `plan`,
//! `plan --dry-run` and docs/SCALE.md.
//!
//! Budgets per credential and hour: `requests_per_hour` REST requests, as many GraphQL points,
//! and 1,800 search requests (30 a minute). The budget belongs to the credential, so jobs that run
//! at the same time share it: with `P` jobs running on `C` credentials, a job gets `C / P` of a
//! credential. A job that needs `h` credential-hours therefore takes `h * P / C` hours.

use serde::{Deserialize, Serialize};

/// Search requests a credential may make per hour (30 a minute).
pub const SEARCH_PER_HOUR: f64 = 1800.0;

/// API work, in the units each budget counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Work {
    /// Repositories expected.
    pub repositories: f64,
    /// REST requests (core budget).
    pub core: f64,
    /// GraphQL points.
    pub graphql: f64,
    /// Search requests.
    pub search: f64,
}

impl Work {
    /// Adds another piece of work.
    pub fn add(&mut self, other: &Work) {
        self.repositories += other.repositories;
        self.core += other.core;
        self.graphql += other.graphql;
        self.search += other.search;
    }

    /// Credential-hours: the binding budget's hours of one credential.
    pub fn credential_hours(&self, requests_per_hour: f64) -> f64 {
        (self.core / requests_per_hour).max(self.graphql / requests_per_hour).max(self.search / SEARCH_PER_HOUR)
    }

    /// Which budget binds.
    pub fn binding_budget(&self, requests_per_hour: f64) -> &'static str {
        let core = self.core / requests_per_hour;
        let graphql = self.graphql / requests_per_hour;
        let search = self.search / SEARCH_PER_HOUR;
        if search >= core && search >= graphql {
            "search"
        } else if graphql > core {
            "graphql"
        } else {
            "core"
        }
    }
}

impl Work {
    /// This work plus `per_repository` for each of its repositories (deep collection).
    pub fn with_deep(mut self, per_repository: &Work) -> Work {
        self.core += per_repository.core * self.repositories;
        self.graphql += per_repository.graphql * self.repositories;
        self.search += per_repository.search * self.repositories;
        self
    }
}

/// What an average repository holds, for the cost of deep collection. Planning from a database
/// (`db:FILE`) measures it there; elsewhere these are assumptions, written into the estimate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeepProfile {
    /// Where the figures come from: `assumed`, or the database they were measured in.
    pub basis: String,
    /// Share of repositories with a default branch (the others have no commits, runs or
    /// contributors).
    pub with_branch: f64,
    /// Share with at least one issue, and issues per repository.
    pub with_issues: f64,
    /// Issues per repository.
    pub issues: f64,
    /// Share with at least one pull request.
    pub with_pulls: f64,
    /// Pull requests per repository.
    pub pulls: f64,
    /// Commits per repository with a default branch.
    pub commits: f64,
    /// Workflow runs per repository with a default branch.
    pub runs: f64,
    /// Contributors per repository with a default branch.
    pub contributors: f64,
    /// Bytes of one code archive (a `.tar.gz` of the default branch).
    #[serde(default = "assumed_archive_bytes")]
    pub archive_bytes: f64,
}

/// The assumed size of a code archive: most public repositories are small, a few are huge.
fn assumed_archive_bytes() -> f64 {
    5.0 * 1024.0 * 1024.0
}

impl Default for DeepProfile {
    /// Assumed figures for public repositories at large: most are small and quiet.
    fn default() -> DeepProfile {
        DeepProfile {
            basis: "assumed".into(),
            with_branch: 0.9,
            with_issues: 0.3,
            issues: 3.0,
            with_pulls: 0.25,
            pulls: 2.0,
            commits: 50.0,
            runs: 30.0,
            contributors: 3.0,
            archive_bytes: assumed_archive_bytes(),
        }
    }
}

impl DeepProfile {
    /// The budget deep collection spends per repository under GitHub's formula: a connection
    /// per repository with issues (or pull requests) and a labels connection per item, a
    /// request per 100 commits (a hundredth of a point each), and REST pages of 100 runs and
    /// contributors for every repository with a default branch.
    pub fn per_repository(&self, collect: &[crate::plan::Collect]) -> Work {
        use crate::plan::Collect;
        let pages = |items: f64| (items / 100.0).max(1.0);
        let mut work = Work::default();
        for kind in collect {
            match kind {
                Collect::Issues => work.graphql += (self.with_issues + self.issues) / 100.0,
                Collect::Pulls => work.graphql += (self.with_pulls + self.pulls) / 100.0,
                Collect::Commits => work.graphql += self.with_branch * pages(self.commits) / 100.0,
                Collect::Runs => work.core += self.with_branch * pages(self.runs),
                Collect::Contributors => work.core += self.with_branch * pages(self.contributors),
                _ => {}
            }
        }
        work.core += self.code_requests(collect);
        work
    }

    /// Code requests per repository: one git-tree request for a snapshot, or one tarball request
    /// for an archive (which also counts the snapshot's files), for each with a default branch.
    fn code_requests(&self, collect: &[crate::plan::Collect]) -> f64 {
        use crate::plan::Collect;
        if collect.contains(&Collect::Snapshot) || collect.contains(&Collect::Archive) { self.with_branch } else { 0.0 }
    }

    /// The work a refresh spends per checked repository beyond the check, when `churn` of them
    /// changed: the detail of a changed one (a hundredth of a point), and its streams read from
    /// where the earlier database left off, about one page each (a hundredth of a point per
    /// GraphQL stream, a REST request per runs or contributors listing), and a compare request
    /// with `files`.
    pub fn per_changed_repository(&self, collect: &[crate::plan::Collect], churn: f64) -> Work {
        use crate::plan::Collect;
        let mut work = Work { graphql: 0.01, ..Work::default() };
        for kind in collect {
            match kind {
                Collect::Issues | Collect::Pulls | Collect::Commits => work.graphql += 0.01,
                Collect::Runs | Collect::Contributors => work.core += self.with_branch,
                Collect::Files => work.core += self.with_branch,
                _ => {}
            }
        }
        work.core += self.code_requests(collect);
        Work { repositories: 0.0, core: work.core * churn, graphql: work.graphql * churn, search: 0.0 }
    }
}

/// What the crawl can spend, and how long a job may run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// REST requests (and GraphQL points) per credential and hour.
    pub requests_per_hour: u32,
    /// Independent credentials (GitHub App installations or tokens of different accounts).
    pub credentials: u32,
    /// Jobs running at once (the workflow's `max-parallel`).
    pub max_parallel: u32,
    /// Hours a job may crawl before its deadline (hosted runners stop jobs at 6 hours).
    pub job_hours: f64,
}

/// The forecast written into `plan.yaml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outlook {
    /// All work of the plan.
    pub total: Work,
    /// The largest shard's work.
    pub largest_shard: Work,
    /// Credential-hours of the binding budget.
    pub credential_hours: f64,
    /// The budget that binds: core, graphql or search.
    pub binding_budget: String,
    /// Shards planned.
    pub shards: u32,
    /// Matrices of at most `max_jobs` run one after another.
    pub waves: u32,
    /// Hours the largest shard's job is expected to take.
    pub job_hours: f64,
    /// Expected wall time of the whole plan.
    pub wall_hours: f64,
    /// True when every job is expected to finish before its deadline.
    pub jobs_fit: bool,
    /// The same capacity the forecast assumed.
    pub capacity: Capacity,
    /// What the repositories are taken to hold, when the plan collects more than metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deep_profile: Option<DeepProfile>,
    /// Bytes the plan's code archives will take in storage, when it collects them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_bytes: Option<f64>,
}

/// Forecasts a plan of `shards` shards whose total and largest-shard work are given.
pub fn outlook(total: Work, largest_shard: Work, shards: u32, max_jobs: u32, capacity: Capacity) -> Outlook {
    let rph = f64::from(capacity.requests_per_hour.max(1));
    let credentials = f64::from(capacity.credentials.max(1));
    let running = f64::from(capacity.max_parallel.max(1).min(shards.max(1)));
    let credential_hours = total.credential_hours(rph);
    let job_hours = largest_shard.credential_hours(rph) * running / credentials;
    let wall_hours = (credential_hours / credentials).max(job_hours);
    Outlook {
        total,
        largest_shard,
        credential_hours: round(credential_hours),
        binding_budget: total.binding_budget(rph).to_string(),
        shards,
        waves: shards.div_ceil(max_jobs.max(1)),
        job_hours: round(job_hours),
        wall_hours: round(wall_hours),
        jobs_fit: job_hours <= capacity.job_hours,
        capacity,
        deep_profile: None,
        archive_bytes: None,
    }
}

/// The least budget a shard is given when the time allows fewer shards: each shard's ends cut a
/// listing page and a detail query in two (about 1.5 units measured), so 75 keeps that under 2%.
pub const MIN_SHARD_UNITS: f64 = 75.0;

/// The shard count that lets each job finish in time: enough shards that a job's share of the
/// work, at its share of the budget, fits in `job_hours`, and one per running job where each
/// still gets [`MIN_SHARD_UNITS`] (a small crawl is not cut into pieces its ends would waste).
pub fn shards_needed(total: Work, capacity: Capacity, units: u32) -> u32 {
    let rph = f64::from(capacity.requests_per_hour.max(1));
    let credentials = f64::from(capacity.credentials.max(1));
    let parallel = capacity.max_parallel.max(1);
    let hours = total.credential_hours(rph);
    // Jobs beyond `parallel` wait their turn, so only then does a smaller shard shorten a job.
    let for_time = (hours * f64::from(parallel) / credentials / capacity.job_hours.max(0.1)).ceil() as u32;
    let worth_cutting = ((total.core + total.graphql + total.search) / MIN_SHARD_UNITS).floor() as u32;
    for_time.max(parallel.min(worth_cutting)).min(units).max(1)
}

fn round(hours: f64) -> f64 {
    (hours * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn capacity(credentials: u32, max_parallel: u32) -> Capacity {
        Capacity { requests_per_hour: 5000, credentials, max_parallel, job_hours: 5.5 }
    }

    #[test]
    fn budget_hours_follow_the_binding_budget() {
        let work = Work { repositories: 1e6, core: 50_000.0, graphql: 10_000.0, search: 0.0 };
        assert_eq!(work.credential_hours(5000.0), 10.0);
        assert_eq!(work.binding_budget(5000.0), "core");
        let search = Work { search: 3600.0, ..Work::default() };
        assert_eq!((search.credential_hours(5000.0), search.binding_budget(5000.0)), (2.0, "search"));
    }

    #[test]
    fn jobs_share_their_credentials() {
        // 100 credential-hours, 20 shards of 5, 20 running at once on 10 credentials: each job
        // gets half a credential, so 10 hours per job: too long; wall time 10 hours.
        let total = Work { core: 500_000.0, ..Work::default() };
        let shard = Work { core: 25_000.0, ..Work::default() };
        let forecast = outlook(total, shard, 20, 256, capacity(10, 20));
        assert_eq!(
            (forecast.credential_hours, forecast.job_hours, forecast.wall_hours, forecast.jobs_fit),
            (100.0, 10.0, 10.0, false)
        );
        // Enough shards that the 20 running jobs each take at most 5.5 hours.
        let needed = shards_needed(total, capacity(10, 20), u32::MAX);
        assert_eq!(needed, 37);
        let per_shard = Work { core: 500_000.0 / 37.0, ..Work::default() };
        assert!(outlook(total, per_shard, needed, 256, capacity(10, 20)).jobs_fit);
    }

    #[test]
    fn small_work_uses_one_shard_per_running_job_at_most() {
        let total = Work { core: 100.0, ..Work::default() };
        // 100 units are not worth two shards: their ends would waste 3%.
        assert_eq!(shards_needed(total, capacity(1, 20), 3), 1);
        assert_eq!(shards_needed(total, capacity(1, 20), 1000), 1);
        let larger = Work { core: 400.0, graphql: 100.0, ..Work::default() };
        assert_eq!(shards_needed(larger, capacity(1, 20), 1000), 6);
        assert_eq!(shards_needed(larger, capacity(1, 20), 3), 3);
        let large = Work { core: 10_000.0, ..Work::default() };
        assert_eq!(shards_needed(large, capacity(1, 20), 1000), 20);
        let forecast = outlook(total, total, 1, 256, capacity(1, 20));
        assert_eq!((forecast.waves, forecast.jobs_fit), (1, true));
        assert_eq!(outlook(total, total, 1024, 256, capacity(1, 20)).waves, 4);
    }
}
