-- octoshard schema 3: named repositories (repos:FILE) that GitHub could not resolve. They have no
-- id, so they cannot be tombstones.
CREATE TABLE missing_repositories (
    full_name   TEXT PRIMARY KEY,
    reason      TEXT NOT NULL,          -- not_found, forbidden, ...
    observed_at TEXT NOT NULL
);
