#!/usr/bin/env bash
# Benchmarks (release build; figures go in notes, never in tests):
#   1. planning ids 0..1.2 billion into 1,024 shards without probes (median of 5 runs, whole process);
#   2. planning a probed and counted id space (20,000 simulated repositories, 64 and 1,024 shards):
#      time spent cutting beyond the probes, and the balance reached;
#   3. a full local crawl (scripts/simulate.sh): wall time, requests, equality with the truth.
#   4. deep collection (2,000 repositories, every stream);
#   5. daily refreshes after 1%, 5% and 20% churn: budget as a share of the first crawl;
#   6. export of 1,000,000 repositories to PostgreSQL, JSON Lines and Parquet;
#   7. code archives of 200 repositories, one of them a 500 MB tarball, to a folder and to S3:
#      wall time, throughput and the crawl's peak memory.
#   8. the local data path (scripts/lib/bench_data.sh): merge of 64 shards of 100,000 repositories
#      against the sqlite3 floor, shard gzip, JSON to SQLite ingest, peak memory of crawl and merge.
#   9. peers: octoshard side by side with PyGithub, github-to-sqlite and Perceval (pinned, from
#      PyPI, in a cached venv) on the same simulated GitHub: budget units, wall time, peak memory,
#      rows lost and exit status, without and with faults; a Markdown table (scripts/lib/peers/).
#   scripts/bench.sh [REPOS] [SECTION...]   (REPOS: default 20000 for the crawl; SECTION: plan,
#                                            probes, crawl, deep, refresh, export, data, archive,
#                                            peers; default all)
set -euo pipefail
cd "$(dirname "$0")/.."
repos=${1:-20000}
sections=("${@:2}")
want() { [ ${#sections[@]} -eq 0 ] || [[ " ${sections[*]} " == *" $1 "* ]]; }
work=$(mktemp -d)
. scripts/lib/fakehub.sh
trap 'stop_fakehub; rm -rf "$work"' EXIT
cargo build --release --quiet -p octoshard -p fakehub
bin=${CARGO_TARGET_DIR:-./target}/release/octoshard

now() { date +%s.%N; }
if want plan; then
echo "== plan ids:0..1200000000 --shards 1024 --probes 0 (5 runs)"
times=()
for _ in 1 2 3 4 5; do
  start=$(now)
  "$bin" -q plan --source ids:0..1200000000 --shards 1024 --probes 0 --out "$work/plan-big" >/dev/null
  times+=("$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END { printf "median %.3f s (min %.3f, max %.3f)\n", t[3], t[1], t[5] }'
ls "$work/plan-big" | grep -c '^shard-' | sed 's/^/manifests: /'
fi

if want probes; then
echo "== plan ids:0.. against the simulated GitHub (20,000 repositories, 1 s budget windows)"
start_fakehub ./target/release/fakehub "$work" --repos 20000 --seed 7 --window-secs 1 --tokens bench-token \
  --truth "$work/truth.json"
for shards in 64 1024; do
  probes=$((shards * 3 < 175 ? 175 : shards * 3))
  rm -rf "$work/plan-$shards"
  GITHUB_TOKEN=bench-token "$bin" -v plan --source ids:0.. --shards "$shards" \
    --probes "$probes" --out "$work/plan-$shards" 2>"$work/plan-$shards.log" >/dev/null
  python3 - "$work/truth.json" "$work/plan-$shards" "$work/plan-$shards.log" "$shards" "$probes" <<'PY'
import bisect, glob, json, re, sys
truth, folder, log, shards, probes = sys.argv[1:]
ids = sorted(r["id"] for r in json.load(open(truth))["repos"])
counts = []
for path in sorted(glob.glob(folder + "/shard-*.yaml")):
    m = re.search(r"from: (\d+)\s+to: (\d+)", open(path).read())
    counts.append(bisect.bisect_left(ids, int(m.group(2))) - bisect.bisect_left(ids, int(m.group(1))))
line = next(l for l in open(log) if "planned" in l)
field = lambda k: re.search(k + r"=(\d+)", line).group(1)
print(f"{shards} shards, --probes {probes}: {field('requests')} requests, gathering {int(field('gather_ms'))/1000:.1f} s, "
      f"cutting {field('cut_ms')} ms; shards hold {min(counts)}..{max(counts)} repositories "
      f"({max(counts)/max(min(counts),1):.2f}x), {sum(counts)} of {len(ids)}")
PY
done
stop_fakehub
unset GITHUB_API_URL
fi

if want crawl; then
echo "== local crawl (scripts/simulate.sh $repos 8 4)"
bash scripts/simulate.sh "$repos" 8 4
fi

if want deep; then
# --no-pacing: this measures the crawler's budget and speed, not GitHub's hourly spread (a full
# deep crawl of 2,000 repositories spends most of an hour's REST budget, which pacing would
# stretch over the hour).
echo "== deep collection: 2,000 repositories, every stream, 20 ms a request"
start_fakehub ./target/release/fakehub "$work" --repos 2000 --seed 31 --latency-ms 20 --tokens bench-token \
  --truth "$work/deep-truth.json"
deep_end=$(truth_end "$work/deep-truth.json")
for collect in issues,pulls metadata,pulls,issues,runs,contributors,commits; do
  rm -f "$work/deep.sqlite"
  started=$(date +%s.%N)
  GITHUB_TOKEN=bench-token "$bin" -q run --no-pacing --probes 0 --shards 4 --jobs 4 --source "ids:0..$deep_end" \
    --collect "$collect" --out "$work/deep.sqlite"
  ended=$(date +%s.%N)
  python3 - "$work/deep.sqlite" "$collect" "$started" "$ended" <<'PY'
import sqlite3, sys
db, collect, started, ended = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
c = sqlite3.connect(db)
one = lambda sql: c.execute(sql).fetchone()[0] or 0
repos = one("SELECT count(*) FROM repositories")
items = {t: one(f"SELECT count(*) FROM {t}") for t in ("issues", "pull_requests", "ci_runs", "contributors", "commits")}
cost = dict(c.execute("SELECT kind, sum(cost) FROM api_request_totals GROUP BY kind").fetchall())
deep = cost.get("deep_query", 0) + cost.get("deep_page", 0)
total = sum(cost.values())
line = f"--collect {collect}: {repos} repositories, " + ", ".join(f"{n} {t}" for t, n in items.items() if n)
print(line)
print(f"  units: {total} in all ({cost}), {total * 1000 / max(repos, 1):.1f} per 1,000 repositories, "
      f"wall {ended - started:.1f} s")
ip = items["issues"] + items["pull_requests"]
if collect == "issues,pulls" and ip:
    print(f"  issues + pull requests: {cost.get('deep_query', 0) * 100 / ip:.3f} GraphQL points per 100 items")
PY
done
stop_fakehub
fi

if want refresh; then
# A first deep crawl, then daily refreshes against the simulated GitHub moved a day ahead with 1%,
# 5% and 20% of the repositories pushed (plus stars, renames, descriptions, deletions at a fifth of
# that, and 20 new repositories a day): each refresh's budget as a share of the first crawl.
echo "== daily refresh: 2,000 repositories, every stream, 20 ms a request"
start_fakehub ./target/release/fakehub "$work" --repos 2000 --seed 37 --latency-ms 20 --tokens bench-token \
  --core-limit 1000000 --graphql-limit 1000000 \
  --truth "$work/refresh-truth.json"
refresh_end=$(truth_end "$work/refresh-truth.json")
collect=metadata,pulls,issues,runs,contributors,commits
day=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["now"][:10])' "$work/refresh-truth.json")
started=$(date +%s.%N)
GITHUB_TOKEN=bench-token "$bin" -q run --no-pacing --probes 0 --shards 4 --jobs 4 --source "ids:0..$refresh_end" \
  --collect "$collect" --today "$day" --out "$work/day0.sqlite"
ended=$(date +%s.%N)
echo "first crawl: $(python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.1f} s")' "$started" "$ended")"
previous="$work/day0.sqlite"
n=0
for churn in 0.01 0.05 0.20; do
  n=$((n + 1))
  side=$(python3 -c "print($churn / 5)")
  advance=$(curl -sf -X POST "$GITHUB_API_URL/_fakehub/advance?days=1&pushed=$churn&starred=$side&renamed=$side&described=$side&deleted=$side&created=20&seed=$n")
  day=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["now"][:10])' "$advance")
  started=$(date +%s.%N)
  GITHUB_TOKEN=bench-token "$bin" -q run --no-pacing --shards 4 --jobs 4 --source "refresh:$previous" \
    --collect "$collect" --today "$day" --out "$work/day$n.sqlite"
  ended=$(date +%s.%N)
  python3 - "$work/day0.sqlite" "$previous" "$work/day$n.sqlite" "$day" "$churn" "$advance" "$started" "$ended" <<'PY'
import json, sqlite3, sys
first, previous, today, day, churn, advance, started, ended = sys.argv[1:]
units = lambda db: sqlite3.connect(db).execute("SELECT coalesce(sum(cost), 0) FROM api_request_totals").fetchone()[0]
full = units(first)
spent = units(today) - units(previous)
c = sqlite3.connect(today)
checked, changed, gone = c.execute(
    "SELECT count(*), sum(has_changes), sum(gone) FROM daily_repository_changes WHERE check_date = ?", (day,)).fetchone()
new = c.execute("SELECT coalesce(sum(new_repositories), 0) FROM repository_discovery_log WHERE discovery_date = ?", (day,)).fetchone()[0]
a = json.loads(advance)
print(f"refresh at {float(churn):.0%} pushed: {checked} checked, {changed} changed ({len(a['changed']) + len(a['deleted'])} in the truth), "
      f"{gone} gone, {new} new; {spent} units = {spent * 100 / full:.1f}% of the first crawl's {full}; "
      f"wall {float(ended) - float(started):.1f} s")
PY
  previous="$work/day$n.sqlite"
done
stop_fakehub
fi

if want export; then
echo "== export of 1,000,000 repositories (synthetic rows; PostgreSQL and Python from scripts/services.sh)"
eval "$(bash scripts/services.sh start)"
python3 scripts/lib/synthetic_db.py "$work/big.sqlite" 1000000
psql_cmd=${OCTOSHARD_TEST_PSQL:-psql}
# Three runs of each (the machine is shared and noisy): the best and the median, and peak memory.
# "postgres" exports into an empty database (COPY straight into new tables, keys built after);
# "postgres again" exports the same rows into the filled tables (staging COPY + upsert, which
# rewrites nothing); "jsonl" and "parquet" write files.
export_once() {
  case $1 in
    postgres)
      "$psql_cmd" -X -q "$OCTOSHARD_TEST_POSTGRES_B" -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public;" 2>/dev/null
      set -- --to "$OCTOSHARD_TEST_POSTGRES_B";;
    postgres-again) set -- --to "$OCTOSHARD_TEST_POSTGRES_B";;
    *) rm -rf "$work/files"; set -- --format "$1" --out "$work/files";;
  esac
  local started ended
  started=$(date +%s.%N)
  /usr/bin/time -o "$work/time.txt" -f %M "$bin" -q export --db "$work/big.sqlite" --tables repositories "$@"
  ended=$(date +%s.%N)
  echo "$started $ended $(cat "$work/time.txt")"
}
for target in postgres postgres-again jsonl parquet; do
  runs=()
  for _ in 1 2 3; do runs+=("$(export_once "$target")"); done
  python3 - "$target" "${runs[@]}" <<'PY'
