"""What each tool obtained, counted the same way for all (used by peers.sh).

  rows.py pick TRUTH OUT_DIR CAP
      from fakehub's truth (GET /_fakehub/truth?deep=1) write: OUT_DIR/live_ids
      (live repository ids, one a line), OUT_DIR/owner (the owner with the most
      live repositories and that count), OUT_DIR/items_repos (the 3 repositories
      with the most issues + pull requests among those with at most CAP, full
      names), OUT_DIR/items_truth (their total items), and the same for the
      first of them alone in OUT_DIR/items1_repos and OUT_DIR/items1_truth.
  rows.py repos KIND FILE LIVE_IDS [BELOW]
      live repositories (ids in LIVE_IDS, below BELOW if given) found in FILE:
      KIND octoshard (table repositories), pygithub (repos), g2s (repos).
  rows.py items KIND REPOS_FILE FILE...
      distinct (repository, number) issues and pull requests of the repositories
      in REPOS_FILE: KIND octoshard (issues + pull_requests), g2s (issues +
      pull_requests), perceval (JSON lines of the issue and pull_request categories).
Prints one number (0 when FILE is missing or unreadable: nothing usable was written).
"""
import json
import os
import sqlite3
import sys


def ids_of(db, sql):
    if not os.path.exists(db):
        return set()
    try:
        return {row[0] for row in sqlite3.connect(db).execute(sql)}
    except sqlite3.Error:
        return set()


def pick(truth_path, out, cap):
    truth = json.load(open(truth_path))
    live = [r for r in truth["repos"] if not r["deleted"]]
    with open(os.path.join(out, "live_ids"), "w") as f:
        f.writelines(f"{r['id']}\n" for r in live)
    owners = {}
    for r in live:
        owner = r["full_name"].split("/")[0]
        owners[owner] = owners.get(owner, 0) + 1
    owner, count = max(owners.items(), key=lambda kv: (kv[1], kv[0]))
    with open(os.path.join(out, "owner"), "w") as f:
        f.write(f"{owner} {count}\n")
    within = [r for r in live if r["issues"] + r["pulls"] <= int(cap)]
    top = sorted(within, key=lambda r: (-(r["issues"] + r["pulls"]), r["id"]))[:3]
    for name, chosen in (("items", top), ("items1", top[:1])):
        with open(os.path.join(out, f"{name}_repos"), "w") as f:
            f.writelines(f"{r['full_name']}\n" for r in chosen)
        with open(os.path.join(out, f"{name}_truth"), "w") as f:
            f.write(f"{sum(r['issues'] + r['pulls'] for r in chosen)}\n")


def repos(kind, path, live_path, below=None):
    live = {int(x) for x in open(live_path).read().split()}
    if below is not None:
        live = {i for i in live if i < int(below)}
    table = {"octoshard": "repositories", "pygithub": "repos", "g2s": "repos"}[kind]
    return len(ids_of(path, f"SELECT id FROM {table}") & live)


def items(kind, repos_path, paths):
    wanted = {line.strip().lower() for line in open(repos_path) if line.strip()}
    found = set()
    for path in paths:
        if kind == "perceval":
            if not os.path.exists(path):
                continue
            for line in open(path):
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                name = item.get("origin", "").removeprefix("https://github.com/").lower()
                if name in wanted:
                    found.add((name, item["data"]["number"]))
        elif kind == "octoshard":
            for t in ("issues", "pull_requests"):
                found |= ids_of(path, f"SELECT lower(r.full_name) || ' ' || t.number FROM {t} t "
                                      "JOIN repositories r ON r.id = t.repo_id")
        else:  # github-to-sqlite: issues (issues and pull requests) + pull_requests
            for t in ("issues", "pull_requests"):
                found |= ids_of(path, f"SELECT lower(r.full_name) || ' ' || t.number FROM {t} t "
                                      "JOIN repos r ON r.id = t.repo")
    if kind != "perceval":
        found = {tuple(k.rsplit(" ", 1)) for k in found}
        found = {(n, int(num)) for n, num in found}
    return len({k for k in found if k[0] in wanted})


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "pick":
        pick(*sys.argv[2:5])
    elif what == "repos":
        print(repos(*sys.argv[2:]))
    elif what == "items":
        print(items(sys.argv[2], sys.argv[3], sys.argv[4:]))
    else:
        sys.exit(f"rows.py: unknown command {what}")
