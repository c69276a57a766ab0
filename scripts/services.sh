#!/usr/bin/env bash
# The services that the export tests need, installed and started on this machine:
#   - PostgreSQL (Debian's package, installed with apt-get when no pg_ctl exists under
#     /usr/lib/postgresql/*/bin): a throwaway cluster of its own in the state dir, run by the
#     `postgres` system user (the current user when not root), listening only on 127.0.0.1 on a
#     fixed port, scram-sha-256 password login over TCP, role `octoshard` (password
#     `octoshard-test`, test-only) owning the databases `octoshard` and `octoshard_b`. The package's
#     own cluster, if it made one, is never used.
#   - Python: a venv with pinned pyarrow, duckdb, datasette and moto[server] from PyPI (prebuilt
#     wheels only for pyarrow, duckdb and moto's compiled dependencies: nothing that big is
#     compiled here).
#   - S3: moto's server (from that venv) run in the background by the current user, listening only
#     on 127.0.0.1 on a fixed port, its PID in STATE/s3/server.pid and its log in
#     STATE/s3/server.log, with the bucket `octoshard-test`. It accepts any credentials (the tests
#     use the test-only key `octoshard-test`, secret `octoshard-test-secret`, set per command: no
#     AWS_* variable is exported here) and keeps objects in memory: a restart empties it.
# Usage: scripts/services.sh [start|stop|env]   (default start)
#   start  installs what is missing, starts what is not running, reuses the rest (idempotent; a
#          second start takes well under a second), writes STATE/env, prints its export lines
#   stop   stops the PostgreSQL server (installs and data stay) and the S3 server (objects go)
#   env    prints the export lines without starting anything
# The export lines go to stdout, everything else to stderr, so `eval "$(scripts/services.sh)"`
# works. State: ${OCTOSHARD_SERVICES_DIR:-${TMPDIR:-/tmp}/octoshard-services}. Ports:
# ${OCTOSHARD_PG_PORT:-55432}, ${OCTOSHARD_S3_PORT:-55433}. Python for the venv: ${PYTHON:-python3}.
# Change a version below to reinstall it. Exit status: 0 when ready, 1 when a step failed (the
# message names it), 2 on usage.
set -Eeuo pipefail
# A step that fails without its own message still names itself.
trap 'echo "services: FAILED (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

PYARROW_VERSION=26.0.1
DUCKDB_VERSION=2.0.1
DATASETTE_VERSION=0.65.5
MOTO_VERSION=5.2.5

PG_ROLE=octoshard
PG_PASSWORD=octoshard-test # test-only; the cluster listens on loopback only
PG_DATABASES=(octoshard octoshard_b)
PG_PORT=${OCTOSHARD_PG_PORT:-55432}
PG_LIB=/usr/lib/postgresql
S3_PORT=${OCTOSHARD_S3_PORT:-55433}
S3_BUCKET=octoshard-test
S3_KEY_ID=octoshard-test
S3_SECRET=octoshard-test-secret # test-only; the server listens on loopback only
PYTHON=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

log() { echo "services: $*" >&2; }
die() {
  echo "services: FAILED: $*" >&2
  exit 1
}
# The last lines of a log file, indented, on stderr.
show_tail() {
  if [ -f "$1" ]; then tail -n "${2:-15}" "$1" | sed 's/^/    /' >&2; fi
}

command=${1:-start}
case $command in
  start | stop | env) ;;
  -h | --help)
    sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "usage: $0 [start|stop|env]" >&2
    exit 2
    ;;
esac
[ $# -le 1 ] || {
  echo "usage: $0 [start|stop|env]" >&2
  exit 2
}
case $PG_PORT in
  '' | *[!0-9]*) die "OCTOSHARD_PG_PORT must be a port number, not '$PG_PORT'" ;;
esac
case $S3_PORT in
  '' | *[!0-9]*) die "OCTOSHARD_S3_PORT must be a port number, not '$S3_PORT'" ;;
esac
[ "$PG_PORT" != "$S3_PORT" ] || die "OCTOSHARD_PG_PORT and OCTOSHARD_S3_PORT are both $PG_PORT: choose two ports"

