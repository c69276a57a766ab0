//! Code (issue 14): snapshots and archives of about 200 repositories of the simulated GitHub, to a
//! local folder and to a real S3-compatible server (moto, from `scripts/services.sh`). Every object
//! equals the tarball the download host served (sha256 and size), the tables equal the truth, the
//! token never reaches the download host, a re-crawl downloads only the heads that moved, and kills
//! during uploads resume to the exact state with nothing partial recorded.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use fakehub::{DayChanges, FakeHub, Options, UniverseConfig};

use crate::deep::rows;
use crate::util::*;

/// A variable `scripts/services.sh` sets; its absence is a setup error, never a skipped test.
fn service(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through scripts/test.sh (it starts scripts/services.sh)")
    })
}

/// A simulated GitHub whose download host is on another address than the API.
fn code_hub(repos: usize, options: Options) -> FakeHub {
    let options = Options { codeload_host: "127.0.0.2".into(), ..options };
    hub_with(UniverseConfig { repos, seed: 43, ..UniverseConfig::default() }, options)
}

/// `octoshard` with the test S3 server's credentials in the usual AWS variables.
fn with_s3(mut command: Command) -> Command {
    command
        .env("AWS_ACCESS_KEY_ID", service("OCTOSHARD_TEST_S3_KEY_ID"))
        .env("AWS_SECRET_ACCESS_KEY", service("OCTOSHARD_TEST_S3_SECRET"))
        .env("AWS_ENDPOINT_URL", service("OCTOSHARD_TEST_S3_ENDPOINT"))
        .env("AWS_REGION", "us-east-1");
    command
}

/// A key prefix of its own in the test bucket, so tests and runs never see each other's objects.
fn s3_target(name: &str) -> String {
    let unique = format!("{name}-{}-{}", std::process::id(), fastrand::u64(..));
    format!("s3://{}/{unique}", service("OCTOSHARD_TEST_S3_BUCKET"))
}

/// `run` over every id of the hub, collecting `collect` with `extra` flags.
fn run_code(hub: &FakeHub, collect: &str, out: &Path, extra: &[&str]) -> Command {
    let end = hub.universe().max_id() + 1;
    let mut command = with_s3(octoshard(&hub.url()));
    command
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--retry-delay", "1ms", "--no-pacing", "--probes", "0", "--shards", "2"])
        .args(["--source", &format!("ids:0..{end}"), "--collect", collect])
        .args(extra)
        .arg("--out")
        .arg(out);
    command
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// What the truth says each repository's snapshot row holds (counted from the archive or tree).
fn snapshot_truth(hub: &FakeHub, from: &str) -> BTreeSet<String> {
    let end = hub.universe().max_id() + 1;
    hub.universe()
        .repos_in(0, end)
        .iter()
        .filter_map(|repo| hub.snapshot(repo.id).map(|s| (repo.id, s)))
        .map(|(id, s)| format!("{id}|{}|{}|{}|{}|0|{from}", s.commit_sha, s.committed_at, s.file_count, s.size_bytes))
        .collect()
}

/// The archives the truth says a crawl stores: repository, sha, sha256 and bytes.
fn archive_truth(hub: &FakeHub, max_bytes: Option<u64>) -> BTreeSet<String> {
    let end = hub.universe().max_id() + 1;
    hub.universe()
        .repos_in(0, end)
        .iter()
        .filter_map(|repo| Some((repo.id, hub.snapshot(repo.id)?, hub.tarball_digest(repo.id)?)))
        .filter(|(_, _, (_, bytes))| max_bytes.is_none_or(|max| *bytes <= max))
        .map(|(id, s, (sha256, bytes))| format!("{id}|{}|{sha256}|{bytes}", s.commit_sha))
        .collect()
}

const SNAPSHOT_ROWS: &str =
    "SELECT repo_id, commit_sha, committed_at, file_count, size_bytes, tree_truncated, counted_from
     FROM repository_snapshots";
const ARCHIVE_ROWS: &str = "SELECT repo_id, commit_sha, sha256, bytes FROM archives WHERE uri IS NOT NULL";

/// Every object under an S3 prefix: `key|sha256|bytes`, read back with boto3 from the services'
/// Python (an independent client).
fn s3_objects(target: &str) -> BTreeSet<String> {
    let (bucket, prefix) = target.strip_prefix("s3://").unwrap().split_once('/').unwrap();
    let script = r#"
import boto3, hashlib, os, sys
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[1], Prefix=sys.argv[2] + "/"):
    for item in page.get("Contents", []):
        body = s3.get_object(Bucket=sys.argv[1], Key=item["Key"])["Body"].read()
        print(f'{item["Key"]}|{hashlib.sha256(body).hexdigest()}|{len(body)}')
"#;
    let mut command = with_s3(Command::new(service("OCTOSHARD_TEST_PYTHON")));
    let output = command.args(["-c", script, bucket, prefix]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap().lines().map(str::to_string).collect()
}

/// Every file under a folder: `relative path|sha256|bytes`.
fn folder_objects(root: &Path) -> BTreeSet<String> {
    fn walk(dir: &Path, root: &Path, into: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, root, into);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let name = path.strip_prefix(root).unwrap().display().to_string();
                into.insert(format!("{name}|{}|{}", sha256_hex(&bytes), bytes.len()));
            }
        }
    }
    let mut found = BTreeSet::new();
    walk(root, root, &mut found);
    found
}

