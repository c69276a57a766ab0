#!/usr/bin/env bash
# Load check (a script, not CI): starts the simulated GitHub with REPOS repositories, plans the
# whole id space into SHARDS shards, crawls every shard as its own process (2 at a time) and
# records each crawl process's peak RSS and wall time; then plans the same space into SHARDS/8
# (8x larger) shards and crawls 2 of those the same way, so "peak memory stays flat as shards
# grow" is a measured figure; finally merges the SHARDS shard files (peak RSS measured too) and
# checks the merged database against the server's ground truth. Prints a summary block; exits
# non-zero when anything fails or the merged database differs from the truth.
#
# Plans use --probes 0 (equal id spans, no probing requests): this measures the crawl, not the
# planner. Peak RSS comes from a small python3 runner per crawl (getrusage of its one child), since
# /usr/bin/time is not always installed.
#
#   scripts/load.sh [REPOS] [SHARDS]        (defaults: 1000000 64; KEEP=1 keeps the work folder)
set -euo pipefail
cd "$(dirname "$0")/.."
repos=${1:-1000000}
shards=${2:-64}
big=$((shards / 8 > 0 ? shards / 8 : 1))
work=$(mktemp -d "${TMPDIR:-/tmp}/octoshard-load.XXXXXX")
. scripts/lib/fakehub.sh
cleanup() {
  stop_fakehub
  if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

cargo build --release --quiet -p octoshard -p fakehub
bin=$PWD/target/release/octoshard
started=$(date +%s.%N)
elapsed() { python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.1f}")' "$1"; }

# One window per second for every budget: the server's limits must not be what this measures.
start_fakehub ./target/release/fakehub "$work" --repos "$repos" --tokens load-token --window-secs 1 \
  --search-window-secs 1 --truth "$work/truth.json"
export GITHUB_TOKEN=load-token
end=$(truth_end "$work/truth.json")
echo "simulated GitHub at $GITHUB_API_URL: $(tail -n 1 "$work/hub.log" | sed 's/^fakehub: //')"

# The runner: one python process per command, so RUSAGE_CHILDREN's maximum is that command's own
# peak RSS (KiB on Linux). Prints "peak_kib seconds"; the command's stderr goes to LOG.
cat >"$work/measure.py" <<'PY'
import resource, subprocess, sys, time
log, cmd = sys.argv[1], sys.argv[2:]
start = time.time()
with open(log, "w") as err:
    code = subprocess.call(cmd, stdout=subprocess.DEVNULL, stderr=err)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, f"{time.time() - start:.2f}")
sys.exit(code)
PY

crawl_shards() { # plan folder, output folder, how many (all when empty) -> lines "name peak_kib seconds"
  local plan=$1 out=$2 limit=${3:-}
  mkdir -p "$out"
  local manifests=("$plan"/shard-*.yaml)
  if [ ! -e "${manifests[0]}" ]; then echo "no manifests in $plan" >&2; return 1; fi
  if [ -n "$limit" ]; then manifests=("${manifests[@]:0:$limit}"); fi
  # xargs stops at the first crawl that exits 255, and then fails itself.
  printf '%s\n' "${manifests[@]}" | xargs -P 2 -I{} sh -c '
    n=$(basename "$1" .yaml)
    r=$(python3 "$2" "$4/$n.log" "$3" crawl --manifest "$1" --out "$4/$n.sqlite.gz") \
      || { echo "crawl of $n failed; its log:" >&2; tail -n 20 "$4/$n.log" >&2; exit 255; }
    echo "$n $r"' _ {} "$work/measure.py" "$bin" "$out"
}

echo "== plan: $shards shards of ids 0..$end"
"$bin" -q plan --source "ids:0..$end" --shards "$shards" --probes 0 --out "$work/plan" >/dev/null
crawl_start=$(date +%s.%N)
crawl_shards "$work/plan" "$work/shards" >"$work/small.txt"
crawl_secs=$(elapsed "$crawl_start")
echo "crawled $shards shards in $crawl_secs s (2 at a time)"

