#!/usr/bin/env bash
# The action's "Install a release" step (action.yml runs this file; scripts/test-action-install.sh
# runs it against a fake release). Installs the prebuilt octoshard of release v$VERSION for this
# machine into $ROOT/bin, checked against its published SHA-256, and writes `installed=true` to
# $GITHUB_OUTPUT. No asset for this machine (or no known repository): a notice, exit 0, and the
# action builds from source. A checksum that does not match, or an asset without the binary:
# an error, exit 1 (never a fallback: a tampered download must stop the job).
#
# Environment: VERSION (1.2.3 or v1.2.3), ROOT, ACTION_REPOSITORY (owner/name; the action's own),
# GITHUB_SERVER_URL (https://github.com by default), GITHUB_OUTPUT.
set -euo pipefail
version="${VERSION#v}"
if ! [[ "$version" =~ ^[0-9A-Za-z][0-9A-Za-z.+-]*$ ]]; then
  echo "::error title=octoshard::input version must look like 1.2.3"
  exit 2
fi
case "$(uname -m)" in
  x86_64 | amd64) target=x86_64-unknown-linux-musl ;;
  aarch64 | arm64) target=aarch64-unknown-linux-musl ;;
  *)
    echo "::notice title=octoshard::no release is built for $(uname -m): building from source"
    exit 0
    ;;
esac
repository="${ACTION_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}"
if [ -z "$repository" ]; then
  echo "::notice title=octoshard::the action's repository is unknown (a local action?): building from source"
  exit 0
fi
asset="octoshard-$version-$target.tar.gz"
base="${GITHUB_SERVER_URL:-https://github.com}/$repository/releases/download/v$version"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
for file in "$asset" "$asset.sha256"; do
  if ! curl --fail --silent --show-error --location --retry 3 --output "$file" "$base/$file"; then
    echo "::notice title=octoshard::no release asset $file for v$version: building from source"
    exit 0
  fi
done
# The checksum file holds `<sha256>  <name>`, or the bare hash.
read -r expected _ <"$asset.sha256" || true
if ! [[ "$expected" =~ ^[0-9a-fA-F]{64}$ ]]; then
  echo "::error title=octoshard::$asset.sha256 holds no SHA-256"
  exit 1
fi
if ! echo "$expected  $asset" | sha256sum --check --strict --quiet; then
  echo "::error title=octoshard::$asset does not match its published SHA-256"
  exit 1
fi
mkdir unpacked
tar -xzf "$asset" -C unpacked
binary="$(find unpacked -type f -name octoshard -print -quit)"
if [ -z "$binary" ]; then
  echo "::error title=octoshard::$asset holds no octoshard binary"
  exit 1
fi
mkdir -p "$ROOT/bin"
install -m 0755 "$binary" "$ROOT/bin/octoshard"
"$ROOT/bin/octoshard" --version
echo "installed=true" >>"$GITHUB_OUTPUT"
