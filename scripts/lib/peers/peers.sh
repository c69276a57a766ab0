# shellcheck shell=bash
# The `peers` section of scripts/bench.sh (sourced, after scripts/lib/fakehub.sh): octoshard side
# by side with the tools users would pick instead, against one fakehub universe at 20 ms a request:
#   PyGithub (a script of the usual kind, pygithub_crawl.py), github-to-sqlite and Perceval, each
#   installed from PyPI at an exact version into a virtual environment of its own
#   (${XDG_CACHE_HOME:-$HOME/.cache}/octoshard-bench/venv, reused while the pins match).
# Budget units are what fakehub charged (GET /_fakehub/stats before and after each run: core
# requests + GraphQL points + search requests), so every tool is counted the same way, server-side.
# github-to-sqlite and Perceval call https://api.github.com: redirect/sitecustomize.py (put on
# PYTHONPATH) rewrites those URLs to fakehub's; nothing else about them changes.
# Prints a Markdown table and nothing else (logs stay in the work folder, shown for failed runs).

peers_lib=scripts/lib/peers
# Current releases that install on Python 3.11 (see the commit that set them).
peers_pins="PyGithub==2.10.0 github-to-sqlite==2.9.1 perceval==1.6.1"
peers_universe=${PEERS_REPOS:-2000}   # repositories in the universe (metadata work: all of them)
peers_fault_repos=${PEERS_FAULT_REPOS:-300}  # repositories of the metadata work under faults
# Issues and pull requests: the 3 busiest repositories with at most this many items each (Perceval
# makes 2-6 requests an item, 30 ms each here: the busiest ones, 500-700 items, would take minutes);
# under faults, the first of them alone.
peers_items_cap=${PEERS_ITEMS_CAP:-120}
peers_seed=53
peers_timeout=${PEERS_TIMEOUT:-240}   # seconds one tool may take on one piece of work

# peers_venv: the peers' virtual environment (created, or reused when its pins match); sets peers_bin.
peers_venv() {
  local venv=${XDG_CACHE_HOME:-$HOME/.cache}/octoshard-bench/venv
  peers_bin=$venv/bin
  if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/pins" 2>/dev/null)" = "$peers_pins" ]; then
    return 0
  fi
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  # shellcheck disable=SC2086 # the pins are words
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check $peers_pins; } \
    >"$pw/pip.log" 2>&1; then
    echo "peers: cannot install $peers_pins:" >&2
    tail -n 20 "$pw/pip.log" >&2
    return 1
  fi
  echo "$peers_pins" >"$venv/pins"
}

peers_stats() { curl -sf "$GITHUB_API_URL/_fakehub/stats" >"$1"; }

# peers_measure NAME CMD...: runs CMD (timeout, peak memory, wall time) between two stats snapshots;
# leaves NAME.out (stdout+stderr), NAME.exit, NAME.wall, NAME.peak (KiB), NAME.units and
# NAME.early (requests sent before a secondary limit's retry-after elapsed) and NAME.faults (injected
# faults the run met: the fault dice are seeded, a short run may meet none) in $pw.
# CMD may be one of the exported peers_* functions below (run by a child bash).
peers_measure() {
  local name=$1 started ended
  shift
  peers_stats "$pw/$name.before.json"
  started=$(date +%s.%N)
  set +e
  # shellcheck disable=SC2016 # expanded by the child bash
  /usr/bin/time -o "$pw/$name.time" -f %M timeout "$peers_timeout" bash -c '"$@"' peers "$@" >"$pw/$name.out" 2>&1
  echo $? >"$pw/$name.exit"
  set -e
  ended=$(date +%s.%N)
  peers_stats "$pw/$name.after.json"
  awk -v a="$started" -v b="$ended" 'BEGIN { printf "%.1f\n", b - a }' >"$pw/$name.wall"
  tail -n 1 "$pw/$name.time" | grep -E '^[0-9]+$' >"$pw/$name.peak" || echo 0 >"$pw/$name.peak"
  python3 - "$pw/$name.before.json" "$pw/$name.after.json" "$pw/$name" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print(sum(b["units"][k] - a["units"][k] for k in ("core", "graphql", "search")), file=open(sys.argv[3] + ".units", "w"))
print(b["violations"]["retry_after"] - a["violations"]["retry_after"], file=open(sys.argv[3] + ".early", "w"))
print(sum(b["faults"].values()) - sum(a["faults"].values()), file=open(sys.argv[3] + ".faults", "w"))
PY
}

