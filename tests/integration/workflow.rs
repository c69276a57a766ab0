//! The crawl workflow's job graph run locally (`scripts/local-workflow.sh`) against the simulated
//! GitHub, and the GitHub Actions formats the CLI writes: outputs, step summaries, annotations,
//! log groups and masks.

use std::path::Path;
use std::process::Command;

use crate::util::*;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_workflow_graph_with_a_failed_job_and_its_rerun_merges_the_ground_truth() {
    // Planning spends search counts; 1 s budget windows keep the test quick.
    let hub = hub(6_000, fakehub::Options { window: std::time::Duration::from_secs(1), ..options() });
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let work = dir.path("runner");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/local-workflow.sh");
    let output = Command::new("bash")
        .arg(&script)
        .args(["6000", "8", "3"])
        .env("OCTOSHARD_BIN", env!("CARGO_BIN_EXE_octoshard"))
        .env("GITHUB_API_URL", hub.url())
        .env("OCTOSHARD_TOKENS", TOKEN)
        .env("SOURCE", format!("ids:0..{end}"))
        .env("FAIL_SHARD", "shard-0003")
        .env("WORK", &work)
        .env_remove("GITHUB_OUTPUT")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    success(&output);
    let log = stdout(&output);
    assert!(log.contains("failed in attempt 1: shard-0003"), "{log}");
    assert!(!log.contains("still failing"), "{log}");

    // Plan job: outputs in the documented single-line form.
    let outputs = read(&work.join("jobs/plan/output"));
    let matrix = outputs.lines().find_map(|l| l.strip_prefix("matrix=")).expect("matrix output");
    let shards: Vec<String> = (0..8).map(|i| format!("shard-{i:04}")).collect();
    assert_eq!(matrix, serde_json::json!({ "shard": shards }).to_string());
    assert!(outputs.lines().any(|l| l == format!("matrix_1={matrix}")), "{outputs}");
    assert!(outputs.lines().any(|l| l == "waves=1") && outputs.lines().any(|l| l == "shards=8"), "{outputs}");
    let plan_id = outputs.lines().find_map(|l| l.strip_prefix("plan_id=")).expect("plan_id output");
    assert!(read(&work.join("jobs/plan/summary")).contains(&format!("### octoshard plan `{plan_id}`")));

    // Crawl jobs: each its own summary row; the failed one annotated, the re-run complete.
    for shard in &shards {
        let attempt = if shard == "shard-0003" { 2 } else { 1 };
        let job = work.join(format!("jobs/crawl-{shard}-a{attempt}"));
        let summary = read(&job.join("summary"));
        assert!(summary.contains(&format!("| {shard} | completed |")), "{summary}");
        let stderr = read(&job.join("stderr"));
        assert!(stderr.starts_with(&format!("::add-mask::{TOKEN}\n")), "the token is masked first:\n{stderr}");
        assert!(stderr.contains(&format!("::group::octoshard crawl {shard} (")), "{stderr}");
        assert!(stderr.contains("::endgroup::"), "{stderr}");
        assert_eq!(stderr.matches(TOKEN).count(), 1, "the token appears only in its mask:\n{stderr}");
        assert!(work.join(format!("artifacts/octoshard-{plan_id}-{shard}-a{attempt}/{shard}.sqlite.gz")).exists());
    }
    let failed = read(&work.join("jobs/crawl-shard-0003-a1/stderr"));
    assert!(failed.contains("::error title=octoshard failed::"), "{failed}");

    // Merge job: the merged database is the ground truth; its summary lists every shard.
    let merged = work.join("merged/octoshard.sqlite");
    assert_equals_truth(&merged, &hub, 0, end);
    let summary = read(&work.join("jobs/merge/summary"));
    assert!(summary.contains(&format!("### octoshard merge `{plan_id}`")), "{summary}");
    assert!(summary.contains("| 8 | 0 | 0 | 6000 |"), "totals: {summary}");
    for shard in &shards {
        let row = summary.lines().find(|l| l.starts_with(&format!("| {shard} |"))).expect("a row per shard");
        assert!(row.starts_with(&format!("| {shard} | completed |")), "{row}");
    }
    assert!(summary.contains("shard-0003-a2/shard-0003.sqlite.gz"), "the re-run's artifact is merged: {summary}");
}

#[test]
fn merge_summarises_missing_shards_and_refused_inputs_and_annotates_them() {
    let hub = hub(2_000, options());
    let end = hub.universe().max_id() + 1;
    let dir = TestDir::new();
    let plan = plan_ids(&hub, &dir.path("plan"), end, 3);
    let shards = dir.path("shards");
    std::fs::create_dir_all(&shards).unwrap();
    success(&run(octoshard(&hub.url())
        .env("GITHUB_TOKEN", TOKEN)
        .args(["crawl", "--manifest"])
        .arg(plan.join("shard-0000.yaml"))
        .arg("--out")
        .arg(shards.join("shard-0000.sqlite.gz"))));
    std::fs::write(shards.join("junk.sqlite"), b"not a database").unwrap();
    let summary_path = dir.path("summary.md");
    let output = run(octoshard(&hub.url())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary_path)
        .args(["merge", "--plan"])
        .arg(&plan)
        .arg("--out")
        .arg(dir.path("merged.sqlite"))
        .arg(&shards));
    assert!(!output.status.success(), "a refused input fails the merge");
    let stderr = stderr(&output);
    assert!(stderr.contains("::group::octoshard merge\n::endgroup::\n"), "{stderr}");
    assert!(stderr.contains("::error title=merge refused an input::"), "{stderr}");
    assert!(stderr.contains("::warning title=shards missing::no artifact for shard-0001, shard-0002"), "{stderr}");
    let summary = read(&summary_path);
    assert!(summary.contains("| 1 | 2 | 1 |"), "totals: {summary}");
    assert!(summary.contains("| shard-0000 | completed |"), "{summary}");
    assert!(
        summary.contains("| shard-0001 | **missing** |") && summary.contains("| shard-0002 | **missing** |"),
        "{summary}"
    );
    assert!(summary.contains("junk.sqlite` | **refused**:"), "{summary}");
    assert!(summary.contains("unfinished work item(s)"), "{summary}");
}
