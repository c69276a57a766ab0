#!/usr/bin/env bash
# Runs the crawl workflow's job graph (.github/workflows/crawl.yml) on this machine, wired exactly
# as Actions wires it: the plan job writes its outputs to GITHUB_OUTPUT and uploads the plan folder;
# every crawl job of the matrix runs in parallel with its own GITHUB_OUTPUT, GITHUB_STEP_SUMMARY
# and artifact folder `octoshard-<plan>-<shard>-a<attempt>`; failed jobs are re-run as attempt 2
# (as "Re-run failed jobs" does); the merge job downloads every artifact of the plan and merges.
#
#   scripts/local-workflow.sh [REPOS] [SHARDS] [MAX_PARALLEL]     (defaults: 20000 8 4)
#
# Environment:
#   GITHUB_API_URL    use this (simulated) GitHub instead of starting fakehub
#   OCTOSHARD_TOKENS  its token (default: a token fakehub accepts)
#   OCTOSHARD_BIN     the octoshard binary (default: build target/debug/octoshard)
#   FAIL_SHARD        the matrix job whose first attempt fails (default: the fourth; "none": none)
#   WORK              where the runners' folders go (default: a temporary folder, removed at exit)
#   SOURCE            the crawl's source (default: ids:0..<max id + 1>, or ids:0.. with GITHUB_API_URL)
# Prints the merged database's path; exits non-zero if any job of the final attempt failed.
set -euo pipefail
cd "$(dirname "$0")/.."
repos=${1:-20000}
shards=${2:-8}
max_parallel=${3:-4}
if [ -z "${WORK:-}" ]; then
  WORK=$(mktemp -d)
  cleanup_work=1
fi
. scripts/lib/fakehub.sh
trap 'stop_fakehub; if [ -n "${cleanup_work:-}" ]; then rm -rf "$WORK"; fi' EXIT
mkdir -p "$WORK"

if [ -z "${OCTOSHARD_BIN:-}" ]; then
  cargo build --quiet -p octoshard -p fakehub
  OCTOSHARD_BIN=$PWD/target/debug/octoshard
fi
if [ -z "${GITHUB_API_URL:-}" ]; then
  [ -x target/debug/fakehub ] || cargo build --quiet -p fakehub
  export OCTOSHARD_TOKENS=local-workflow-token
  start_fakehub target/debug/fakehub "$WORK" --repos "$repos" --tokens "$OCTOSHARD_TOKENS" --search-window-secs 1 \
    --truth "$WORK/truth.json"
  SOURCE=${SOURCE:-ids:0..$(truth_end "$WORK/truth.json")}
fi
SOURCE=${SOURCE:-ids:0..}
FAIL_SHARD=${FAIL_SHARD:-$(printf 'shard-%04d' 3)}
export GITHUB_ACTIONS=true

# One job: its own runner folder with GITHUB_OUTPUT and GITHUB_STEP_SUMMARY; stdout/stderr logged.
job() { # name, then the command
  local name=$1; shift
  local dir="$WORK/jobs/$name"
  mkdir -p "$dir"
  : >"$dir/output"; : >"$dir/summary"
  (cd "$dir" && GITHUB_OUTPUT="$dir/output" GITHUB_STEP_SUMMARY="$dir/summary" "$@" >"$dir/stdout" 2>"$dir/stderr")
}

# A key of a GITHUB_OUTPUT file (single-line form; multi-line values are not used for these keys).
output() { sed -n "s/^$2=//p" "$1" | tail -n 1; }

echo "== plan ($SOURCE, $shards shards)"
job plan "$OCTOSHARD_BIN" plan --source "$SOURCE" --shards "$shards" --out "$WORK/artifacts/octoshard-plan"
plan_id=$(output "$WORK/jobs/plan/output" plan_id)
waves=$(output "$WORK/jobs/plan/output" waves)
echo "plan $plan_id: $(output "$WORK/jobs/plan/output" shards) shards in $waves wave(s)"

# A crawl job of the matrix: downloads the plan artifact, crawls, uploads its artifact (if any).
crawl_job() { # shard, attempt
  local shard=$1 attempt=$2 artifact="octoshard-$plan_id-$1-a$2"
  local tokens=$OCTOSHARD_TOKENS
  if [ "$shard" = "$FAIL_SHARD" ] && [ "$attempt" = 1 ]; then
    tokens=revoked-token # the injected failure: a credential GitHub refuses
  fi
  local status=0
  OCTOSHARD_TOKENS=$tokens job "crawl-$shard-a$attempt" "$OCTOSHARD_BIN" crawl \
    --manifest "$WORK/artifacts/octoshard-plan/$shard.yaml" --out "out/$shard.sqlite.gz" --deadline 5h30m || status=$?
  # upload-artifact with `if: always()` and `if-no-files-found: ignore`.
  if compgen -G "$WORK/jobs/crawl-$shard-a$attempt/out/*.sqlite.gz" >/dev/null; then
    mkdir -p "$WORK/artifacts/$artifact"
    cp "$WORK/jobs/crawl-$shard-a$attempt/out/"*.sqlite.gz "$WORK/artifacts/$artifact/"
  fi
  return "$status"
}

run_matrix() { # attempt, shards...
  local attempt=$1; shift
  local failed=() pids=() names=()
  for shard in "$@"; do
    while [ "$(jobs -rp | wc -l)" -ge "$max_parallel" ]; do wait -n || true; done
    crawl_job "$shard" "$attempt" & pids+=($!); names+=("$shard")
  done
  for i in "${!pids[@]}"; do
    if ! wait "${pids[$i]}"; then failed+=("${names[$i]}"); fi
  done
  printf '%s\n' "${failed[@]}"
}

all_failed=()
still=()
for wave in $(seq 1 "$waves"); do
  matrix=$(output "$WORK/jobs/plan/output" "matrix_$wave")
  mapfile -t wave_shards < <(python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])["shard"]))' "$matrix")
  echo "== crawl wave $wave: ${#wave_shards[@]} jobs, $max_parallel at a time (attempt 1)"
  mapfile -t failed < <(run_matrix 1 "${wave_shards[@]}" | sed '/^$/d')
  all_failed+=("${failed[@]}")
done
if [ "${#all_failed[@]}" -gt 0 ]; then
  echo "failed in attempt 1: ${all_failed[*]}"
  echo "== re-run failed jobs (attempt 2)"
  mapfile -t still < <(run_matrix 2 "${all_failed[@]}" | sed '/^$/d')
  if [ "${#still[@]}" -gt 0 ]; then echo "still failing in attempt 2: ${still[*]}"; fi
fi

echo "== merge"
# download-artifact with pattern octoshard-<plan>-* (the plan artifact has another name).
mkdir -p "$WORK/download"
for dir in "$WORK/artifacts/octoshard-$plan_id-"*; do cp -r "$dir" "$WORK/download/"; done
job merge "$OCTOSHARD_BIN" merge --plan "$WORK/artifacts/octoshard-plan" --out "$WORK/merged/octoshard.sqlite" \
  --leftovers "$WORK/merged/leftovers" "$WORK/download"
cat "$WORK/jobs/merge/summary"
echo "merged: $WORK/merged/octoshard.sqlite"
[ "${#still[@]}" -eq 0 ]