/// The objects the archives table points at, as `key|sha256|bytes` under `base`.
fn recorded_objects(db: &Path, base: &str) -> BTreeSet<String> {
    rows(db, "SELECT uri, sha256, bytes FROM archives WHERE uri IS NOT NULL")
        .into_iter()
        .map(|line| {
            let rest = line.strip_prefix(base).unwrap_or_else(|| panic!("{line} is not under {base}"));
            rest.trim_start_matches('/').to_string()
        })
        .collect()
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap()
}

#[test]
fn archives_go_to_a_folder_and_to_s3_and_equal_the_served_tarballs() {
    let hub = code_hub(200, options());
    let dir = TestDir::new();
    let with_branch = archive_truth(&hub, None).len();
    assert!(with_branch > 150, "{with_branch}");

    // A local folder: one request per repository with a branch, the snapshot counted on the way.
    let folder = dir.path("archives");
    let local = dir.path("local.sqlite");
    let target = format!("file://{}", folder.display());
    hub.reset_stats();
    success(&run(&mut run_code(&hub, "snapshot,archive", &local, &["--archive-to", &target])));
    assert_eq!(rows(&local, ARCHIVE_ROWS), archive_truth(&hub, None));
    assert_eq!(rows(&local, SNAPSHOT_ROWS), snapshot_truth(&hub, "archive"));
    let root = canonical(&folder);
    assert_eq!(folder_objects(&root), recorded_objects(&local, &format!("file://{}", root.display())));
    let keys = rows(
        &local,
        "SELECT repo_id || '/' || commit_sha || '.tar.gz' = substr(uri, length(uri) - length(repo_id || '/' || commit_sha || '.tar.gz') + 1) FROM archives",
    );
    assert_eq!(keys, BTreeSet::from(["1".to_string()]), "content-addressed keys");
    assert_eq!(
        count(&local, "SELECT count(*) FROM api_requests WHERE kind = 'tarball'"),
        with_branch as i64,
        "one tarball request per repository with a branch"
    );
    assert_eq!(count(&local, "SELECT count(*) FROM api_requests WHERE kind = 'git_tree'"), 0);

    // The download host never saw the token, nor any credential.
    let downloads = hub.downloads();
    assert_eq!(downloads.len(), with_branch);
    for seen in &downloads {
        assert!(seen.header("authorization").is_none(), "{seen:?}");
        assert!(seen.headers.iter().all(|(_, value)| !value.contains(TOKEN)), "{seen:?}");
        assert!(seen.header("host").is_some_and(|host| host.starts_with("127.0.0.2")), "{seen:?}");
    }

    // The same crawl to S3: the objects read back by another client equal the served tarballs.
    let s3 = s3_target("both");
    let remote = dir.path("s3.sqlite");
    success(&run(&mut run_code(&hub, "snapshot,archive", &remote, &["--archive-to", &s3])));
    assert_eq!(rows(&remote, ARCHIVE_ROWS), archive_truth(&hub, None));
    assert_eq!(rows(&remote, SNAPSHOT_ROWS), snapshot_truth(&hub, "archive"));
    let bucket = format!("s3://{}", service("OCTOSHARD_TEST_S3_BUCKET"));
    assert_eq!(s3_objects(&s3), recorded_objects(&remote, &bucket));
    assert_eq!(s3_objects(&s3).len(), with_branch);
}