echo "== plan: $big shards (8x larger); crawl 2 of them"
"$bin" -q plan --source "ids:0..$end" --shards "$big" --probes 0 --out "$work/plan-big" >/dev/null
crawl_shards "$work/plan-big" "$work/shards-big" 2 >"$work/big.txt"

echo "== merge"
merge_start=$(date +%s.%N)
python3 "$work/measure.py" "$work/merge.log" \
  "$bin" merge --plan "$work/plan" --out "$work/merged.sqlite" "$work/shards" >"$work/merge.txt" \
  || { echo "merge failed; its log:" >&2; tail -n 20 "$work/merge.log" >&2; exit 1; }
merge_secs=$(elapsed "$merge_start")
hub_peak=$(awk '/^VmHWM/ {print $2}' "/proc/$hub_pid/status" 2>/dev/null || echo 0)

# Compared like scripts/simulate.sh: every (id, full_name, node_id) of the truth. The universe has
# no deleted repositories (fakehub's --deleted-fraction defaults to 0); should it ever have some,
# only the ones not deleted are expected.
python3 - "$work" "$repos" "$shards" "$big" "$(elapsed "$started")" "$crawl_secs" "$merge_secs" "${hub_peak:-0}" <<'PY'
import gzip, json, os, shutil, sqlite3, statistics, sys, tempfile
work, repos, shards, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
total_secs, crawl_secs, merge_secs, hub_kib = sys.argv[5], sys.argv[6], sys.argv[7], int(sys.argv[8] or 0)

def rss(path):
    rows = [line.split() for line in open(os.path.join(work, path)) if line.strip()]
    peaks = sorted(int(r[1]) / 1024 for r in rows)
    secs = statistics.median(float(r[2]) for r in rows)
    return (f"{len(rows)} crawls, peak RSS min {peaks[0]:.1f} / median {statistics.median(peaks):.1f} / "
            f"max {peaks[-1]:.1f} MiB, median {secs:.1f} s per crawl")

def shard_repos(folder):
    counts = []
    for name in sorted(os.listdir(os.path.join(work, folder))):
        if name.endswith(".sqlite.gz"):
            with tempfile.NamedTemporaryFile(dir=work, suffix=".sqlite") as tmp:
                with gzip.open(os.path.join(work, folder, name)) as src:
                    shutil.copyfileobj(src, tmp)
                tmp.flush()
                conn = sqlite3.connect(tmp.name)
                counts.append(conn.execute("SELECT count(*) FROM repositories").fetchone()[0])
                conn.close()
    return counts

truth = json.load(open(os.path.join(work, "truth.json")))
want = [(r["id"], r["full_name"], r["node_id"]) for r in truth["repos"] if not r["deleted"]]
conn = sqlite3.connect(os.path.join(work, "merged.sqlite"))
got = conn.execute("SELECT id, full_name, node_id FROM repositories ORDER BY id").fetchall()
requests, cost = conn.execute("SELECT sum(requests), sum(cost) FROM api_request_totals").fetchone()
merge_kib, _ = open(os.path.join(work, "merge.txt")).read().split()
big_counts = shard_repos("shards-big")

print("== summary")
print(f"repositories:     {repos} ({len(got)} stored, {len(want)} in the ground truth; ids 0..{truth['max_id'] + 1})")
print(f"shards:           {shards} (crawled 2 at a time)")
print(f"wall time:        {total_secs} s in all; crawl of every shard {crawl_secs} s; merge {merge_secs} s")
print(f"requests used:    {requests} ({cost} budget points)")
print(f"shards of ~{len(want) // shards} repositories: {rss('small.txt')}")
print(f"shards of ~{len(want) // big} repositories: {rss('big.txt')} (stored {', '.join(map(str, big_counts))})")
print(f"merge of {shards} shards: peak RSS {int(merge_kib) / 1024:.1f} MiB")
print(f"fakehub:          peak RSS {hub_kib / 1024:.1f} MiB")
if got != want:
    missing = len(set(want) - set(got)); extra = len(set(got) - set(want))
    sys.exit(f"MISMATCH: merged database differs from the ground truth ({missing} missing, {extra} unexpected)")
print("merged database equals the ground truth")
PY
