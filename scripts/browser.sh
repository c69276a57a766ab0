#!/usr/bin/env bash
# The headless browser the HTML report tests open the report in: Debian's `chromium` package (and
# `fonts-dejavu-core`, so text renders without other system fonts), installed with apt-get when
# missing. Idempotent: when both are installed it only checks them (well under a second).
# Usage: scripts/browser.sh [env|path]   (default env)
#   env   installs what is missing, then prints `export OCTOSHARD_TEST_CHROMIUM=/usr/lib/chromium/chromium`,
#         so `eval "$(scripts/browser.sh)"` works the way scripts/services.sh does
#   path  installs what is missing, then prints only the binary's path
# Only that line goes to stdout; everything else goes to stderr. Needs root (or a chromium already
# installed) and apt's package lists reachable. Exit status: 0 when ready, 1 when a step failed
# (the message names it), 2 on usage.
set -Eeuo pipefail
# A step that fails without its own message still names itself.
trap 'echo "browser: FAILED (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

PACKAGES=(chromium fonts-dejavu-core)
# The browser itself, not the launcher /usr/bin/chromium: the launcher adds flags and Google API
# keys from /etc/chromium.d (remote extension updates, sign-in) that make requests of their own.
BINARY=/usr/lib/chromium/chromium

log() { echo "browser: $*" >&2; }
die() {
  echo "browser: FAILED: $*" >&2
  exit 1
}

command=${1:-env}
case $command in
  env | path) ;;
  -h | --help)
    sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 0
    ;;
  *)
    echo "usage: $0 [env|path]" >&2
    exit 2
    ;;
esac
[ $# -le 1 ] || {
  echo "usage: $0 [env|path]" >&2
  exit 2
}

started_at=${EPOCHREALTIME//[!0-9]/} # microseconds
elapsed() {
  local us=$((${EPOCHREALTIME//[!0-9]/} - started_at))
  echo "$((us / 1000000)).$((us / 100000 % 10))"
}

# The packages of PACKAGES that dpkg does not list as installed.
missing() {
  local package
  for package in "${PACKAGES[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" = "install ok installed" ] ||
      echo "$package"
  done
}

mapfile -t wanted < <(missing)
if [ ${#wanted[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || die "${wanted[*]} not installed, and installing needs root: run as root, or: apt-get install ${wanted[*]}"
  command -v apt-get >/dev/null || die "${wanted[*]} not installed and no apt-get to install them with"
  log_file=${TMPDIR:-/tmp}/octoshard-browser-apt.log
  apt=(apt-get -q -y -o DPkg::Lock::Timeout=600)
  log "installing ${wanted[*]} with apt-get (waits for apt: about 100 MB, a minute or two; log: $log_file)"
  export DEBIAN_FRONTEND=noninteractive
  # Fresh package lists first: an old list names package versions the mirror no longer has.
  if ! "${apt[@]}" update >"$log_file" 2>&1; then
    tail -n 15 "$log_file" | sed 's/^/    /' >&2
    die "apt-get update failed (log: $log_file)"
  fi
  if ! "${apt[@]}" install --no-install-recommends "${wanted[@]}" >>"$log_file" 2>&1; then
    tail -n 15 "$log_file" | sed 's/^/    /' >&2
    die "apt-get install ${wanted[*]} failed (log: $log_file)"
  fi
  mapfile -t still < <(missing)
  [ ${#still[@]} -eq 0 ] || die "after apt-get install, ${still[*]} still not installed (log: $log_file)"
  log "installed ${wanted[*]} in $(elapsed) s"
fi
[ -x "$BINARY" ] || die "the chromium package is installed but $BINARY is not an executable"
log "chromium ready in $(elapsed) s: $BINARY"

case $command in
  env) printf 'export OCTOSHARD_TEST_CHROMIUM=%q\n' "$BINARY" ;;
  path) echo "$BINARY" ;;
esac