import sys
target, runs = sys.argv[1], [r.split() for r in sys.argv[2:]]
seconds = sorted(float(b) - float(a) for a, b, _ in runs)
peak = max(int(m) for _, _, m in runs) / 1024
print(f"{target}: 1,000,000 rows, best {seconds[0]:.2f} s ({1e6 / seconds[0]:,.0f} rows/s), "
      f"median {seconds[1]:.2f} s ({1e6 / seconds[1]:,.0f} rows/s), peak {peak:,.0f} MiB")
PY
done
fi

if want data; then
echo "== local data path: merge of 64 x 100,000 repositories against sqlite3, gzip, ingest, memory"
bash scripts/lib/bench_data.sh "$bin" ./target/release/fakehub "$work"
fi

if want archive; then
echo "== code archives: 200 repositories, one a 500 MB tarball, to a folder and to S3 (moto from scripts/services.sh)"
eval "$(bash scripts/services.sh start)"
# The simulated GitHub once to find a repository with code, then again with its tarball made big.
start_fakehub ./target/release/fakehub "$work" --repos 200 --seed 43 --tokens bench-token
big=$(curl -sf "$GITHUB_API_URL/_fakehub/truth?code=1" |
  python3 -c 'import json, sys; print(next(r["id"] for r in json.load(sys.stdin)["repos"] if r.get("code")))')
