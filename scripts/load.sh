#!/usr/bin/env bash
# Load check (a script, not CI): crawls a large simulated universe shard by shard and reports each
# crawl process's peak memory, for shards of two sizes, so that "memory stays flat as shards grow"
# is a measured figure. Plans with --probes 0 (equal id spans): this is about crawling, not planning.
#
#   scripts/load.sh [REPOS] [SHARDS]        (defaults: 1000000 64; KEEP=1 keeps the work folder)
set -euo pipefail
cd "$(dirname "$0")/.."
repos=${1:-1000000}
shards=${2:-64}
big=$((shards / 8 > 0 ? shards / 8 : 1))
work=$(mktemp -d)
trap 'if [ -n "${hub_pid:-}" ]; then kill "$hub_pid" 2>/dev/null || true; fi; if [ -z "${KEEP:-}" ]; then rm -rf "$work"; else echo "kept $work"; fi' EXIT

cargo build --release --quiet -p octoshard -p fakehub
bin=$PWD/target/release/octoshard
started=$(date +%s)
./target/release/fakehub --repos "$repos" --tokens load-token --window-secs 1 --search-window-secs 1 \
  --truth "$work/truth.json" >"$work/url" 2>"$work/hub.log" &
hub_pid=$!
for _ in $(seq 600); do [ -s "$work/url" ] && break; sleep 0.1; done
export GITHUB_API_URL; GITHUB_API_URL=$(head -n 1 "$work/url")
export GITHUB_TOKEN=load-token
end=$(($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["max_id"])' "$work/truth.json") + 1))
echo "simulated GitHub with $repos repositories (ids below $end) ready after $(($(date +%s) - started)) s"

# The python runner as a standalone file, so xargs children can call it.
cat >"$work/measure.py" <<'PY'
import resource, subprocess, sys, time
start = time.time()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[-1] + ".log", "w"))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, round(time.time() - start, 2))
sys.exit(code)
PY

crawl_shards() { # plan folder, output folder, how many (all when empty) -> lines "name peak_kib seconds"
  local plan=$1 out=$2 limit=${3:-}
  mkdir -p "$out"
  local manifests=("$plan"/shard-*.yaml)
  if [ -n "$limit" ]; then manifests=("${manifests[@]:0:$limit}"); fi
  printf '%s\n' "${manifests[@]}" | xargs -P 2 -I{} sh -c \
    'n=$(basename "$1" .yaml); r=$(python3 "$2" "$3" crawl --manifest "$1" --out "$4/$n.sqlite.gz") || { echo "FAILED $n" >&2; exit 255; }; echo "$n $r"' \
    _ {} "$work/measure.py" "$bin" "$out"
}

summarise() { # label, lines file
  python3 - "$1" "$2" <<'PY'
import statistics, sys
label, path = sys.argv[1], sys.argv[2]
rows = [line.split() for line in open(path) if line.strip()]
peaks = sorted(int(r[1]) / 1024 for r in rows)
secs = [float(r[2]) for r in rows]
print(f"{label}: {len(rows)} crawls, peak RSS min {peaks[0]:.1f} / median {statistics.median(peaks):.1f} / max {peaks[-1]:.1f} MiB, "
      f"{statistics.median(secs):.1f} s median per crawl")
PY
}

echo "== plan: $shards shards"
"$bin" -q plan --source "ids:0..$end" --shards "$shards" --probes 0 --out "$work/plan" >/dev/null
crawl_start=$(date +%s)
crawl_shards "$work/plan" "$work/shards" >"$work/small.txt"
crawl_secs=$(($(date +%s) - crawl_start))
echo "crawled $shards shards in $crawl_secs s (2 at a time)"

echo "== plan: $big shards (8x larger), crawl 2 of them"
"$bin" -q plan --source "ids:0..$end" --shards "$big" --probes 0 --out "$work/plan-big" >/dev/null
crawl_shards "$work/plan-big" "$work/shards-big" 2 >"$work/big.txt"

echo "== merge"
merge_result=$(python3 "$work/measure.py" "$bin" merge --plan "$work/plan" --out "$work/merged.sqlite" "$work/shards")

python3 - "$work/merged.sqlite" "$work/truth.json" <<'PY'
import json, sqlite3, sys
db, truth = sys.argv[1], json.load(open(sys.argv[2]))
want = sorted(r["id"] for r in truth["repos"])
conn = sqlite3.connect(db)
got = [row[0] for row in conn.execute("SELECT id FROM repositories ORDER BY id")]
requests = conn.execute("SELECT count(*) FROM api_requests").fetchone()[0]
detailed = conn.execute("SELECT count(*) FROM repositories WHERE detail_fetched_at IS NOT NULL").fetchone()[0]
print(f"repositories: {len(got)} stored, {len(want)} in the ground truth, {detailed} with detail; requests: {requests}")
if got != want:
    sys.exit("merged database differs from the ground truth")
print("merged database equals the ground truth")
PY
echo "== summary ($repos repositories, $shards shards, total $(($(date +%s) - started)) s)"
per_small=$((repos / shards)); per_big=$((repos / big))
summarise "shards of ~$per_small repositories" "$work/small.txt"
summarise "shards of ~$per_big repositories" "$work/big.txt"
read -r merge_kib merge_secs <<<"$merge_result"
echo "merge of $shards shards: peak RSS $((merge_kib / 1024)) MiB, $merge_secs s"
