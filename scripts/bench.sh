#!/usr/bin/env bash
# Benchmarks (release build; figures go in notes, never in tests):
#   1. planning ids 0..1.2 billion into 1,024 shards without probes (median of 5 runs, whole process);
#   2. planning a probed and counted id space (20,000 simulated repositories, 64 and 1,024 shards):
#      time spent cutting beyond the probes, and the balance reached;
#   3. a full local crawl (scripts/simulate.sh): wall time, requests, equality with the truth.
#   scripts/bench.sh [REPOS]      (default 20000 for the crawl)
set -euo pipefail
cd "$(dirname "$0")/.."
repos=${1:-20000}
work=$(mktemp -d)
. scripts/lib/fakehub.sh
trap 'stop_fakehub; rm -rf "$work"' EXIT
cargo build --release --quiet -p octoshard -p fakehub
bin=./target/release/octoshard

now() { date +%s.%N; }
echo "== plan ids:0..1200000000 --shards 1024 --probes 0 (5 runs)"
times=()
for _ in 1 2 3 4 5; do
  start=$(now)
  "$bin" -q plan --source ids:0..1200000000 --shards 1024 --probes 0 --out "$work/plan-big" >/dev/null
  times+=("$(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')")
done
printf '%s\n' "${times[@]}" | sort -n | awk '{ t[NR] = $1 } END { printf "median %.3f s (min %.3f, max %.3f)\n", t[3], t[1], t[5] }'
ls "$work/plan-big" | grep -c '^shard-' | sed 's/^/manifests: /'

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

echo "== local crawl (scripts/simulate.sh $repos 8 4)"
bash scripts/simulate.sh "$repos" 8 4

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
cost = dict(c.execute("SELECT kind, sum(cost) FROM api_requests GROUP BY kind").fetchall())
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