#[test]
fn code_links_join_runs_pull_requests_and_commits_to_the_code_they_ran_on() {
    let hub = code_hub(150, options());
    let dir = TestDir::new();
    let out = dir.path("linked.sqlite");
    let target = format!("file://{}", dir.path("archives").display());
    let collect = "snapshot,archive,runs,pulls,commits";
    success(&run(&mut run_code(&hub, collect, &out, &["--archive-to", &target])));
    // The truth, joined independently: what ran on each repository's head commit.
    let end = hub.universe().max_id() + 1;
    let mut expected = BTreeSet::new();
    for repo in hub.universe().repos_in(0, end) {
        let (Some(snapshot), Some(deep)) = (hub.snapshot(repo.id), hub.universe().deep(repo.id)) else { continue };
        let (sha256, _) = hub.tarball_digest(repo.id).unwrap();
        let on_head = |sha: &str| sha == snapshot.commit_sha;
        let mut add = |kind: &str, entity: String| {
            expected.insert(format!(
                "{kind}|{}|{entity}|{}|{}|{sha256}",
                repo.id, snapshot.file_count, snapshot.size_bytes
            ));
        };
        for run in deep.runs.iter().filter(|r| on_head(&r.head_sha)) {
            add("ci_run", run.id.to_string());
        }
        for pull in deep.pulls.iter().filter(|p| p.merge_commit_sha.as_deref().is_some_and(on_head)) {
            add("pull_request", pull.number.to_string());
        }
        for commit in deep.commits.iter().filter(|c| on_head(&c.sha)) {
            add("commit", commit.sha.clone());
        }
    }
    let linked = rows(&out, "SELECT kind, repo_id, entity, file_count, size_bytes, archive_sha256 FROM code_links");
    assert_eq!(linked, expected);
    let kinds: BTreeSet<&str> = linked.iter().map(|row| row.split('|').next().unwrap()).collect();
    assert!(kinds.contains("ci_run") && kinds.contains("commit"), "runs and commits on the heads: {kinds:?}");
}

#[test]
fn snapshots_alone_cost_one_tree_request_and_a_size_limit_skips_archives_by_name() {
    let hub = code_hub(120, options());
    let dir = TestDir::new();
    let with_branch = archive_truth(&hub, None).len() as i64;

    let trees = dir.path("trees.sqlite");
    success(&run(&mut run_code(&hub, "snapshot", &trees, &[])));
    assert_eq!(rows(&trees, SNAPSHOT_ROWS), snapshot_truth(&hub, "tree"));
    assert_eq!(count(&trees, "SELECT count(*) FROM api_requests WHERE kind = 'git_tree'"), with_branch);
    assert_eq!(count(&trees, "SELECT count(*) FROM archives"), 0);
    assert!(hub.downloads().is_empty());

    // A limit at the median size: the larger half is skipped with the reason and the limit, and
    // their snapshots come from the tree instead.
    let mut sizes: Vec<u64> =
        (0..=hub.universe().max_id()).filter_map(|id| hub.tarball_digest(id)).map(|d| d.1).collect();
    sizes.sort_unstable();
    let limit = sizes[sizes.len() / 2];
    let folder = dir.path("limited");
    let limited = dir.path("limited.sqlite");
    let target = format!("file://{}", folder.display());
    let args = ["--archive-to", &target, "--archive-max-bytes", &limit.to_string()];
    success(&run(&mut run_code(&hub, "snapshot,archive", &limited, &args)));
    assert_eq!(rows(&limited, ARCHIVE_ROWS), archive_truth(&hub, Some(limit)));
    let skipped = count(&limited, "SELECT count(*) FROM archives WHERE uri IS NULL");
    assert_eq!(skipped, with_branch - archive_truth(&hub, Some(limit)).len() as i64);
    assert!(skipped > 0);
    assert_eq!(
        count(
            &limited,
            &format!(
                "SELECT count(*) FROM archives WHERE uri IS NULL AND sha256 IS NULL AND max_bytes = {limit}
                 AND skipped = 'larger than --archive-max-bytes {limit}'"
            )
        ),
        skipped
    );
    let mixed: BTreeSet<String> =
        rows(&limited, SNAPSHOT_ROWS).into_iter().map(|row| row.rsplit_once('|').unwrap().0.to_string()).collect();
    let expected: BTreeSet<String> =
        snapshot_truth(&hub, "tree").into_iter().map(|row| row.rsplit_once('|').unwrap().0.to_string()).collect();
    assert_eq!(mixed, expected, "every snapshot, whichever way it was counted");
    assert_eq!(count(&limited, "SELECT count(*) FROM repository_snapshots WHERE counted_from = 'tree'"), skipped);
    let root = canonical(&folder);
    assert_eq!(folder_objects(&root), recorded_objects(&limited, &format!("file://{}", root.display())));

    // With the same limit and --previous, nothing is downloaded again, skipped ones included.
    hub.clear_downloads();
    let again = dir.path("again.sqlite");
    let mut args = args.to_vec();
    let previous = limited.display().to_string();
    args.extend(["--previous", &previous]);
    success(&run(&mut run_code(&hub, "snapshot,archive", &again, &args)));
    assert!(hub.downloads().is_empty(), "{:?}", hub.downloads().len());
    assert_eq!(rows(&again, ARCHIVE_ROWS), archive_truth(&hub, Some(limit)));
    assert_eq!(count(&again, "SELECT count(*) FROM api_requests WHERE kind IN ('tarball', 'git_tree')"), 0);
}

