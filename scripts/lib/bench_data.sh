#!/usr/bin/env bash
# The `data` section of scripts/bench.sh: the local data path, as one Markdown table.
#   bash scripts/lib/bench_data.sh OCTOSHARD FAKEHUB WORKDIR
#   1. `octoshard merge` of 64 synthetic shards of 100,000 repositories (1% of the ids shared by
#      neighbours, with different fetched_at) against the floor: the sqlite3 command line doing
#      ATTACH + INSERT OR REPLACE of the same shards into the same schema, with the same
#      no-journal, no-sync, 64 MiB cache settings. Wall time and peak memory; the merge's
#      full-text index (work the floor does not do) timed on its own from `merge -v`'s phases,
#      and the merge again with `--no-search-index`.
#   2. gzip of a crawled 100,000-repository shard: octoshard's own (the crawl's .sqlite.gz output,
#      timed by `crawl` itself) against `gzip -6`.
#   3. JSON to SQLite ingest: a metadata crawl of 10,000 and 100,000 repositories against the
#      simulated GitHub (no latency, no rate limits, no pacing) on the same machine; repositories
#      per second of wall time and per CPU second of octoshard; `sqlite-utils insert` of the same
#      listing JSON (10,000 repositories) as a reference.
#   4. Peak memory of those crawls (and of the merge, from 1.).
# The synthetic shards and the sqlite-utils venv are cached in ${XDG_CACHE_HOME:-~/.cache}/octoshard-bench.
set -euo pipefail
bin=$1 fakehub=$2 work=$3
. scripts/lib/fakehub.sh
trap stop_fakehub EXIT
cache=${XDG_CACHE_HOME:-$HOME/.cache}/octoshard-bench
shards=64 rows=100000
dir=$cache/merge-${shards}x${rows}
results=$work/data-results.txt
: >"$results"
put() { echo "$1=$2" >>"$results"; }
now() { date +%s.%N; }
mkdir -p "$cache"

if ! command -v sqlite3 >/dev/null; then
  apt-get install -y -qq sqlite3 >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
fi

# --- 1. merge against the sqlite3 floor
started=$(now)
python3 scripts/lib/bench_shards.py "$dir" "$shards" "$rows"
put generate_s "$(awk -v a="$started" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }')"
inputs=("$dir"/shard-*.sqlite)
put input_mb "$(du -cm "${inputs[@]}" | tail -n 1 | cut -f 1)"
cp "$dir/empty.sqlite" "$work/floor.sqlite"
{
  echo "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -65536;"
  for f in "${inputs[@]}"; do
    printf "ATTACH '%s' AS src;\nINSERT OR REPLACE INTO repositories SELECT * FROM src.repositories;\nDETACH src;\n" "$f"
  done
} >"$work/floor.sql"
sync
/usr/bin/time -o "$work/time.txt" -f "%e %M" sqlite3 "$work/floor.sqlite" <"$work/floor.sql" >/dev/null
put floor "$(cat "$work/time.txt")"
put floor_rows "$(sqlite3 "$work/floor.sqlite" 'SELECT count(*) FROM repositories')"
rm -f "$work/floor.sqlite"
sync
/usr/bin/time -o "$work/time.txt" -f "%e %M" "$bin" -v merge --out "$work/merged.sqlite" \
  --leftovers "$work/leftovers" "${inputs[@]}" 2>"$work/merge.log" >/dev/null
put merge "$(cat "$work/time.txt")"
put merge_phases "$(grep -o 'merge phases.*' "$work/merge.log" | tail -n 1)"
put merge_mb "$(du -m "$work/merged.sqlite" | cut -f 1)"
# Newest row wins: every shared id holds the newer of its two shards' versions.
put merge_check "$(python3 - "$work/merged.sqlite" "$shards" "$rows" <<'PY'
import sqlite3, sys
db, shards, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
overlap = rows // 100
step = rows - overlap
day = lambda k: f"2026-01-{1 + (k * 37) % 28:02d}T00:00:00.000Z"
c = sqlite3.connect(db)
total = c.execute("SELECT count(*) FROM repositories").fetchone()[0]
wrong = 0
for k in range(shards - 1):
    first, last = (k + 1) * step + 1, k * step + rows
    wrong += c.execute("SELECT count(*) FROM repositories WHERE id BETWEEN ? AND ? AND fetched_at <> ?",
                       (first, last, max(day(k), day(k + 1)))).fetchone()[0]