started_at=${EPOCHREALTIME//[!0-9]/} # microseconds
elapsed() {
  local us=$((${EPOCHREALTIME//[!0-9]/} - started_at))
  echo "$((us / 1000000)).$((us / 100000 % 10))"
}
state=${OCTOSHARD_SERVICES_DIR:-${TMPDIR:-/tmp}/octoshard-services}
mkdir -p "$state" || die "cannot create the state dir $state"
state=$(cd "$state" && pwd -P)
pg_dir=$state/postgres
pg_data=$pg_dir/data
pg_run=$pg_dir/run # the unix socket lives here
pg_log=$pg_dir/server.log
venv=$state/venv
s3_dir=$state/s3
s3_log=$s3_dir/server.log
s3_pid_file=$s3_dir/server.pid
s3_url=http://127.0.0.1:$S3_PORT

# One start or stop at a time per state dir (two test runs starting together must not both initdb).
# Every program this script starts that may outlive it (the server, apt's service starts) gets
# fd 9 closed (9>&-), or it would hold the lock forever.
exec 9>"$state/lock"
if [ "$command" != env ] && ! flock -n 9; then
  log "waiting for another services.sh using $state (up to 10 min)"
  flock -w 600 9 || die "another services.sh still holds $state/lock after 10 min"
fi

# --- PostgreSQL --------------------------------------------------------------------------------
# The newest PostgreSQL whose server binaries are installed, or nothing.
find_pg_bin() {
  local dir found=()
  for dir in "$PG_LIB"/*/bin; do
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then found+=("$dir"); fi
  done
  [ ${#found[@]} -eq 0 ] || printf '%s\n' "${found[@]}" | sort -V | tail -n 1
}

install_postgresql() {
  [ "$(id -u)" = 0 ] ||
    die "PostgreSQL is not installed (no pg_ctl under $PG_LIB/*/bin) and installing it needs root: apt-get install --no-install-recommends postgresql"
  command -v apt-get >/dev/null || die "PostgreSQL is not installed and there is no apt-get to install it"
  local apt_log=$state/apt.log
  local apt=(apt-get -q -y -o DPkg::Lock::Timeout=600)
  log "installing Debian's postgresql package (apt-get update, then install without recommends; waits for apt, a minute or two; log: $apt_log)"
  export DEBIAN_FRONTEND=noninteractive
  if ! "${apt[@]}" update >"$apt_log" 2>&1 9>&-; then
    show_tail "$apt_log"
    die "apt-get update failed (log: $apt_log)"
  fi
  # The package may create and start its own cluster (main, port 5432); this script never uses it.
  if ! "${apt[@]}" install --no-install-recommends postgresql >>"$apt_log" 2>&1 9>&-; then
    show_tail "$apt_log"
    die "apt-get install postgresql failed (log: $apt_log)"
  fi
}

# The OS user that owns and runs the cluster: root cannot run the server, so as root it is the
# package's `postgres` user; otherwise the current user.
if [ "$(id -u)" = 0 ]; then
  pg_os_user=postgres
  as_pg() { (cd / && runuser -u "$pg_os_user" -- "$@" 9>&-); }
else
  pg_os_user=$(id -un)
  as_pg() { (cd / && "$@" 9>&-); }
fi

pg_bin=$(find_pg_bin)
if [ -z "$pg_bin" ]; then
  if [ "$command" = stop ]; then
    log "PostgreSQL is not installed: no PostgreSQL to stop"
  elif [ "$command" = env ]; then
    die "PostgreSQL is not installed (no pg_ctl under $PG_LIB/*/bin); run: $0 start"
  else
    install_postgresql
    pg_bin=$(find_pg_bin)
    [ -n "$pg_bin" ] || die "apt-get installed postgresql but there is still no pg_ctl under $PG_LIB/*/bin"
  fi
fi
pg_major=
[ -z "$pg_bin" ] || pg_major=$(basename "$(dirname "$pg_bin")")

# A postmaster.pid left by a server that is gone (the machine restarted, the process was killed)
# whose PID now belongs to another process would make pg_ctl think the server runs, or postgres
# refuse to start: keep the file only while its PID is a postgres on this data dir.
clear_stale_pid() {
  local pid_file=$pg_data/postmaster.pid pid
  [ -f "$pid_file" ] || return 0
  pid=$(head -n 1 "$pid_file" 2>/dev/null || true)
  if [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- " -D $pg_data"; then
    return 0
  fi
  log "removing the stale $pid_file (PID ${pid:-?} is not a server on this data dir)"
  rm -f "$pid_file" "$pg_run"/.s.PGSQL.*.lock
}

# Whether our server is up: pg_ctl sees its postmaster running on our data dir, on our port.
pg_running() {
  [ -f "$pg_data/postmaster.pid" ] &&
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1 &&
    [ "$(sed -n 4p "$pg_data/postmaster.pid" 2>/dev/null)" = "$PG_PORT" ]
}
pg_ready() { "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -t 2 >/dev/null 2>&1; }
pg_stop() {
  if as_pg "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
    log "stopping PostgreSQL ($pg_data)"
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" stop -m fast -w -t 60 >/dev/null ||
      die "pg_ctl stop did not stop the server in $pg_data within 60 s"
  fi
}

# Something (not our server) answering on this port of 127.0.0.1?
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pg_start() {
  # The state dir may be somewhere the server's user cannot reach (a private $TMPDIR, say).
  mkdir -p "$pg_dir"
  if [ "$(id -u)" = 0 ]; then
    id "$pg_os_user" >/dev/null 2>&1 || die "no '$pg_os_user' system user (the postgresql package creates it)"
    chown "$pg_os_user:" "$pg_dir"
  fi
  as_pg test -w "$pg_dir" ||
    die "user $pg_os_user cannot write $pg_dir: choose a state dir it can reach (OCTOSHARD_SERVICES_DIR, e.g. under /tmp)"
  local socket=$pg_run/.s.PGSQL.$PG_PORT
  [ ${#socket} -le 107 ] || die "the socket path $socket is too long for a unix socket: use a shorter OCTOSHARD_SERVICES_DIR"

  # A data dir from another major version, or a half-made one, is test data: start over.
  if [ -d "$pg_data" ] && [ "$(cat "$pg_data/PG_VERSION" 2>/dev/null)" != "$pg_major" ]; then
    log "discarding $pg_data (made by PostgreSQL $(cat "$pg_data/PG_VERSION" 2>/dev/null || echo '?'), not $pg_major, or unfinished)"
    as_pg "$pg_bin/pg_ctl" -D "$pg_data" stop -m immediate >/dev/null 2>&1 || true
    rm -rf "$pg_data"
  fi
  if [ ! -d "$pg_data" ]; then
    log "creating a PostgreSQL $pg_major cluster in $pg_data (owner $pg_os_user)"
    if ! as_pg "$pg_bin/initdb" -D "$pg_data" --encoding=UTF8 --locale=C \
      --auth-local=peer --auth-host=scram-sha-256 >"$pg_dir/initdb.log" 2>&1; then
      show_tail "$pg_dir/initdb.log"
      rm -rf "$pg_data"
      die "initdb failed (log: $pg_dir/initdb.log)"
    fi
    # Our settings live in octoshard.conf, rewritten at each start; a change restarts the server.
    echo "include_if_exists = 'octoshard.conf'" | as_pg tee -a "$pg_data/postgresql.conf" >/dev/null
    # Only loopback TCP with a password; the socket (in the state dir) for the cluster's owner.
    as_pg tee "$pg_data/pg_hba.conf" >/dev/null <<'EOF'
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 peer
host    all       all   127.0.0.1/32  scram-sha-256
EOF
  fi
  as_pg mkdir -p "$pg_run"
  clear_stale_pid

  local conf
  conf=$(
    cat <<EOF
# Written by scripts/services.sh at each start: edits here are lost.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '${pg_run//\'/\'\'}'
password_encryption = 'scram-sha-256'
# A disposable test cluster: durability is not needed, speed on a shared machine is.
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
  )
  if [ "$(cat "$pg_data/octoshard.conf" 2>/dev/null)" != "$conf" ]; then
    printf '%s\n' "$conf" | as_pg tee "$pg_data/octoshard.conf" >/dev/null
    if as_pg "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
      log "the server's settings changed: restarting it"
      pg_stop
    fi
  fi

  if pg_running && pg_ready; then
    log "PostgreSQL $pg_major already running on 127.0.0.1:$PG_PORT ($pg_data)"
  else
    # Running but not on our port or not answering: stop it, then start afresh.
    pg_stop
    if port_taken "$PG_PORT"; then
      die "127.0.0.1:$PG_PORT is already taken by another program: set OCTOSHARD_PG_PORT to a free port"
    fi
    log "starting PostgreSQL $pg_major on 127.0.0.1:$PG_PORT (waits up to 30 s for it to accept connections; log: $pg_log)"
    if ! as_pg "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_log" start -w -t 30 >/dev/null 2>&1; then
      show_tail "$pg_log"
      die "PostgreSQL did not start within 30 s (log: $pg_log)"
    fi
    local deadline=$((SECONDS + 30))
    until pg_ready; do
      [ $SECONDS -lt $deadline ] || {
        show_tail "$pg_log"
        die "pg_isready: PostgreSQL on 127.0.0.1:$PG_PORT still not accepting connections after 30 s (log: $pg_log)"
      }
      sleep 0.2
    done
  fi

  # Role and databases, made or repaired every time (a few milliseconds).
  local sql
  sql=$(
    cat <<EOF
SELECT format('CREATE ROLE %I', '$PG_ROLE') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_ROLE') \\gexec
ALTER ROLE $PG_ROLE WITH LOGIN CREATEDB NOSUPERUSER PASSWORD '$PG_PASSWORD';
EOF
  )
  local db
  for db in "${PG_DATABASES[@]}"; do
    sql+=$'\n'"SELECT format('CREATE DATABASE %I OWNER %I', '$db', '$PG_ROLE') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db') \\gexec"
    sql+=$'\n'"ALTER DATABASE $db OWNER TO $PG_ROLE;"
  done
  if ! printf '%s\n' "$sql" | as_pg "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg_run" -p "$PG_PORT" -d postgres >/dev/null 2>"$pg_dir/setup.log"; then
    show_tail "$pg_dir/setup.log"
    die "could not create role $PG_ROLE and databases ${PG_DATABASES[*]} (log: $pg_dir/setup.log)"
  fi
  # The way the tests connect: TCP, password.
  for db in "${PG_DATABASES[@]}"; do
    PGPASSWORD=$PG_PASSWORD PGCONNECT_TIMEOUT=5 "$pg_bin/psql" -X -q -At -h 127.0.0.1 -p "$PG_PORT" \
      -U "$PG_ROLE" -d "$db" -c 'SELECT 1' >/dev/null 2>"$pg_dir/setup.log" || {
      show_tail "$pg_dir/setup.log"
      die "cannot log in as $PG_ROLE to $db over TCP on 127.0.0.1:$PG_PORT with the password"
    }
  done
}

# --- Python venv -------------------------------------------------------------------------------
py_requirements=("pyarrow==$PYARROW_VERSION" "duckdb==$DUCKDB_VERSION" "datasette==$DATASETTE_VERSION"
  "moto[server]==$MOTO_VERSION")
# Set when this run installed into the venv: a moto server started from the old one is restarted.
venv_changed=

# What the venv holds, in the same form as py_requirements (empty when the venv is unusable).
venv_has() {
  [ -x "$venv/bin/python" ] && [ -x "$venv/bin/datasette" ] || return 0
  "$venv/bin/python" - "${py_requirements[@]}" <<'EOF' 2>/dev/null || true
import sys
from importlib.metadata import version, PackageNotFoundError
from importlib.util import find_spec
out = []
for req in sys.argv[1:]:
    name = req.split("==")[0]
    # moto without its server extra has no Flask to serve with.
    if name.endswith("[server]") and find_spec("flask") is None:
        continue
    try:
        out.append(f"{name}=={version(name.split('[')[0])}")
    except PackageNotFoundError:
        pass
print(" ".join(out))
EOF
}

python_start() {
  local want=${py_requirements[*]}
  [ "$(venv_has)" = "$want" ] && return 0
  local pip_log=$state/pip.log
  if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    command -v "$PYTHON" >/dev/null || die "no $PYTHON to make the venv with (set PYTHON to a Python 3.11+)"
    log "creating a Python venv in $venv with $("$PYTHON" --version 2>&1)"
    rm -rf "$venv"
    if ! "$PYTHON" -m venv "$venv" >"$pip_log" 2>&1; then
      # Debian's own python3 makes venvs only with its python3-venv package.
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null &&
        [ "$(readlink -f "$(command -v "$PYTHON")")" = "$(readlink -f /usr/bin/python3)" ]; then
        log "installing Debian's python3-venv (waits for apt)"
        local apt=(apt-get -q -y -o DPkg::Lock::Timeout=600)
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" update >>"$pip_log" 2>&1 9>&- || true
        DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends python3-venv >>"$pip_log" 2>&1 9>&- || true
        rm -rf "$venv"
        "$PYTHON" -m venv "$venv" >>"$pip_log" 2>&1 || true
      fi
      [ -x "$venv/bin/python" ] || {
        show_tail "$pip_log"
        die "$PYTHON -m venv $venv failed (log: $pip_log)"
      }
    fi
  fi
  log "installing $want into $venv (waits for pip: about 130 MB of wheels, a minute or two; log: $pip_log)"
  venv_changed=1
  # Prebuilt wheels only for pyarrow and duckdb (building either from source would take hours
  # here) and for moto's compiled dependencies (they would need a C or Rust toolchain).
  if ! "$venv/bin/python" -m pip install --prefer-binary \
    --only-binary pyarrow,duckdb,cryptography,cffi,pydantic-core,rpds-py \
    "${py_requirements[@]}" >>"$pip_log" 2>&1; then
    show_tail "$pip_log"
    die "pip could not install $want (log: $pip_log)"
  fi
  [ "$(venv_has)" = "$want" ] || die "after pip install, $venv holds '$(venv_has)', not '$want'"
  "$venv/bin/python" -c 'import pyarrow, duckdb' >>"$pip_log" 2>&1 || die "pyarrow or duckdb does not import in $venv (log: $pip_log)"
  "$venv/bin/datasette" --version >>"$pip_log" 2>&1 || die "datasette --version fails in $venv (log: $pip_log)"
  "$venv/bin/python" -c 'import moto.server, flask' >>"$pip_log" 2>&1 || die "moto.server or flask does not import in $venv (log: $pip_log)"
}

# --- S3 (moto) ---------------------------------------------------------------------------------
# The PID in the pid file when it is a moto server from our venv on our port (else nothing).
s3_pid() {
  local pid
  pid=$(cat "$s3_pid_file" 2>/dev/null || true)
  case $pid in '' | *[!0-9]*) return 0 ;; esac
  [ -r "/proc/$pid/cmdline" ] &&
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
    grep -qF -- "$venv/bin/python -m moto.server -H 127.0.0.1 -p $S3_PORT " &&
    echo "$pid"
  return 0
}

# Whether an S3 server answers on our port: GET / gives the bucket list. Never through a proxy.
s3_ready() {
  "$venv/bin/python" - "$s3_url/" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with opener.open(sys.argv[1], timeout=2) as response:
    sys.exit(0 if b"<ListAllMyBucketsResult" in response.read() else 1)
EOF
}

s3_stop() {
  local pid
  pid=$(s3_pid)
  if [ -z "$pid" ]; then
    rm -f "$s3_pid_file"
    return 0
  fi
  log "stopping the S3 server (moto, PID $pid, 127.0.0.1:$S3_PORT)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while kill -0 "$pid" 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then
      log "the S3 server (PID $pid) did not stop within 10 s of SIGTERM: sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.1
  done
  ! kill -0 "$pid" 2>/dev/null || die "the S3 server (PID $pid) is still running after SIGKILL"
  rm -f "$s3_pid_file"
}

# Creates the bucket unless it exists (moto takes unsigned requests; an existing bucket is fine),
# then checks the bucket list holds it.
s3_bucket() {
  "$venv/bin/python" - "$s3_url" "$S3_BUCKET" <<'EOF' 2>"$s3_dir/setup.log"
import sys, urllib.error, urllib.request
url, bucket = sys.argv[1], sys.argv[2]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def names():
    with opener.open(url + "/", timeout=10) as response:
        return response.read().decode()
if f"<Name>{bucket}</Name>" not in names():
    try:
        opener.open(urllib.request.Request(f"{url}/{bucket}", method="PUT", data=b""), timeout=10).close()
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")
        if error.code != 409 or "BucketAlreadyOwnedByYou" not in body:
            sys.exit(f"PUT /{bucket}: HTTP {error.code}: {body}")
    if f"<Name>{bucket}</Name>" not in names():
        sys.exit(f"the bucket list has no {bucket} after PUT /{bucket}")
EOF
}

s3_start() {
  mkdir -p "$s3_dir"
  local pid
  pid=$(s3_pid)
  # A server started before this run reinstalled moto runs the old code: replace it.
  if [ -n "$pid" ] && [ -n "$venv_changed" ]; then
    log "the venv changed: restarting the S3 server"
    s3_stop
    pid=
  fi
  if [ -n "$pid" ] && s3_ready; then
    log "S3 (moto $MOTO_VERSION) already running on 127.0.0.1:$S3_PORT (PID $pid)"
  else
    # Running but not answering: stop it, then start afresh.
    s3_stop
    if port_taken "$S3_PORT"; then
      die "127.0.0.1:$S3_PORT is already taken by another program: set OCTOSHARD_S3_PORT to a free port"
    fi
    log "starting S3 (moto $MOTO_VERSION) on 127.0.0.1:$S3_PORT (waits up to 30 s for it to answer; log: $s3_log)"
    # Its own session, so that it outlives this script and the terminal like PostgreSQL does;
    # setsid execs the server, so $! is the server's PID.
    (cd / && exec setsid "$venv/bin/python" -m moto.server -H 127.0.0.1 -p "$S3_PORT" \
      </dev/null >>"$s3_log" 2>&1 9>&-) &
    pid=$!
    echo "$pid" >"$s3_pid_file"
    local deadline=$((SECONDS + 30))
    until s3_ready; do
      if ! kill -0 "$pid" 2>/dev/null; then
        rm -f "$s3_pid_file"
        show_tail "$s3_log"
        die "the S3 server exited at start (log: $s3_log)"
      fi
      [ $SECONDS -lt $deadline ] || {
        show_tail "$s3_log"
        s3_stop
        die "S3 on 127.0.0.1:$S3_PORT still not answering GET / after 30 s (log: $s3_log)"
      }
      sleep 0.2
    done
    [ -n "$(s3_pid)" ] || die "the S3 server answers but PID $pid in $s3_pid_file is not it"
  fi
  if ! s3_bucket; then
    show_tail "$s3_dir/setup.log"
    die "could not create the bucket $S3_BUCKET on 127.0.0.1:$S3_PORT (log: $s3_dir/setup.log)"
  fi
}

# --- the variables the tests read ----------------------------------------------------------------
env_lines() {
  local url=postgres://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$PG_PORT
  printf 'export %s=%q\n' \
    OCTOSHARD_TEST_POSTGRES "$url/${PG_DATABASES[0]}" \
    OCTOSHARD_TEST_POSTGRES_B "$url/${PG_DATABASES[1]}" \
    OCTOSHARD_TEST_PYTHON "$venv/bin/python" \
    OCTOSHARD_TEST_DATASETTE "$venv/bin/datasette" \
    OCTOSHARD_TEST_PSQL "$pg_bin/psql" \
    OCTOSHARD_TEST_S3_ENDPOINT "$s3_url" \
    OCTOSHARD_TEST_S3_BUCKET "$S3_BUCKET" \
    OCTOSHARD_TEST_S3_KEY_ID "$S3_KEY_ID" \
    OCTOSHARD_TEST_S3_SECRET "$S3_SECRET"
}

case $command in
  start)
    pg_start
    python_start
    s3_start
    env_lines >"$state/env.tmp"
    mv "$state/env.tmp" "$state/env"
    log "ready in $(elapsed) s: PostgreSQL $pg_major on 127.0.0.1:$PG_PORT, S3 on 127.0.0.1:$S3_PORT (bucket $S3_BUCKET), ${py_requirements[*]} (env: $state/env)"
    env_lines
    ;;
  stop)
    if [ -n "$pg_bin" ]; then
      clear_stale_pid
      if as_pg "$pg_bin/pg_ctl" -D "$pg_data" status >/dev/null 2>&1; then
        pg_stop
        log "stopped PostgreSQL"
      else
        log "PostgreSQL is not running ($pg_data)"
      fi
    fi
    if [ -n "$(s3_pid)" ]; then
      s3_stop
      log "stopped S3"
    else
      rm -f "$s3_pid_file"
      log "S3 is not running ($s3_dir)"
    fi
    ;;
  env)
    pg_running || log "note: PostgreSQL is not running on 127.0.0.1:$PG_PORT; run: $0 start"
    { [ -n "$(s3_pid)" ] && s3_ready; } || log "note: S3 is not running on 127.0.0.1:$S3_PORT; run: $0 start"
    env_lines
    ;;
esac