#[test]
fn a_refresh_downloads_only_the_heads_that_moved_and_keeps_every_archive() {
    let hub = code_hub(200, options());
    let dir = TestDir::new();
    let folder = dir.path("archives");
    let target = format!("file://{}", folder.display());
    let first = dir.path("day0.sqlite");
    success(&run(&mut run_code(&hub, "snapshot,archive", &first, &["--archive-to", &target])));
    let day0 = archive_truth(&hub, None);
    let changes = DayChanges { pushed: 0.1, starred: 0.05, renamed: 0.0, described: 0.02, deleted: 0.0, created: 0 };
    let advance = hub.universe().advance_day(1, &changes, 5);
    let moved: BTreeSet<String> = archive_truth(&hub, None).difference(&day0).cloned().collect();
    assert!(moved.len() > 5, "{advance:?}");

    hub.clear_downloads();
    let out = dir.path("day1.sqlite");
    let today = hub.universe().now().to_string()[..10].to_string();
    success(&run(with_s3(octoshard(&hub.url()))
        .env("GITHUB_TOKEN", TOKEN)
        .args(["run", "--retry-delay", "1ms", "--no-pacing", "--shards", "2", "--collect", "snapshot,archive"])
        .args(["--archive-to", &target, "--today", &today, "--source"])
        .arg(format!("refresh:{}", first.display()))
        .arg("--out")
        .arg(&out)));
    // Exactly the moved heads were downloaded, and both days' archives are recorded and stored.
    assert_eq!(hub.downloads().len(), moved.len());
    let both: BTreeSet<String> = day0.union(&moved).cloned().collect();
    assert_eq!(rows(&out, ARCHIVE_ROWS), both);
    assert_eq!(rows(&out, "SELECT repo_id, commit_sha FROM repository_snapshots").len(), both.len());
    let root = canonical(&folder);
    assert_eq!(folder_objects(&root), recorded_objects(&out, &format!("file://{}", root.display())));
}

