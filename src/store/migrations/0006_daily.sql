-- octoshard schema 6: daily refresh, and request totals. The head commit of a repository's default branch comes with
-- its detail; a refresh records, per repository and day, what its cheap check found, and merge
-- derives the log of discovery (new repositories above the previous highest id) from the work
-- items that listed them. Both tables keep every day: they are history, never removed with a
-- repository that is gone.

ALTER TABLE repositories ADD COLUMN head_sha TEXT;

CREATE TABLE daily_repository_changes (
    repo_id           INTEGER NOT NULL,
    check_date        TEXT    NOT NULL,   -- YYYY-MM-DD, the refresh plan's day
    has_changes       INTEGER NOT NULL,   -- 0/1: any of the below
    pushed            INTEGER NOT NULL,   -- 0/1: pushed_at or the head moved
    metadata          INTEGER NOT NULL,   -- 0/1: updated_at, name, description or archived changed
    counts            INTEGER NOT NULL,   -- 0/1: stars or forks changed
    activity          INTEGER NOT NULL,   -- 0/1: a collected stream moved (issues, pull requests)
    renamed           INTEGER NOT NULL,   -- 0/1: full_name changed
    gone              INTEGER NOT NULL,   -- 0/1: deleted or private since (see tombstones)
    previous_full_name TEXT,
    previous_head_sha TEXT,
    head_sha          TEXT,
    commit_count      INTEGER,            -- commits reachable from the head
    new_commits       INTEGER,            -- since the previous check (NULL: not known)
    files_changed     INTEGER,            -- from one compare request, where asked for
    fetched_at        TEXT    NOT NULL,   -- when the check ran
    PRIMARY KEY (repo_id, check_date)
);

CREATE TABLE repository_discovery_log (
    plan_id          TEXT    NOT NULL,
    discovery_date   TEXT    NOT NULL,    -- YYYY-MM-DD, the refresh plan's day
    id_from          INTEGER NOT NULL,    -- the listed ids: id_from <= id < id_to
    id_to            INTEGER NOT NULL,
    new_repositories INTEGER NOT NULL,
    status           TEXT    NOT NULL,    -- the listing's work item status
    updated_at       TEXT    NOT NULL,
    PRIMARY KEY (plan_id, id_from)
);

-- Request accounting that scales: a full crawl makes tens of millions of requests, so merged
-- files keep totals per plan, shard, hour, kind, status and credential (raw rows of
-- api_requests only when asked for). Shard files keep their raw rows; merge sums them here.
CREATE TABLE api_request_totals (
    plan_id     TEXT    NOT NULL,
    shard       TEXT    NOT NULL,
    hour        TEXT    NOT NULL,        -- YYYY-MM-DDTHH (UTC) of the attempts
    kind        TEXT    NOT NULL,
    status      INTEGER NOT NULL,
    credential  TEXT    NOT NULL,
    requests    INTEGER NOT NULL,        -- attempts
    retries     INTEGER NOT NULL,        -- of those, attempts after the first
    cost        INTEGER NOT NULL,
    conditional INTEGER NOT NULL,
    latency_ms  INTEGER NOT NULL,        -- sums
    waited_ms   INTEGER NOT NULL,
    PRIMARY KEY (plan_id, shard, hour, kind, status, credential)
);
-- A file written before this schema: its raw rows, as totals of its plan.
INSERT INTO api_request_totals
SELECT coalesce((SELECT value FROM meta WHERE key = 'plan_id'), ''), shard, substr(at, 1, 13), kind, status,
       credential, count(*), sum(attempt > 1), sum(cost), sum(conditional), sum(latency_ms), sum(waited_ms)
FROM api_requests GROUP BY 1, 2, 3, 4, 5, 6;