stop_fakehub
start_fakehub ./target/release/fakehub "$work" --repos 200 --seed 43 --tokens bench-token \
  --core-limit 1000000 --graphql-limit 1000000 --codeload-host 127.0.0.2 --big-archive "$big=500000000" \
  --truth "$work/code-truth.json"
code_end=$(truth_end "$work/code-truth.json")
for target in "file://$work/archives" "s3://$OCTOSHARD_TEST_S3_BUCKET/bench-$$"; do
  rm -f "$work/code.sqlite"
  started=$(date +%s.%N)
  AWS_ACCESS_KEY_ID=$OCTOSHARD_TEST_S3_KEY_ID AWS_SECRET_ACCESS_KEY=$OCTOSHARD_TEST_S3_SECRET \
    AWS_ENDPOINT_URL=$OCTOSHARD_TEST_S3_ENDPOINT AWS_REGION=us-east-1 GITHUB_TOKEN=bench-token \
    /usr/bin/time -o "$work/time.txt" -f %M "$bin" -q run --no-pacing --probes 0 --shards 1 \
    --source "ids:0..$code_end" --collect snapshot,archive --archive-to "$target" --out "$work/code.sqlite"
  ended=$(date +%s.%N)
  python3 - "$work/code.sqlite" "$target" "$started" "$ended" "$(cat "$work/time.txt")" <<'PY'
