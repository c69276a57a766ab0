-- octoshard schema 5: deep collection. Each entity table is keyed by the repository id and the
-- entity's GitHub id (a commit by its sha); every row carries fetched_at, and merge keeps the
-- newest version of each key. Labels are JSON arrays of names. Authors are an id and a login;
-- a deleted account is login `ghost` with no id.

CREATE TABLE pull_requests (
    repo_id          INTEGER NOT NULL,
    pr_id            INTEGER NOT NULL,
    number           INTEGER NOT NULL,
    title            TEXT,
    state            TEXT,              -- open, closed, merged
    draft            INTEGER,           -- 0/1
    author_id        INTEGER,
    author_login     TEXT,
    created_at       TEXT,
    updated_at       TEXT,
    closed_at        TEXT,
    merged_at        TEXT,
    merge_commit_sha TEXT,
    base_ref         TEXT,
    head_ref         TEXT,
    head_repo_id     INTEGER,           -- NULL when the fork was deleted
    labels           TEXT,              -- JSON array of names
    additions        INTEGER,
    deletions        INTEGER,
    changed_files    INTEGER,
    comments         INTEGER,
    review_count     INTEGER,
    fetched_at       TEXT NOT NULL,
    PRIMARY KEY (repo_id, pr_id)
);

CREATE TABLE issues (
    repo_id      INTEGER NOT NULL,
    issue_id     INTEGER NOT NULL,
    number       INTEGER NOT NULL,
    title        TEXT,
    state        TEXT,                  -- open, closed
    state_reason TEXT,                  -- completed, not_planned, reopened
    author_id    INTEGER,
    author_login TEXT,
    created_at   TEXT,
    updated_at   TEXT,
    closed_at    TEXT,
    labels       TEXT,                  -- JSON array of names
    comments     INTEGER,
    fetched_at   TEXT NOT NULL,
    PRIMARY KEY (repo_id, issue_id)
);

CREATE TABLE ci_runs (
    repo_id          INTEGER NOT NULL,
    run_id           INTEGER NOT NULL,
    workflow_id      INTEGER,
    workflow_name    TEXT,
    event            TEXT,
    status           TEXT,
    conclusion       TEXT,
    head_sha         TEXT,
    head_branch      TEXT,
    run_attempt      INTEGER,
    created_at       TEXT,
    started_at       TEXT,
    updated_at       TEXT,
    duration_seconds INTEGER,           -- updated_at - started_at of a completed run
    fetched_at       TEXT NOT NULL,
    PRIMARY KEY (repo_id, run_id)
);

CREATE TABLE contributors (
    repo_id              INTEGER NOT NULL,
    user_id              INTEGER NOT NULL,
    login                TEXT,
    contributions        INTEGER,
    first_contribution_at TEXT,         -- from the commits, when they are collected
    last_contribution_at  TEXT,
    fetched_at           TEXT NOT NULL,
    PRIMARY KEY (repo_id, user_id)
);

CREATE TABLE commits (
    repo_id          INTEGER NOT NULL,
    commit_sha       TEXT    NOT NULL,
    author_id        INTEGER,
    author_login     TEXT,
    author_name      TEXT,
    author_date      TEXT,
    committer_id     INTEGER,
    committer_login  TEXT,
    committer_name   TEXT,
    committer_date   TEXT,
    message_headline TEXT,
    fetched_at       TEXT NOT NULL,
    PRIMARY KEY (repo_id, commit_sha)
);
CREATE INDEX commits_author ON commits (repo_id, author_id);

-- How far each stream of each repository got: its cursor moves in the same transaction as the
-- rows of the page it covers.
CREATE TABLE stream_state (
    repo_id    INTEGER NOT NULL,
    stream     TEXT    NOT NULL,        -- pulls, issues, runs, contributors, commits
    status     TEXT    NOT NULL CHECK (status IN ('pending', 'completed')),
    cursor     TEXT,
    expected   INTEGER,                 -- items GitHub counted, when the detail query tells
    stored     INTEGER NOT NULL DEFAULT 0,
    since      TEXT,                    -- incremental: only what changed at or after this time
    note       TEXT,                    -- why it ended empty: disabled, empty repository, ...
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (repo_id, stream)
);
CREATE INDEX stream_state_pending ON stream_state (repo_id) WHERE status = 'pending';
