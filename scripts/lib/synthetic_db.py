"""An octoshard database of N synthetic repositories, made the way the store makes one (its
numbered migrations, in order), for the benchmarks and the scale tables:
    python3 scripts/lib/synthetic_db.py OUT.sqlite N
Run from the repository's root."""
import glob
import sqlite3
import sys

out, rows = sys.argv[1], int(sys.argv[2])
c = sqlite3.connect(out)
migrations = sorted(glob.glob("src/store/migrations/*.sql"))
for number, path in enumerate(migrations, 1):
    c.executescript(open(path).read())
    c.execute(f"PRAGMA user_version = {number}")
c.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(len(migrations)),))
c.execute("""
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
INSERT INTO repositories (id, node_id, full_name, owner, name, description, language, topics,
  stargazers_count, forks_count, open_issues_count, size, default_branch, fork, archived, license,
  created_at, updated_at, pushed_at, fetched_at, watchers_count, detail_fetched_at)
SELECT i, 'R_' || i, 'owner' || (i % 50000) || '/repo' || i, 'owner' || (i % 50000), 'repo' || i,
  'A repository about thing ' || (i % 997), CASE i % 5 WHEN 0 THEN 'Rust' WHEN 1 THEN 'Python' ELSE NULL END,
  '["cli","tool"]', i % 1000, i % 100, i % 10, i % 100000, 'main', i % 7 = 0, i % 11 = 0, 'MIT',
  '2015-01-01T00:00:00Z', '2025-01-01T00:00:00Z', '2025-06-01T00:00:00Z', '2026-01-01T00:00:00.000Z', i % 1000,
  '2026-01-01T00:00:00.000Z'
FROM n""", (rows,))
c.commit()
print("rows:", c.execute("SELECT count(*) FROM repositories").fetchone()[0])