found = c.execute("SELECT count(*) FROM repositories_fts WHERE repositories_fts MATCH 'thing AND 42'").fetchone()[0]
expected = shards * rows - (shards - 1) * overlap
ok = total == expected and wrong == 0 and found > 0
print(f"{'ok' if ok else 'WRONG'}: {total} rows (expected {expected}), {wrong} shared ids not the newest, "
      f"full-text search finds {found}")
PY
)"
rm -f "$work/merged.sqlite"
# The same merge without the full-text index (`--no-search-index`): the work the floor does.
/usr/bin/time -o "$work/time.txt" -f "%e %M" "$bin" -q merge --no-search-index --out "$work/merged.sqlite" \
  --leftovers "$work/leftovers" "${inputs[@]}" >/dev/null
put merge_plain "$(cat "$work/time.txt")"
rm -f "$work/merged.sqlite"

# --- 2.-4. crawls against the simulated GitHub: ingest speed, peak memory, the shard's gzip
for n in 10000 100000; do
  start_fakehub "$fakehub" "$work" --repos "$n" --seed 59 --latency-ms 0 --tokens bench-token \
    --core-limit 100000000 --graphql-limit 100000000 --truth "$work/crawl-truth.json"
  end=$(truth_end "$work/crawl-truth.json")
  rm -rf "$work/crawl-plan" "$work/crawl.sqlite.gz"
  GITHUB_TOKEN=bench-token "$bin" -q plan --source "ids:0..$end" --shards 1 --probes 0 --out "$work/crawl-plan" >/dev/null
  GITHUB_TOKEN=bench-token RUST_LOG=octoshard=warn,octoshard::artifact=debug \
    /usr/bin/time -o "$work/time.txt" -f "%e %U %S %M" "$bin" crawl --no-pacing \
    --manifest "$work/crawl-plan/shard-0000.yaml" --out "$work/crawl.sqlite.gz" 2>"$work/crawl.log" >/dev/null
  gunzip -c "$work/crawl.sqlite.gz" >"$work/crawl.sqlite"
  put "crawl_$n" "$(cat "$work/time.txt") $(sqlite3 "$work/crawl.sqlite" 'SELECT count(*) FROM repositories')"
  if [ "$n" = 100000 ]; then
    put gzip_octoshard "$(grep -o 'compressed.*' "$work/crawl.log" | tail -n 1)"
    sync
    /usr/bin/time -o "$work/time.txt" -f "%e" gzip -6 -c "$work/crawl.sqlite" >"$work/cli.sqlite.gz"
    put gzip_cli "$(cat "$work/time.txt") $(stat -c %s "$work/crawl.sqlite") $(stat -c %s "$work/cli.sqlite.gz")"
  else
    # The same listing JSON the crawl read, for sqlite-utils.
    python3 - "$GITHUB_API_URL" "$work/listing.json" <<'PY'
import json, re, sys, urllib.request
url, out = sys.argv[1:]
repos, page_url = [], f"{url}/repositories?since=0"
while page_url:  # the Link header's next page, as the crawl follows it (a page may hold no public ids)
    response = urllib.request.urlopen(urllib.request.Request(page_url, headers={"Authorization": "token bench-token"}))
    repos += json.load(response)
    page_url = next(iter(re.findall(r'<([^>]+)>; rel="next"', response.headers.get("link") or "")), None)
json.dump(repos, open(out, "w"))
PY
  fi
  rm -f "$work/crawl.sqlite" "$work/crawl.sqlite.gz" "$work/cli.sqlite.gz"
  stop_fakehub
done
venv=$cache/venv-sqlite-utils
if [ ! -x "$venv/bin/sqlite-utils" ]; then
  python3 -m venv "$venv" && "$venv/bin/pip" install -q sqlite-utils==3.39 >/dev/null