/// The kills land among uploads: slow downloads, a few archives of several parts, cut downloads.
#[test]
fn kills_during_uploads_resume_to_the_exact_archives_with_nothing_partial_recorded() {
    let hub = code_hub(60, options());
    let ids: Vec<u64> = (0..=hub.universe().max_id()).filter(|id| hub.tarball_digest(*id).is_some()).collect();
    // Every twelfth archive takes three parts of a multipart upload.
    let big: Vec<(u64, u64)> = ids.iter().step_by(12).map(|id| (*id, 12 * 1024 * 1024 + id * 1000)).collect();
    hub.set_options(Options {
        big_archives: big.clone(),
        fault_download_cut: 0.15,
        latency: std::time::Duration::from_millis(5),
        ..hub.options()
    });
    assert!(big.len() >= 4);
    let dir = TestDir::new();
    let end = hub.universe().max_id() + 1;
    for (n, target) in [s3_target("kills"), format!("file://{}", dir.path("folder").display())].iter().enumerate() {
        let plans = dir.path(&format!("plan{n}"));
        success(&run(octoshard(&hub.url())
            .args(["plan", "--probes", "0", "--source", &format!("ids:0..{end}"), "--shards", "1"])
            .args(["--collect", "snapshot,archive", "--archive-to", target, "--out"])
            .arg(&plans)));
        let out = dir.path(&format!("shard{n}.sqlite"));
        let crawl = || {
            let mut command = with_s3(octoshard(&hub.url()));
            command
                .env("GITHUB_TOKEN", TOKEN)
                .args(["crawl", "--retry-delay", "1ms", "--no-pacing", "--manifest"])
                .arg(plans.join("shard-0000.yaml"))
                .arg("--out")
                .arg(&out);
            command
        };
        let kills = crawl_with_kills(&hub, crawl, 90 + n as u64, 1..10, 10);
        assert!(kills >= 5, "{kills} kills");
        assert_eq!(rows(&out, ARCHIVE_ROWS), archive_truth(&hub, None), "{target}");
        assert_eq!(rows(&out, SNAPSHOT_ROWS), snapshot_truth(&hub, "archive"), "{target}");
        assert_eq!(count(&out, "SELECT count(*) FROM stream_state WHERE status = 'pending'"), 0);
        let stored = if let Some(folder) = target.strip_prefix("file://") {
            // No staged upload is left behind: only complete objects, each recorded.
            let root = canonical(Path::new(folder));
            assert_eq!(folder_objects(&root), recorded_objects(&out, &format!("file://{}", root.display())));
            folder_objects(&root)
        } else {
            let bucket = format!("s3://{}", service("OCTOSHARD_TEST_S3_BUCKET"));
            assert_eq!(s3_objects(target), recorded_objects(&out, &bucket));
            s3_objects(target)
        };
        assert_eq!(stored.len(), ids.len());
        assert!(hub.downloads().iter().any(|d| d.cut), "some downloads were cut and retried");
    }
}

#[test]
fn an_archive_target_that_cannot_work_is_refused_by_name_before_any_request() {
    let hub = code_hub(20, options());
    let dir = TestDir::new();
    let no_bucket = "s3://octoshard-no-such-bucket/x";
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 3] = [
        (no_bucket, &[], "cannot use archive target s3://octoshard-no-such-bucket/x"),
        ("s3://octoshard-test/x", &[("AWS_ACCESS_KEY_ID", "")], "AWS_ACCESS_KEY_ID is set but empty"),
        ("s3://octoshard-test/x", &[("AWS_SECRET_ACCESS_KEY", "")], "AWS_SECRET_ACCESS_KEY is set but empty"),
    ];
    for (n, (target, env, says)) in cases.into_iter().enumerate() {
        hub.reset_stats();
        let out = dir.path(&format!("{n}.sqlite"));
        let mut command = run_code(&hub, "archive", &out, &["--archive-to", target]);
        for (name, value) in env {
            command.env(name, value);
        }
        let text = fails_with(&run(&mut command), 2);
        assert!(text.contains(says), "{text}");
        assert_eq!(text.trim().lines().filter(|l| l.contains("error")).count(), 1, "{text}");
        assert!(!text.contains(&service("OCTOSHARD_TEST_S3_SECRET")), "{text}");
        assert!(!out.exists());
        assert_eq!(hub.stats().requests, 0, "nothing spent on GitHub");
    }
    // A folder that cannot be made: named, with the reason.
    let file = dir.write("plain-file", "");
    let target = format!("file://{}/sub", file.display());
    let text = fails_with(&run(&mut run_code(&hub, "archive", &dir.path("f.sqlite"), &["--archive-to", &target])), 2);
    assert!(text.contains(&format!("cannot use archive target {}/sub", file.display())), "{text}");
}
