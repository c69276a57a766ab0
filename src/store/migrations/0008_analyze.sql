-- octoshard schema 8: analysis. One row per repository and analyzer ('rules': the deterministic
-- rules of `octoshard analyze`, 'llm': an OpenAI-compatible model): its category, a quality score
-- and the signals behind both. input_hash covers the analysed fields and the analyzer version, so
-- a re-run analyses only new and changed repositories. Merged like the collected entities (the
-- newest fetched_at of a key wins) and removed with a repository that is gone.

CREATE TABLE analyzed_repositories (
    repo_id          INTEGER NOT NULL,
    analyzer         TEXT    NOT NULL,   -- 'rules' or 'llm'
    analyzer_version TEXT    NOT NULL,   -- 'rules-1+<hash of the rules>' / 'llm-1:<model>'
    category         TEXT    NOT NULL,
    score            REAL    NOT NULL,   -- 0..100
    signals          TEXT    NOT NULL,   -- JSON object: what the category and score came from
    input_hash       TEXT    NOT NULL,   -- hash of the analysed fields and analyzer_version
    analyzed_at      TEXT    NOT NULL,
    fetched_at       TEXT    NOT NULL,   -- = analyzed_at (merge keeps the newest by fetched_at)
    PRIMARY KEY (repo_id, analyzer)
);
CREATE INDEX analyzed_repositories_category ON analyzed_repositories (analyzer, category);
