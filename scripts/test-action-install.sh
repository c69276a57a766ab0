#!/usr/bin/env bash
# Tests action.yml's install path against a fake release served on 127.0.0.1: the scripts the
# action's "Install a release" and "Build from source" steps run, with the environment those steps
# give them. Checks that
#   - the asset for this machine's architecture is installed (the other architecture's asset is a
#     decoy that would print something else), and the installed binary runs;
#   - a checksum that does not match, or a checksum file without one, fails the step (exit 1) and
#     installs nothing;
#   - a release without an asset for this machine is a notice and exit 0 (not installed), after
#     which the source build gives a binary that runs.
# Run by .ci/run. Needs curl and python3; the source build is a release build of this checkout
# (minutes on a cold target directory; CARGO_TARGET_DIR defaults to target/).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "test-action-install: FAILED: $*" >&2
  exit 1
}

# The steps must run these scripts, or this test tests something else.
grep -qF 'run: bash "$ACTION_PATH/scripts/action/install-release.sh"' action.yml \
  || fail "action.yml's install step does not run scripts/action/install-release.sh"
grep -qF 'run: bash "$ACTION_PATH/scripts/action/build-from-source.sh"' action.yml \
  || fail "action.yml's source build step does not run scripts/action/build-from-source.sh"

case "$(uname -m)" in
  x86_64 | amd64) here=x86_64-unknown-linux-musl other=aarch64-unknown-linux-musl ;;
  aarch64 | arm64) here=aarch64-unknown-linux-musl other=x86_64-unknown-linux-musl ;;
  *) fail "no release target for $(uname -m)" ;;
esac

echo "== building the binary the fake release serves"
cargo build --quiet --locked --bin octoshard
binary="${CARGO_TARGET_DIR:-target}/debug/octoshard"
want_version=$("$binary" --version)

# The fake release: GitHub's download layout under /OWNER/NAME/releases/download/vVERSION/.
releases="$work/srv/octo/octoshard/releases/download"
decoy="$work/decoy/octoshard"
mkdir -p "$(dirname "$decoy")"
printf '#!/bin/sh\necho "decoy: the asset of another architecture"\n' >"$decoy"
chmod +x "$decoy"
publish() { # VERSION: both architectures, each with its checksum
  local dir="$releases/v$1"
  scripts/release-pack.sh "$binary" "$1" "$here" "$dir" >/dev/null
  scripts/release-pack.sh "$decoy" "$1" "$other" "$dir" >/dev/null
}
publish 9.9.1                                   # good
publish 9.9.2                                   # checksum of something else
echo "0000000000000000000000000000000000000000000000000000000000000000  octoshard-9.9.2-$here.tar.gz" \
  >"$releases/v9.9.2/octoshard-9.9.2-$here.tar.gz.sha256"
publish 9.9.3                                   # checksum file without a checksum
echo "not a checksum" >"$releases/v9.9.3/octoshard-9.9.3-$here.tar.gz.sha256"
mkdir -p "$releases/v9.9.4"                      # only the other architecture's asset
scripts/release-pack.sh "$decoy" 9.9.4 "$other" "$releases/v9.9.4" >/dev/null

python3 - "$work/srv" "$work/port" <<'EOF' &
import functools, http.server, os, sys
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=sys.argv[1]))
with open(sys.argv[2] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
server.serve_forever()
EOF
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "the fake release server did not start"
server="http://127.0.0.1:$(cat "$work/port")"

# Runs the install step's script for VERSION; sets $status, $output, $root, $outputs.
install_release() {
  root="$work/root-$1"
  outputs="$work/outputs-$1"
  : >"$outputs"
  set +e
  output=$(env VERSION="$1" ROOT="$root" ACTION_PATH="$repo" ACTION_REPOSITORY=octo/octoshard \
    GITHUB_SERVER_URL="$server" GITHUB_OUTPUT="$outputs" bash scripts/action/install-release.sh 2>&1)
  status=$?
  set -e
}

echo "== a release with an asset for $here"
install_release v9.9.1
[ "$status" -eq 0 ] || fail "install of v9.9.1 exited $status: $output"
grep -qx "installed=true" "$outputs" || fail "v9.9.1 was not reported installed: $output"
got=$("$root/bin/octoshard" --version) || fail "the installed binary does not run"
[ "$got" = "$want_version" ] || fail "installed '$got', not the $here asset ('$want_version')"
echo "   ok: $got"

# A checksum that does not match, and a checksum file without one: refused, nothing installed.
for refusal in "9.9.2:does not match its published SHA-256" "9.9.3:holds no SHA-256"; do
  version=${refusal%%:*} message=${refusal#*:}
  echo "== v$version: $message"
  install_release "$version"
  [ "$status" -eq 1 ] || fail "v$version exited $status, not 1: $output"
  grep -q "$message" <<<"$output" || fail "v$version: no '$message' message: $output"
  [ ! -e "$root/bin/octoshard" ] || fail "v$version: a binary was installed"
  ! grep -q installed "$outputs" || fail "v$version: reported installed"
  echo "   ok: refused"
done

echo "== no asset for $here: the source build instead"
install_release 9.9.4
[ "$status" -eq 0 ] || fail "a missing asset exited $status, not 0: $output"
grep -q "no release asset octoshard-9.9.4-$here.tar.gz" <<<"$output" || fail "no notice: $output"
! grep -q installed "$outputs" || fail "reported installed without an asset"
env ACTION_PATH="$repo" ROOT="$root" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}" \
  CARGO_TERM_COLOR=never bash scripts/action/build-from-source.sh >"$work/build.log" 2>&1 \
  || { tail -20 "$work/build.log" >&2; fail "the source build failed"; }
got=$("$root/bin/octoshard" --version) || fail "the source-built binary does not run"
[ "$got" = "$want_version" ] || fail "the source build gave '$got', not '$want_version'"
echo "   ok: $got"

echo "test-action-install: all passed"
