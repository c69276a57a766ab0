"""Synthetic crawl shards for the merge benchmark (scripts/bench.sh, section data):
    python3 scripts/lib/bench_shards.py DIR SHARDS ROWS [OVERLAP]
writes DIR/shard-0000.sqlite ... as `octoshard run` leaves them (the store's migrations, the meta
rows, the plan, one completed id-range work item, one completed run, its request log) with ROWS
synthetic repositories each. Shard k holds ids k*(ROWS-OVERLAP)+1 .. k*(ROWS-OVERLAP)+ROWS, so
neighbours share OVERLAP ids (default 1% of ROWS) with different fetched_at: merge's
newest-row-wins rule has work to do both ways. Also writes DIR/empty.sqlite (the schema alone,
for the sqlite3 floor). Files already there are kept (the folder is a cache).
Run from the repository's root."""
import glob
import json
import os
import sqlite3
import sys

folder, shards, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
overlap = int(sys.argv[4]) if len(sys.argv) > 4 else rows // 100
step = rows - overlap
plan_id = f"bench-{shards}x{rows}"
os.makedirs(folder, exist_ok=True)
migrations = sorted(glob.glob("src/store/migrations/*.sql"))


def schema(path):
    if os.path.exists(path):
        os.remove(path)  # a half-written file of an interrupted run
    c = sqlite3.connect(path)
    c.execute("PRAGMA journal_mode = OFF")
    c.execute("PRAGMA synchronous = OFF")
    for number, migration in enumerate(migrations, 1):
        c.executescript(open(migration).read())
        c.execute(f"PRAGMA user_version = {number}")
    c.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(len(migrations)),))
    c.commit()
    return c


def shard(k):
    name = f"shard-{k:04d}"
    final = os.path.join(folder, name + ".sqlite")
    if os.path.exists(final):
        return
    partial = final + ".partial"
    c = schema(partial)
    first, last = k * step + 1, k * step + rows
    source = f"ids:0..{(shards - 1) * step + rows + 1}"
    day = 1 + (k * 37) % 28  # neighbours' shared ids: sometimes the later shard is newer, sometimes not
    fetched = f"2026-01-{day:02d}T00:00:00.000Z"
    meta = {
        "plan_id": plan_id, "shard": name, "shard_index": str(k), "shard_count": str(shards),
        "source": source, "collect": '["metadata"]', "tool_version": "bench",
    }
    c.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
    c.execute("INSERT INTO plans VALUES (?, ?, '[\"metadata\"]', ?)", (plan_id, source, shards))
    spec = json.dumps({"kind": "id_range", "from": first, "to": last + 1}, separators=(",", ":"))
    c.execute(
        "INSERT INTO work_items (plan_id, shard, idx, kind, spec, status, cursor, stored, updated_at) "
        "VALUES (?, ?, 0, 'id_range', ?, 'completed', ?, ?, ?)",
        (plan_id, name, spec, str(last), rows, fetched))
    c.execute(
        "INSERT INTO shard_runs (plan_id, shard, started_at, finished_at, status, repositories, requests, tool_version) "
        "VALUES (?, ?, ?, ?, 'completed', ?, ?, 'bench')",
        (plan_id, name, fetched, fetched.replace("T00:00", "T00:30"), rows, rows // 100))
    # One listing request per 100 repositories, as the crawl logs them.
    c.execute("""
        WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?)
        INSERT INTO api_requests (shard, at, kind, path, status, cost, latency_ms, attempt, credential)
        SELECT ?, ?, 'listing', '/repositories?since=' || (? + i * 100), 200, 1, 120, 1, 'token-1' FROM n""",
              (rows // 100, name, fetched, first - 1))
    c.execute("""
        WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO repositories (id, node_id, full_name, owner, name, description, language, topics,
          stargazers_count, forks_count, open_issues_count, size, default_branch, fork, archived, license,
          created_at, updated_at, pushed_at, fetched_at, watchers_count, detail_fetched_at)
        SELECT i, 'R_kgDO' || i, 'owner' || (i % 50000) || '/repo-' || i, 'owner' || (i % 50000), 'repo-' || i,
          'A repository about thing ' || (i % 997) || ' and its ' || (i % 13) || ' friends',
          CASE i % 5 WHEN 0 THEN 'Rust' WHEN 1 THEN 'Python' WHEN 2 THEN 'Go' ELSE NULL END,
          CASE i % 3 WHEN 0 THEN '["cli","tool"]' WHEN 1 THEN '[]' ELSE '["web","framework","api"]' END,
          i % 1000, i % 100, i % 10, i % 100000, 'main', i % 7 = 0, i % 11 = 0, 'MIT',
          '2015-01-01T00:00:00Z', '2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z', ?, i % 1000, ?
        FROM n""", (first, last, fetched, fetched))
    c.commit()
    c.execute("PRAGMA journal_mode = DELETE")
    c.close()
    os.rename(partial, final)


if not os.path.exists(os.path.join(folder, "empty.sqlite")):
    schema(os.path.join(folder, "empty.sqlite") + ".partial").close()
    os.rename(os.path.join(folder, "empty.sqlite") + ".partial", os.path.join(folder, "empty.sqlite"))
if __name__ == "__main__":
    import multiprocessing
    with multiprocessing.Pool(os.cpu_count()) as pool:
        pool.map(shard, range(shards))