# peers_row WORK TOOL NAME PER TRUTH ROWS: one line of the table from a measured run
# (PER: "repos" for units per 1,000 repositories, "items" for units per 100 items).
peers_row() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$(cat "$pw/$3.units")" "$4" "$5" \
    "$(cat "$pw/$3.wall")" "$(cat "$pw/$3.peak")" "$6" "$(cat "$pw/$3.exit")" "$(cat "$pw/$3.early")" \
    "$(cat "$pw/$3.faults")" >>"$pw/results.tsv"
}

# peers_skip WORK TOOL REASON: a row for a run that was not made.
peers_skip() { printf '%s\t%s\tnot run: %s\n' "$1" "$2" "$3" >>"$pw/results.tsv"; }

# The three peers' commands.
peers_pygithub() { GITHUB_TOKEN=bench-token "$peers_bin/python" "$peers_lib/pygithub_crawl.py" "$GITHUB_API_URL" "$@"; }
peers_redirected() {
  PYTHONPATH="$PWD/$peers_lib/redirect${PYTHONPATH:+:$PYTHONPATH}" OCTOSHARD_BENCH_API=$GITHUB_API_URL \
    GITHUB_TOKEN=bench-token "$@"
}
# peers_g2s_items DB REPOS_FILE: github-to-sqlite issues + pull-requests of each repository.
peers_g2s_items() {
  local db=$1 repo rc=0
  while read -r repo; do
    peers_redirected "$peers_bin/github-to-sqlite" issues "$db" "$repo" --auth /nonexistent || rc=$?
    peers_redirected "$peers_bin/github-to-sqlite" pull-requests "$db" "$repo" --state all --auth /nonexistent || rc=$?
  done <"$2"
  return $rc
}
# peers_perceval OUT REPOS_FILE: perceval github OWNER REPO, issue and pull_request categories.
peers_perceval() {
  local out=$1 repo category rc=0
  : >"$out"
  while read -r repo; do
    for category in issue pull_request; do
      peers_redirected "$peers_bin/perceval" github "${repo%%/*}" "${repo#*/}" --category "$category" \
        -t bench-token --json-line -o "$out.part" || rc=$?
      cat "$out.part" >>"$out" 2>/dev/null || true
    done
  done <"$2"
  return $rc
}

# peers_octoshard OUT ARGS...: octoshard run the way users run it (planning on, 4 shards, 4 jobs).
peers_octoshard() {
  local out=$1
  shift
  GITHUB_TOKEN=bench-token "$bin" -q run --no-pacing --shards 4 --jobs 4 "$@" --out "$out"
}

export -f peers_pygithub peers_redirected peers_g2s_items peers_perceval peers_octoshard
export peers_lib peers_bin bin

# peers_metadata LABEL END TRUTH: the metadata of every repository below END, each tool.
peers_metadata() {
  local label=$1 end=$2 truth=$3 tag
  tag=$(echo "$label" | tr -c 'a-z0-9\n' '-')
  peers_measure "octo-$tag" peers_octoshard "$pw/octo-$tag.sqlite" --source "ids:0..$end"
  peers_row "$label" "octoshard run (planned)" "octo-$tag" repos "$truth" \
    "$(python3 "$peers_lib/rows.py" repos octoshard "$pw/octo-$tag.sqlite" "$pw/live_ids" "$end")"
  if [ "$tag" = metadata ]; then
    peers_measure "octo0-$tag" peers_octoshard "$pw/octo0-$tag.sqlite" --source "ids:0..$end" --probes 0
    peers_row "$label" "octoshard run --probes 0" "octo0-$tag" repos "$truth" \
      "$(python3 "$peers_lib/rows.py" repos octoshard "$pw/octo0-$tag.sqlite" "$pw/live_ids" "$end")"
  fi
  if [ -z "$peers_missing" ]; then
    peers_measure "pyg-$tag" peers_pygithub "$end" "$pw/pyg-$tag.sqlite"
    peers_row "$label" "PyGithub script" "pyg-$tag" repos "$truth" \
      "$(python3 "$peers_lib/rows.py" repos pygithub "$pw/pyg-$tag.sqlite" "$pw/live_ids" "$end")"
  else
    peers_skip "$label" "PyGithub script" "$peers_missing"
  fi
}