import sqlite3, sys
db, target, started, ended, peak = sys.argv[1:]
c = sqlite3.connect(db)
n, size, biggest = c.execute("SELECT count(*), sum(bytes), max(bytes) FROM archives WHERE uri IS NOT NULL").fetchone()
snapshots = c.execute("SELECT count(*) FROM repository_snapshots").fetchone()[0]
seconds = float(ended) - float(started)
print(f"{target.split(':')[0]}: {n} archives ({size / 1e6:,.0f} MB, the largest {biggest / 1e6:,.0f} MB) and {snapshots} snapshots "
      f"in {seconds:.1f} s ({size / 1e6 / seconds:,.0f} MB/s); crawl peak memory {int(peak) / 1024:,.0f} MiB")
PY
done
# moto keeps objects in memory: give back the half gigabyte.
AWS_ACCESS_KEY_ID=$OCTOSHARD_TEST_S3_KEY_ID AWS_SECRET_ACCESS_KEY=$OCTOSHARD_TEST_S3_SECRET \
  "$OCTOSHARD_TEST_PYTHON" - "$OCTOSHARD_TEST_S3_ENDPOINT" "$OCTOSHARD_TEST_S3_BUCKET" "bench-$$/" <<'PY'
import boto3, sys
endpoint, bucket, prefix = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
    for item in page.get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"])
PY
stop_fakehub
fi

if want peers; then
# Sizes, pins and the wrapper that sends peers to fakehub: scripts/lib/peers/peers.sh.
echo "== peers: octoshard, PyGithub, github-to-sqlite and Perceval on one simulated GitHub, 20 ms a request"
. scripts/lib/peers/peers.sh
peers_section "$bin" "${bin%/*}/fakehub" "$work/peers"
fi
