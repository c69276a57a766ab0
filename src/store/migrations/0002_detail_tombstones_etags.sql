-- octoshard schema 2: GraphQL detail tracking, tombstones for repositories that are gone, and
-- ETags of listing pages for conditional re-crawls.

-- When GraphQL detail was last stored for the row; NULL means detail is still to fetch.
ALTER TABLE repositories ADD COLUMN detail_fetched_at TEXT;
ALTER TABLE repositories ADD COLUMN watchers_count INTEGER;
CREATE INDEX repositories_detail_pending ON repositories (id) WHERE detail_fetched_at IS NULL;

-- A repository that was listed but answered "gone" (GraphQL NOT_FOUND, REST 404/410/451).
CREATE TABLE tombstones (
    id          INTEGER PRIMARY KEY,
    node_id     TEXT,
    full_name   TEXT,
    reason      TEXT NOT NULL,          -- not_found, forbidden, gone, unavailable_for_legal_reasons
    observed_at TEXT NOT NULL
);

-- ETag of each listing page, with what the page said, so that a 304 can stand in for it.
CREATE TABLE etags (
    path         TEXT PRIMARY KEY,      -- /repositories?since=N
    etag         TEXT NOT NULL,
    cursor_after TEXT,                  -- the next page's cursor, or NULL at the end
    ids          TEXT NOT NULL,         -- JSON array of the repository ids on the page
    fetched_at   TEXT NOT NULL
);

-- Request accounting: time waited before each attempt and whether it was conditional.
ALTER TABLE api_requests ADD COLUMN waited_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_requests ADD COLUMN conditional INTEGER NOT NULL DEFAULT 0;
