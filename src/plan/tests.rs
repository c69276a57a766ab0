//! Table tests of the pure planner: facts are injected, no request is made.

use super::*;

fn request(source: &str, shards: Option<u32>) -> PlanRequest {
    PlanRequest {
        source: source.parse().unwrap(),
        shards,
        max_jobs: MATRIX_JOB_LIMIT,
        max_waves: 4,
        collect: vec![Collect::Metadata],
        capacity: Capacity { requests_per_hour: 5000, credentials: 1, max_parallel: 20, job_hours: 5.5 },
        deadline: None,
        plan_id: None,
        probes: 0,
        scale_planning: false,
        today: "2026-11-23".into(),
        filter: None,
        discover: None,
        churn: None,
        archive: None,
    }
}

fn plan(source: &str, shards: Option<u32>) -> Plan {
    make_plan(&request(source, shards), &Facts::default()).unwrap()
}

fn id_ranges(plan: &Plan) -> Vec<(u64, u64)> {
    plan.manifests
        .iter()
        .flat_map(|m| m.work.iter())
        .map(|w| match w {
            WorkItem::IdRange { from, to, .. } => (*from, *to),
            other => panic!("not an id range: {other}"),
        })
        .collect()
}

#[test]
fn id_shards_cover_the_range_exactly_once() {
    let plan = plan("ids:10..1000", Some(7));
    let ranges = id_ranges(&plan);
    assert_eq!(ranges.len(), 7);
    let mut next = 10;
    for (from, to) in ranges {
        assert_eq!(from, next);
        assert!(to > from);
        next = to;
    }
    assert_eq!(next, 1000);
    for manifest in &plan.manifests {
        manifest.validate().unwrap();
    }
}

#[test]
fn tiny_ranges_get_fewer_shards_and_huge_ones_do_not_overflow() {
    assert_eq!(plan("ids:0..3", Some(8)).manifests.len(), 3);
    let huge = plan(&format!("ids:0..{}", u64::MAX), Some(256));
    assert_eq!(huge.manifests.len(), 256);
    assert_eq!(id_ranges(&huge).last().unwrap().1, u64::MAX);
}

#[test]
fn planning_is_deterministic() {
    let a = plan("ids:0..1000000", Some(8));
    let b = plan("ids:0..1000000", Some(8));
    assert_eq!(plan_yaml(&a), plan_yaml(&b));
    assert_eq!(
        a.manifests.iter().map(Manifest::to_yaml).collect::<Vec<_>>(),
        b.manifests.iter().map(Manifest::to_yaml).collect::<Vec<_>>()
    );
    assert!(a.file.plan_id.starts_with("ids-") && a.file.plan_id.len() == 20, "{}", a.file.plan_id);
    assert_ne!(a.file.plan_id, plan("ids:0..1000001", Some(8)).file.plan_id);
}

#[test]
fn more_shards_than_a_matrix_holds_go_in_waves() {
    let plan = plan("ids:0..1200000000", Some(1024));
    assert_eq!((plan.manifests.len(), plan.waves()), (1024, 4));
    for wave in 1..=4 {
        let matrix: serde_json::Value = serde_json::from_str(&plan.matrix_json(wave)).unwrap();
        assert_eq!(matrix["shard"].as_array().unwrap().len(), 256, "wave {wave}");
    }
    assert_eq!(plan.file.estimate.waves, 4);
    let error = make_plan(&request("ids:0..1200000000", Some(1025)), &Facts::default()).unwrap_err().to_string();
    assert!(error.contains("1025 shards need 5 waves of 256 jobs"), "{error}");
}

#[test]
fn the_shard_count_is_sized_from_the_budget_when_not_given() {
    // 1.2 billion ids without probes: about 12 million listing requests, 2,400 credential-hours
    // on one credential: far more than 20 jobs can do in 5.5 hours, so the plan fills its waves
    // and says the jobs will not fit (leftovers then carry the rest).
    let all = plan("ids:0..1200000000", None);
    assert_eq!(all.manifests.len(), 1024);
    assert!(!all.file.estimate.jobs_fit);
    // A small range fits in one wave of at most max_parallel shards.
    let small = plan("ids:0..1000000", None);
    assert_eq!(small.manifests.len(), 20);
    assert!(small.file.estimate.jobs_fit, "{:?}", small.file.estimate);
}

