#!/usr/bin/env bash
# Packs a built octoshard binary as the release assets action.yml installs:
#   OUTDIR/octoshard-VERSION-TARGET.tar.gz          (octoshard-VERSION-TARGET/{octoshard,README.md})
#   OUTDIR/octoshard-VERSION-TARGET.tar.gz.sha256   (`<sha256>  <asset name>`, sha256sum's format)
# The archive is reproducible: sorted names, owner 0, the commit's time as every mtime, gzip
# without a name or time stamp.
#   scripts/release-pack.sh BINARY VERSION TARGET OUTDIR
set -euo pipefail
if [ $# -ne 4 ]; then
  echo "usage: scripts/release-pack.sh BINARY VERSION TARGET OUTDIR" >&2
  exit 2
fi
binary=$1 version=$2 target=$3 outdir=$4
root="$(cd "$(dirname "$0")/.." && pwd)"
[ -x "$binary" ] || { echo "release-pack: $binary is not an executable file" >&2; exit 2; }
name="octoshard-$version-$target"
epoch="${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}"
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name" "$outdir"
install -m 0755 "$binary" "$stage/$name/octoshard"
install -m 0644 "$root/README.md" "$stage/$name/README.md"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$stage" -cf - "$name" \
  | gzip -n -9 >"$outdir/$name.tar.gz"
(cd "$outdir" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
echo "$outdir/$name.tar.gz"
