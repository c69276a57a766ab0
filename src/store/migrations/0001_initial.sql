-- octoshard schema 1: repositories, processing state and request accounting.
-- The same schema serves shard files and merged files.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per GitHub repository; id is GitHub's repository id.
CREATE TABLE repositories (
    id                INTEGER PRIMARY KEY,
    node_id           TEXT,
    full_name         TEXT NOT NULL,
    owner             TEXT NOT NULL,
    name              TEXT NOT NULL,
    description       TEXT,
    language          TEXT,
    topics            TEXT,             -- JSON array of strings
    stargazers_count  INTEGER,
    forks_count       INTEGER,
    open_issues_count INTEGER,
    size              INTEGER,          -- kilobytes, as GitHub reports it
    default_branch    TEXT,
    fork              INTEGER,          -- 0/1
    archived          INTEGER,          -- 0/1
    license           TEXT,             -- SPDX id
    created_at        TEXT,
    updated_at        TEXT,
    pushed_at         TEXT,
    fetched_at        TEXT NOT NULL,    -- RFC 3339; merge keeps the newest version of a row
    etag              TEXT
);
CREATE INDEX repositories_full_name ON repositories (full_name);

-- The work of the shard's manifest and how far it got. cursor moves in the same transaction as
-- the rows it covers.
CREATE TABLE work_items (
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
    PRIMARY KEY (shard, idx)
);

-- One row per crawl invocation (a resumed crawl adds a row).
CREATE TABLE shard_runs (
    id           INTEGER PRIMARY KEY,
    shard        TEXT    NOT NULL,
    started_at   TEXT    NOT NULL,
    finished_at  TEXT,
    status       TEXT    NOT NULL,      -- running, completed, deadline, failed
    repositories INTEGER NOT NULL DEFAULT 0,
    requests     INTEGER NOT NULL DEFAULT 0,
    error        TEXT,
    tool_version TEXT    NOT NULL
);

-- Every request attempt: what it was for, what it cost, how it went. Never a token.
CREATE TABLE api_requests (
    id         INTEGER PRIMARY KEY,
    shard      TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    status     INTEGER NOT NULL,        -- 0: no response
    cost       INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    attempt    INTEGER NOT NULL,
    credential TEXT    NOT NULL,
    error      TEXT
);