#[test]
fn the_matrix_names_every_shard() {
    let plan = plan("ids:0..100", Some(3));
    assert_eq!(plan.matrix_json(1), r#"{"shard":["shard-0000","shard-0001","shard-0002"]}"#);
}

#[test]
fn impossible_requests_are_refused() {
    let error = make_plan(&request("ids:0..100", Some(0)), &Facts::default()).unwrap_err().to_string();
    assert!(error.contains("--shards must be at least 1"), "{error}");
    let mut bad_id = request("ids:0..100", Some(2));
    bad_id.plan_id = Some("../x".into());
    assert!(make_plan(&bad_id, &Facts::default()).unwrap_err().to_string().contains("--plan-id"));
    let mut too_many_jobs = request("ids:0..100", Some(2));
    too_many_jobs.max_jobs = 300;
    assert!(make_plan(&too_many_jobs, &Facts::default()).unwrap_err().to_string().contains("--max-jobs"));
}

#[test]
fn search_slices_are_dealt_to_shards_by_weight() {
    let facts = Facts {
        slices: (0..10)
            .map(|i| Slice { query: format!("q created:{i}"), count: 100 * (i + 1), reason: None })
            .collect(),
        ..Facts::default()
    };
    let plan = make_plan(&request("search:q", Some(3)), &facts).unwrap();
    assert_eq!(plan.manifests.len(), 3);
    let items: usize = plan.manifests.iter().map(|m| m.work.len()).sum();
    assert_eq!(items, 10, "every slice exactly once");
    let loads: Vec<u64> = plan.file.shards.iter().map(|s| s.repositories).collect();
    let (min, max) = (*loads.iter().min().unwrap(), *loads.iter().max().unwrap());
    assert!(max - min <= 1000, "{loads:?}");
}

#[test]
fn trending_searches_the_last_days_most_starred_first() {
    let plan = plan("trending:7", None);
    assert_eq!(
        plan.manifests[0].work,
        vec![WorkItem::Search { query: "created:>=2026-11-16".into(), sort: Some("stars".into()), limit: Some(1000) }]
    );
}

#[test]
fn names_are_chunked_and_owners_are_one_item() {
    let facts = Facts { names: (0..1200).map(|i| format!("owner/repo-{i}")).collect(), ..Facts::default() };
    let plan = make_plan(&request("repos:list.txt", Some(8)), &facts).unwrap();
    assert_eq!(plan.manifests.len(), 3, "1,200 names in items of 500");
    let org = self::plan("org:rust-lang", Some(4));
    assert_eq!(org.manifests.len(), 1);
    assert_eq!(org.manifests[0].work, vec![WorkItem::OwnerRepos { login: "rust-lang".into(), owner: OwnerKind::Org }]);
}

#[test]
fn repos_files_are_read_strictly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.txt");
    std::fs::write(&path, "# mine\nrust-lang/rust\nhttps://github.com/tokio-rs/tokio\n\nRust-Lang/Rust\n").unwrap();
    assert_eq!(read_names(&path).unwrap(), vec!["rust-lang/rust", "tokio-rs/tokio"]);
    std::fs::write(&path, "rust-lang/rust\nnot a name\n").unwrap();
    let error = read_names(&path).unwrap_err().to_string();
    assert!(error.contains("line 2: `not a name` is not an owner/name"), "{error}");
}

#[test]
fn leftovers_are_planned_again_with_their_collect() {
    let leftovers = Leftovers {
        version: 1,
        plan_id: "ids-1".into(),
        source: "ids:0..100".into(),
        collect: vec![Collect::Metadata],
        items: vec![
            crate::merge::Leftover {
                plan_id: None,
                shard: "shard-0001".into(),
                reason: "deadline".into(),
                error: None,
                work: WorkItem::IdRange { from: 50, to: 100, discover: None },
            },
            crate::merge::Leftover {
                plan_id: None,
                shard: "shard-0003".into(),
                reason: "missing".into(),
                error: None,
                work: WorkItem::IdRange { from: 150, to: 200, discover: None },
            },
        ],
    };
    let facts = Facts { leftovers: Some(leftovers), ..Facts::default() };
    let plan = make_plan(&request("leftovers:dir", Some(2)), &facts).unwrap();
    assert_eq!(id_ranges(&plan), vec![(50, 100), (150, 200)]);
    assert!(plan.file.source.contains("leftovers of ids-1"), "{}", plan.file.source);
}

