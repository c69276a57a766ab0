-- octoshard schema 4: a database can hold the work of several plans (a first run and its
-- leftovers, yesterday's database and today's), so work items and runs say which plan they belong
-- to, and `plans` records what each plan collected.

CREATE TABLE plans (
    plan_id     TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    collect     TEXT NOT NULL,          -- JSON array: metadata, pulls, ...
    shard_count INTEGER
);
INSERT INTO plans (plan_id, source, collect, shard_count)
SELECT p.value,
       coalesce((SELECT value FROM meta WHERE key = 'source'), ''),
       coalesce((SELECT value FROM meta WHERE key = 'collect'), '["metadata"]'),
       (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'shard_count')
FROM meta p WHERE p.key = 'plan_id';

CREATE TABLE work_items_v4 (
    plan_id    TEXT    NOT NULL,
    shard      TEXT    NOT NULL,
    idx        INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    spec       TEXT    NOT NULL,        -- the manifest's work item, as JSON
    status     TEXT    NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'processing', 'completed', 'failed')),
    cursor     TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    stored     INTEGER NOT NULL DEFAULT 0,
    error      TEXT,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (plan_id, shard, idx)
);
INSERT INTO work_items_v4
SELECT coalesce((SELECT value FROM meta WHERE key = 'plan_id'), ''),
       shard, idx, kind, spec, status, cursor, attempts, stored, error, updated_at
FROM work_items;
DROP TABLE work_items;
ALTER TABLE work_items_v4 RENAME TO work_items;

ALTER TABLE shard_runs ADD COLUMN plan_id TEXT NOT NULL DEFAULT '';
UPDATE shard_runs SET plan_id = coalesce((SELECT value FROM meta WHERE key = 'plan_id'), '');
