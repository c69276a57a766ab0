-- octoshard schema 7: code. A snapshot is what a repository's default branch held at one commit
-- (its files and their size, from one git-tree request or counted while its archive streamed
-- by); an archive is that commit's tarball in cold storage (a local folder or S3), addressed by
-- content. Both are keyed by repository and commit sha, so pull requests, issues and CI runs join
-- to the exact code they ran on (the view `code_links`). Both are history: kept when a repository
-- is gone, like the code in cold storage.

CREATE TABLE repository_snapshots (
    repo_id        INTEGER NOT NULL,
    commit_sha     TEXT    NOT NULL,
    snapshot_date  TEXT    NOT NULL,   -- YYYY-MM-DD: the day the crawl saw this head
    committed_at   TEXT,               -- the head commit's committer date
    file_count     INTEGER,            -- files (git blobs, symlinks included)
    size_bytes     INTEGER,            -- their total size, uncompressed
    tree_truncated INTEGER NOT NULL,   -- 0/1: GitHub cut the tree listing short (counts are lower bounds)
    counted_from   TEXT    NOT NULL,   -- tree (a git-tree request) or archive (the tarball)
    fetched_at     TEXT    NOT NULL,
    PRIMARY KEY (repo_id, commit_sha)
);
CREATE INDEX repository_snapshots_commit ON repository_snapshots (commit_sha);

CREATE TABLE archives (
    repo_id    INTEGER NOT NULL,
    commit_sha TEXT    NOT NULL,
    uri        TEXT,                   -- file:///... or s3://bucket/prefix/<repo id>/<sha>.tar.gz; NULL when skipped
    sha256     TEXT,                   -- of the stored .tar.gz bytes
    bytes      INTEGER,                -- size of the stored .tar.gz
    stored_at  TEXT,                   -- when the object was complete in storage
    skipped    TEXT,                   -- why it was not stored (larger than the limit, ...)
    max_bytes  INTEGER,                -- the --archive-max-bytes in force (NULL: none)
    fetched_at TEXT    NOT NULL,
    PRIMARY KEY (repo_id, commit_sha)
);
CREATE INDEX archives_commit ON archives (commit_sha);

-- The code each CI run, merged pull request and commit ran on: its snapshot and, when stored,
-- its archive, joined by (repository, sha).
CREATE VIEW code_links AS
SELECT 'ci_run' AS kind, r.repo_id, CAST(r.run_id AS TEXT) AS entity, r.head_sha AS commit_sha,
       s.snapshot_date, s.file_count, s.size_bytes, a.uri AS archive_uri, a.sha256 AS archive_sha256
FROM ci_runs r
LEFT JOIN repository_snapshots s ON s.repo_id = r.repo_id AND s.commit_sha = r.head_sha
LEFT JOIN archives a ON a.repo_id = r.repo_id AND a.commit_sha = r.head_sha AND a.uri IS NOT NULL
WHERE s.commit_sha IS NOT NULL OR a.commit_sha IS NOT NULL
UNION ALL
SELECT 'pull_request', p.repo_id, CAST(p.number AS TEXT), p.merge_commit_sha,
       s.snapshot_date, s.file_count, s.size_bytes, a.uri, a.sha256
FROM pull_requests p
LEFT JOIN repository_snapshots s ON s.repo_id = p.repo_id AND s.commit_sha = p.merge_commit_sha
LEFT JOIN archives a ON a.repo_id = p.repo_id AND a.commit_sha = p.merge_commit_sha AND a.uri IS NOT NULL
WHERE s.commit_sha IS NOT NULL OR a.commit_sha IS NOT NULL
UNION ALL
SELECT 'commit', c.repo_id, c.commit_sha, c.commit_sha,
       s.snapshot_date, s.file_count, s.size_bytes, a.uri, a.sha256
FROM commits c
LEFT JOIN repository_snapshots s ON s.repo_id = c.repo_id AND s.commit_sha = c.commit_sha
LEFT JOIN archives a ON a.repo_id = c.repo_id AND a.commit_sha = c.commit_sha AND a.uri IS NOT NULL
WHERE s.commit_sha IS NOT NULL OR a.commit_sha IS NOT NULL;
