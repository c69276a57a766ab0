#!/usr/bin/env bash
# Local simulation of a full crawl: starts the simulated GitHub with N repositories, runs
# `octoshard run` over the whole id space against it, and checks the merged database against the
# server's ground truth. Prints the wall time and the requests used.
#
#   scripts/simulate.sh [REPOS] [SHARDS] [JOBS]      (defaults: 20000 8 4)
set -euo pipefail
cd "$(dirname "$0")/.."
repos=${1:-20000}
shards=${2:-8}
jobs=${3:-4}
work=$(mktemp -d)
. scripts/lib/fakehub.sh
trap 'stop_fakehub; rm -rf "$work"' EXIT

cargo build --release --quiet -p octoshard -p fakehub
start_fakehub ./target/release/fakehub "$work" --repos "$repos" --tokens simulated-token --truth "$work/truth.json"
end_id=$(truth_end "$work/truth.json")
echo "simulated GitHub at $GITHUB_API_URL with $repos repositories (ids below $end_id)"

start=$(date +%s.%N)
GITHUB_TOKEN=simulated-token ./target/release/octoshard run \
  --source "ids:0..$end_id" --shards "$shards" --jobs "$jobs" --out "$work/x.sqlite"
end=$(date +%s.%N)

python3 - "$work/x.sqlite" "$work/truth.json" "$start" "$end" <<'PY'
import json, sqlite3, sys
db, truth, start, end = sys.argv[1], json.load(open(sys.argv[2])), float(sys.argv[3]), float(sys.argv[4])
conn = sqlite3.connect(db)
got = conn.execute("SELECT id, full_name, node_id FROM repositories ORDER BY id").fetchall()
want = [(r["id"], r["full_name"], r["node_id"]) for r in truth["repos"]]
requests, cost = conn.execute("SELECT sum(requests), sum(cost) FROM api_request_totals").fetchone()
print(f"repositories: {len(got)} stored, {len(want)} in the ground truth")
print(f"requests: {requests} ({cost} budget points); wall time {end - start:.2f} s")
if got != want:
    missing = len(set(want) - set(got)); extra = len(set(got) - set(want))
    sys.exit(f"MISMATCH: {missing} missing, {extra} unexpected")
print("merged database equals the ground truth")
PY