#[test]
fn dates_count_back_across_months() {
    assert_eq!(date_minus_days("2026-03-02", 3).unwrap(), "2026-02-27");
    assert!(date_minus_days("yesterday", 1).is_err());
}

#[test]
fn deep_collection_is_estimated_from_the_profile_and_sizes_the_plan() {
    let metadata = plan("ids:0..100000000", None);
    let mut deep = request("ids:0..100000000", None);
    deep.collect = vec![Collect::Metadata, Collect::Pulls, Collect::Issues, Collect::Runs, Collect::Contributors];
    let deep = make_plan(&deep, &Facts::default()).unwrap();
    let (m, d) = (&metadata.file.estimate, &deep.file.estimate);
    assert!(m.deep_profile.is_none());
    assert_eq!(d.deep_profile.as_ref().map(|p| p.basis.as_str()), Some("assumed"));
    // Runs and contributors are REST pages per repository: deep work binds the core budget and
    // needs more shards than metadata alone.
    assert!(d.total.core > 50.0 * m.total.core, "{} vs {}", d.total.core, m.total.core);
    assert!(d.total.graphql > m.total.graphql);
    assert!(d.shards > m.shards, "{} vs {} shards", d.shards, m.shards);
    // A measured profile (as a db: source gives) replaces the assumptions.
    let quiet = estimate::DeepProfile {
        basis: "measured in x.sqlite".into(),
        runs: 0.0,
        contributors: 0.0,
        with_branch: 0.0,
        ..Default::default()
    };
    let facts = Facts { profile: Some(quiet), ..Facts::default() };
    let mut request = request("ids:0..100000000", None);
    request.collect = vec![Collect::Runs];
    let measured = make_plan(&request, &facts).unwrap();
    assert_eq!(measured.file.estimate.total.core, m.total.core, "no branch, no runs: no REST pages");
}

#[test]
fn code_costs_one_core_request_per_repository_with_a_branch_and_archives_are_sized() {
    let base = request("ids:0..1000000", Some(4));
    let metadata = make_plan(&base, &Facts::default()).unwrap().file.estimate;
    let mut code = request("ids:0..1000000", Some(4));
    code.collect = vec![Collect::Metadata, Collect::Snapshot, Collect::Archive];
    code.archive = Some(manifest::ArchiveSpec { to: "s3://bucket/code".into(), max_bytes: Some(1_000_000) });
    let planned = make_plan(&code, &Facts::default()).unwrap();
    let estimate = &planned.file.estimate;
    let profile = estimate::DeepProfile::default();
    let extra = estimate.total.core - metadata.total.core;
    let expected = estimate.total.repositories * profile.with_branch;
    assert!((extra - expected).abs() < 1.0, "{extra} core requests for code, expected {expected}");
    let volume = estimate.archive_bytes.unwrap();
    assert!((volume - expected * profile.archive_bytes).abs() < 1.0, "{volume}");
    assert!(metadata.archive_bytes.is_none());
    // The target and the limit travel in every manifest.
    assert!(planned.manifests.iter().all(|m| m.archive == code.archive));
    let yaml = planned.manifests[0].to_yaml();
    assert!(yaml.contains("archive:\n  to: s3://bucket/code\n  max_bytes: 1000000"), "{yaml}");
    assert_eq!(Manifest::parse(&yaml).unwrap(), planned.manifests[0]);
    // Snapshots alone cost the same request per repository, and no storage.
    code.collect = vec![Collect::Metadata, Collect::Snapshot];
    code.archive = None;
    let snapshots = make_plan(&code, &Facts::default()).unwrap().file.estimate;
    assert!((snapshots.total.core - estimate.total.core).abs() < 1.0);
    assert!(snapshots.archive_bytes.is_none());
}
