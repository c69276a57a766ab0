#!/usr/bin/env bash
# Builds the static release binary for TARGET (x86_64-unknown-linux-musl or
# aarch64-unknown-linux-musl) and packs its assets into OUTDIR (scripts/release-pack.sh). The
# release workflow runs exactly this; so can anyone, to rebuild a release from its tag. Needs the
# Rust target (`rustup target add TARGET`) and musl-gcc (Debian/Ubuntu: musl-tools) for the C
# parts (SQLite, ring), built natively on a machine of TARGET's architecture.
# With RELEASE_TAG set (the workflow passes the pushed tag), it must be v<the crate's version>.
#   scripts/release-build.sh TARGET [OUTDIR]      # OUTDIR: dist
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/release-build.sh TARGET [OUTDIR]}
outdir=${2:-dist}
case "$target" in
  x86_64-unknown-linux-musl | aarch64-unknown-linux-musl) ;;
  *)
    echo "release-build: TARGET must be x86_64-unknown-linux-musl or aarch64-unknown-linux-musl, not $target" >&2
    exit 2
    ;;
esac
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
if [ -n "${RELEASE_TAG:-}" ] && [ "$RELEASE_TAG" != "v$version" ]; then
  echo "release-build: tag $RELEASE_TAG does not name the crate's version $version (Cargo.toml): bump it first" >&2
  exit 2
fi
export OCTOSHARD_BUILD_COMMIT="${OCTOSHARD_BUILD_COMMIT:-$(git rev-parse HEAD)}"
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}"
# musl links statically by default; say so anyway, and leave no path of this machine inside.
export RUSTFLAGS="-C target-feature=+crt-static --remap-path-prefix=$PWD=. --remap-path-prefix=$HOME=~"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --locked --target "$target" --bin octoshard
binary="$CARGO_TARGET_DIR/$target/release/octoshard"
# A release binary must run on any Linux of its architecture: nothing to load at run time.
if readelf -l "$binary" | grep -q "Requesting program interpreter" || readelf -d "$binary" | grep -q "(NEEDED)"; then
  echo "release-build: $binary is dynamically linked" >&2
  readelf -d "$binary" | grep "(NEEDED)" >&2 || true
  exit 1
fi
"$binary" --version
scripts/release-pack.sh "$binary" "$version" "$target" "$outdir"