# peers_items LABEL SET: issues and pull requests of the chosen repositories ($pw/SET_repos, SET
# items or items1), each tool.
peers_items() {
  local label=$1 repos=$pw/$2_repos tag truth
  tag=$(echo "$label" | tr -c 'a-z0-9\n' '-')
  truth=$(cat "$pw/$2_truth")
  peers_measure "octo-$tag" peers_octoshard "$pw/octo-$tag.sqlite" --source "repos:$repos" \
    --collect issues,pulls
  peers_row "$label" "octoshard run --collect issues,pulls" "octo-$tag" items "$truth" \
    "$(python3 "$peers_lib/rows.py" items octoshard "$repos" "$pw/octo-$tag.sqlite")"
  if [ -n "$peers_missing" ]; then
    peers_skip "$label" "github-to-sqlite issues + pull-requests" "$peers_missing"
    peers_skip "$label" "Perceval issue + pull_request" "$peers_missing"
    return 0
  fi
  peers_measure "g2s-$tag" peers_g2s_items "$pw/g2s-$tag.sqlite" "$repos"
  peers_row "$label" "github-to-sqlite issues + pull-requests" "g2s-$tag" items "$truth" \
    "$(python3 "$peers_lib/rows.py" items g2s "$repos" "$pw/g2s-$tag.sqlite")"
  peers_measure "perceval-$tag" peers_perceval "$pw/perceval-$tag.jsonl" "$repos"
  peers_row "$label" "Perceval issue + pull_request" "perceval-$tag" items "$truth" \
    "$(python3 "$peers_lib/rows.py" items perceval "$repos" "$pw/perceval-$tag.jsonl")"
}

# peers_section BIN FAKEHUB WORK_DIR: the whole section.
peers_section() {
  bin=$1
  local fakehub=$2 started end fault_end owner owner_count owner_kind
  pw=$3
  mkdir -p "$pw"
  started=$(date +%s)
  : >"$pw/results.tsv"
  # Without the peers (no PyPI, say) octoshard's rows are still measured and the peers' say why not.
  peers_missing=
  peers_venv || peers_missing="installing $peers_pins failed (see above)"
  local hub=(--repos "$peers_universe" --seed "$peers_seed" --latency-ms 20 --tokens bench-token
    --core-limit 1000000 --graphql-limit 1000000)
  start_fakehub "$fakehub" "$pw" "${hub[@]}"
  curl -sf "$GITHUB_API_URL/_fakehub/truth?deep=1" >"$pw/truth.json"
  python3 "$peers_lib/rows.py" pick "$pw/truth.json" "$pw" "$peers_items_cap"
  end=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["max_id"] + 1)' "$pw/truth.json")
  local live
  live=$(wc -l <"$pw/live_ids")
  fault_end=$(sed -n "${peers_fault_repos}p" "$pw/live_ids")
  fault_end=$((${fault_end:-$end} + 1))

  # 1. Metadata of all repositories.
  peers_metadata "metadata" "$end" "$live"

  # 2. An owner's repositories.
  read -r owner owner_count <"$pw/owner"
  owner_kind=$(curl -sf -H 'Authorization: token bench-token' "$GITHUB_API_URL/users/$owner" |
    python3 -c 'import json, sys; print("org" if json.load(sys.stdin)["type"] == "Organization" else "user")')
  peers_measure octo-owner peers_octoshard "$pw/octo-owner.sqlite" --source "$owner_kind:$owner"
  peers_row "owner's repositories ($owner)" "octoshard run --source $owner_kind:" octo-owner repos "$owner_count" \
    "$(python3 "$peers_lib/rows.py" repos octoshard "$pw/octo-owner.sqlite" "$pw/live_ids")"
  if [ -z "$peers_missing" ]; then
    peers_measure g2s-owner peers_redirected "$peers_bin/github-to-sqlite" repos "$pw/g2s-owner.sqlite" "$owner" \
      --auth /nonexistent
    peers_row "owner's repositories ($owner)" "github-to-sqlite repos" g2s-owner repos "$owner_count" \
      "$(python3 "$peers_lib/rows.py" repos g2s "$pw/g2s-owner.sqlite" "$pw/live_ids")"
  else
    peers_skip "owner's repositories ($owner)" "github-to-sqlite repos" "$peers_missing"
  fi

  # 3. Issues and pull requests of the 3 repositories with the most.
  peers_items "issues + pull requests" items
  stop_fakehub

  # 4. The same under faults (a fresh fakehub each time: same universe, faults on).
  local fault_live
  fault_live=$(head -n "$peers_fault_repos" "$pw/live_ids" | wc -l)
  start_fakehub "$fakehub" "$pw" "${hub[@]}" --fault-5xx 0.05
  peers_metadata "metadata, 5% 5xx" "$fault_end" "$fault_live"
  peers_items "issues + pull requests, 5% 5xx" items1
  stop_fakehub
  start_fakehub "$fakehub" "$pw" "${hub[@]}" --fault-secondary 0.05
  peers_metadata "metadata, 5% secondary limits" "$fault_end" "$fault_live"
  peers_items "issues + pull requests, 5% secondary limits" items1
  stop_fakehub

  python3 "$peers_lib/table.py" "$pw/results.tsv" "$peers_pins" "$peers_universe" "$(cat "$pw/items_repos")" \
    "$(cat "$pw/items1_repos")" "$peers_fault_repos" "$(($(date +%s) - started))"
}
