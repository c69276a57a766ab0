"""Metadata of every repository below an id, the way a PyGithub user writes it:
list with g.get_repos(since=...), then g.get_repo(full_name) for the full
record of each, into SQLite. Repositories that 404 (deleted since listed) are
skipped, as such scripts do; any other error ends the script (exit 1) with
what was written so far committed. PyGithub's own retries (GithubRetry: 5xx and
403s with Retry-After) stay as they are; its politeness throttle (0.25 s
between requests by default since 2.0) is turned off, so the wall time measures
the client and not the throttle: with it, add 0.25 s a request.

  python pygithub_crawl.py BASE_URL END OUT.sqlite     (token in GITHUB_TOKEN)
"""
import os
import sqlite3
import sys

from github import Auth, Github, UnknownObjectException

base_url, end, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
g = Github(base_url=base_url, auth=Auth.Token(os.environ["GITHUB_TOKEN"]), per_page=100, seconds_between_requests=None)
db = sqlite3.connect(out)
db.execute(
    "CREATE TABLE IF NOT EXISTS repos (id INTEGER PRIMARY KEY, full_name TEXT, description TEXT,"
    " language TEXT, stargazers_count INTEGER, forks_count INTEGER, open_issues_count INTEGER,"
    " subscribers_count INTEGER, license TEXT, created_at TEXT, pushed_at TEXT, archived INTEGER, fork INTEGER)"
)
try:
    for listed in g.get_repos(since=0):
        if listed.id >= end:
            break
        try:
            r = g.get_repo(listed.full_name)
        except UnknownObjectException:
            continue
        db.execute(
            "INSERT OR REPLACE INTO repos VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (r.id, r.full_name, r.description, r.language, r.stargazers_count, r.forks_count,
             r.open_issues_count, r.subscribers_count, r.license.spdx_id if r.license else None,
             str(r.created_at), str(r.pushed_at), r.archived, r.fork),
        )
finally:
    db.commit()