fi
rm -f "$work/su.sqlite"
/usr/bin/time -o "$work/time.txt" -f "%e" "$venv/bin/sqlite-utils" insert "$work/su.sqlite" repositories \
  "$work/listing.json" --pk id
put sqlite_utils "$(cat "$work/time.txt") $(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))))' "$work/listing.json")"

python3 - "$results" <<'PY'
import os, re, subprocess, sys
r = dict(line.rstrip("\n").split("=", 1) for line in open(sys.argv[1]))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")) / 1048576
print(f"Machine: {os.cpu_count()} CPUs ({cpu}), {mem:.0f} GiB RAM; sqlite3 "
      f"{subprocess.run(['sqlite3', '--version'], capture_output=True, text=True).stdout.split()[0]}")
print()
fs, fk = r["floor"].split(); ms, mk = r["merge"].split()
fs, ms = float(fs), float(ms)
ph = dict(re.findall(r"(\w+)_ms=(\d+)", r["merge_phases"]))
fts = int(ph.get("fts", 0)) / 1000
rows = int(r["floor_rows"])
print("| Measure | Figure |")
print("|---|---|")
print(f"| Inputs | 64 shards of 100,000 repositories ({r['input_mb']} MB, 1% shared ids); generated or cached in {r['generate_s']} s |")
print(f"| sqlite3 floor (ATTACH + INSERT OR REPLACE, journal off, sync off, 64 MiB cache) | {fs:.1f} s, {rows:,} rows, peak {int(fk) / 1024:,.0f} MiB |")
print(f"| `octoshard merge` | {ms:.1f} s, peak {int(mk) / 1024:,.0f} MiB, output {r['merge_mb']} MB |")
print(f"| of which: inspect / load / indexes / derived / full-text index / sync | "
      + " / ".join(f"{int(ph.get(k, 0)) / 1000:.1f}" for k in ("inspect", "load", "index", "derive", "fts", "sync")) + " s |")
print(f"| **merge / floor, with the full-text index** | **{ms / fs:.2f}x** |")
ps, pk = r["merge_plain"].split()
print(f"| `octoshard merge --no-search-index` | {float(ps):.1f} s, peak {int(pk) / 1024:,.0f} MiB |")
print(f"| **merge --no-search-index / floor** | **{float(ps) / fs:.2f}x** |")
print(f"| Merge check | {r['merge_check']} |")
g = {k: v.strip('"') for k, v in re.findall(r"(\w+)=(\S+)", r["gzip_octoshard"])}
gi, go, gms = int(g["bytes_in"]), int(g["bytes_out"]), int(g["ms"])
cs, ci, co = r["gzip_cli"].split()
cs, ci, co = float(cs), int(ci), int(co)
print(f"| gzip of a crawled 100,000-repository shard ({gi / 1e6:.0f} MB), octoshard ({g.get('backend', '?')}, level 6) | "
      f"{gi / go:.2f}:1, {gi / 1e6 / (gms / 1000):.0f} MB/s ({gms / 1000:.2f} s, includes fsync) |")
print(f"| same file, `gzip -6` | {ci / co:.2f}:1, {ci / 1e6 / cs:.0f} MB/s ({cs:.2f} s) |")
for n in ("10000", "100000"):
    wall, user, system, peak, stored = r[f"crawl_{n}"].split()
    wall, cpu_s, stored = float(wall), float(user) + float(system), int(stored)
    print(f"| Crawl of {int(n):,} repositories (metadata, 1 shard, simulated GitHub, no latency) | "
          f"{stored:,} stored in {wall:.1f} s: {stored / wall:,.0f} repositories/s wall, "
          f"{stored / cpu_s:,.0f} per octoshard CPU second; peak {int(peak) / 1024:,.0f} MiB |")
su, sn = r["sqlite_utils"].split()
print(f"| `sqlite-utils insert` of the same listing JSON ({int(sn):,} repositories) | "
      f"{float(su):.2f} s: {int(sn) / float(su):,.0f} repositories/s |")
PY
