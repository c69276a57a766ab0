# shellcheck shell=bash
# The simulated GitHub for the scripts (sourced, not run). Every script that starts fakehub uses
# these, so they all wait for it the same way and never `kill 0` their own process group.

# start_fakehub BIN DIR ARGS...: starts fakehub BIN with ARGS in the background (URL in DIR/hub.url,
# log in DIR/hub.log), waits until it serves, exports GITHUB_API_URL and sets hub_pid. Exits with
# fakehub's log on stderr if it does not start.
start_fakehub() {
  local bin=$1 dir=$2
  shift 2
  # A previous fakehub's hub.url must go first: the redirection below truncates it only once the
  # child runs, and the wait loop could read the old URL (or an empty line) before that.
  rm -f "$dir/hub.url"
  "$bin" "$@" >"$dir/hub.url" 2>"$dir/hub.log" &
  hub_pid=$!
  for _ in $(seq 600); do
    [ -s "$dir/hub.url" ] && break
    kill -0 "$hub_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -s "$dir/hub.url" ]; then
    echo "fakehub did not start:" >&2
    cat "$dir/hub.log" >&2
    exit 1
  fi
  GITHUB_API_URL=$(head -n 1 "$dir/hub.url")
  export GITHUB_API_URL
}

# stop_fakehub: stops what start_fakehub started, if anything (safe in EXIT traps).
stop_fakehub() {
  if [ -n "${hub_pid:-}" ]; then
    kill "$hub_pid" 2>/dev/null || true
    hub_pid=
  fi
}

# truth_end FILE: one past the highest id of a ground-truth file written with --truth.
truth_end() {
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["max_id"] + 1)' "$1"
}
