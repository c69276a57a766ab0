#!/usr/bin/env bash
# Regenerates docs/SCALE.md from `octoshard plan --dry-run`: every figure in its tables is computed
# by the planner's capacity model, none typed in by hand. Needs no network (--probes 0 assumes
# github.com's average density of 0.33 public repositories per id).
#   scripts/scale.sh            # writes docs/SCALE.md
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin octoshard
bin=target/debug/octoshard
out=docs/SCALE.md

# `plan --dry-run` prints YAML; pick one scalar (top level or `total.<key>`).
field() { awk -v want="$2" '
  /^[a-z_]+:$/ { section = substr($1, 1, length($1) - 1); next }
  { key = $1; sub(":", "", key); full = (substr($0, 1, 2) == "  ") ? section "." key : key
    if (full == want) { print $2; exit } }' <<<"$1"; }

# 12000256.0 -> 12,000,256; 5.49 stays 5.49.
num() { awk -v n="$1" 'BEGIN {
  if (n !~ /^[0-9]+(\.0+)?$/) { print n; exit }
  n = sprintf("%d", n); out = ""
  while (length(n) > 3) { out = "," substr(n, length(n) - 2) out; n = substr(n, 1, length(n) - 3) }
  print n out }'; }

dry() { "$bin" plan --probes 0 --dry-run "$@" 2>/dev/null; }

# A merged database of 100,000 repositories (scripts/lib/synthetic_db.py: the store's own
# migrations) for the refresh rows: `plan --source refresh:` reads its repositories.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/lib/synthetic_db.py "$work/merged.sqlite" 100000 >/dev/null

# Budget units per 1,000 repositories of a dry run: "core graphql".
per_thousand() { local y; y=$(dry "$@")
  awk -v r="$(field "$y" total.repositories)" -v c="$(field "$y" total.core)" -v g="$(field "$y" total.graphql)" \
    'BEGIN { printf "%.1f %.1f", c * 1000 / r, g * 1000 / r }'; }

# | label | core | GraphQL | then, for 400 million repositories: credential-hours, wall hours
# with 10 and 50 installations (the larger budget binds; both run in parallel).
deep_row() { local label=$1; shift
  read -r c g <<<"$(per_thousand "$@")"
  awk -v l="$label" -v c="$c" -v g="$g" 'BEGIN { m = (c > g ? c : g) * 400000 / 5000
    printf "| %s | %.1f | %.1f | %.0f | %.0f | %.0f |\n", l, c, g, m, m / 10, m / 50 }'; }

row() { # label, then plan arguments
  local label=$1; shift
  local y; y=$(dry "$@")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$label" \
    "$(num "$(field "$y" total.core)")" "$(num "$(field "$y" total.graphql)")" \
    "$(field "$y" credential_hours)" "$(field "$y" shards)" "$(field "$y" waves)" \
    "$(field "$y" job_hours)" "$(field "$y" jobs_fit)" "$(field "$y" wall_hours)"
}

header='| scenario | core requests | GraphQL points | credential-hours | shards | waves | hours per job | fits a job | wall hours |
|---|---:|---:|---:|---:|---:|---:|---|---:|'
all=ids:0..1200000000
day=ids:1200000000..1200330000
full=$(dry --source "$all")
repos=$(num "$(field "$full" total.repositories)")
graphql_n=$(field "$full" total.graphql)
core_n=$(field "$full" total.core)
graphql=$(num "$graphql_n")
tenth=$(num "$(awk -v c="$core_n" 'BEGIN { printf "%d", c * 0.1 }')")
core=$(num "$core_n")

{
cat <<MD
# Scaling octoshard

How much GitHub API budget, how many jobs and how much time a crawl takes. Every figure in the
tables below comes from \`octoshard plan --dry-run\` (regenerate with \`scripts/scale.sh\`), with
\`--probes 0\`, so the planner assumes github.com's average of 0.33 public repositories per id
(about 400 million public repositories under 1.2 billion ids). Run \`plan --dry-run\` with probes
and your own credentials to size a real crawl.

## The model

- **Listing** (\`GET /repositories?since=\`): one request per 100 *assigned* ids, public or not,
  so the whole id space is about 12 million core requests whatever the density.
- **Metadata detail** (GraphQL \`nodes(ids:)\`): one point per 149 public repositories (GitHub
  rounds a query's requests / 100 to the nearest point, and the detail pages one connection per
  repository, its topics), on the separate GraphQL budget, so it runs beside the listing rather
  than after it.
- **Budgets**: a token or GitHub App installation has 5,000 core requests and 5,000 GraphQL points
  an hour (installations on GitHub Enterprise Cloud: 15,000). The planner sizes shards so that
  each job finishes within \`--job-hours\` (5.5 by default; hosted runners stop at 6) using its
  share of the credentials, and splits more than 256 jobs into waves (\`matrix_1\`..\`matrix_4\`).
- **What binds first** is the core budget of the listing: ${core} requests against ${graphql}
  GraphQL points for the ${repos} repositories. Past that, GitHub's secondary limits (concurrency
  100 per credential, content-creating and CPU-time limits) bind before the network does.

## Full crawl: every public repository, metadata

${header}
$(row "1 token" --source "$all")
$(row "10 App installations" --source "$all" --credentials 10)
$(row "50 App installations" --source "$all" --credentials 50)
$(row "50 installations, 50 jobs at once" --source "$all" --credentials 50 --max-parallel 50)
$(row "100 installations, 100 jobs at once" --source "$all" --credentials 100 --max-parallel 100)
$(row "20 Enterprise installations (15,000/h)" --source "$all" --credentials 20 --requests-per-hour 15000)

Wall hours assume the jobs run back to back at \`--max-parallel\`; one credential shared by every
job is the budget of one credential however many jobs run. "fits a job: false" means even 1,024
shards cannot finish within one job's hours on that budget: give crawls a \`--deadline\` and plan
the leftovers again, or add credentials.

## Daily refresh

**New repositories.** GitHub creates roughly 230 repositories a minute (public and private; the
Octoverse 2024 figure), about 330,000 ids a day. Listing and describing them:

${header}
$(row "one day of new ids, 1 token" --source "$day")
$(row "one day of new ids, 5 installations" --source "$day" --credentials 5)

**Changed repositories**, with \`--source refresh:DB\`: see "Daily refresh of a crawled
database" below (a point per 300 repositories to check them, the changed ones collected).

**Re-listing instead.** \`crawl --previous DB\` sends every listing page with its stored ETag;
GitHub answers unchanged pages with 304, which does not count against the rate limit. The daily
core cost is therefore the changed pages only: at a change rate *f*, about *f* x ${core} requests
(10% changed: ${tenth} requests, $(awk -v c="$core_n" 'BEGIN { printf "%.0f", c * 0.1 / 5000 }') credential-hours). Unchanged
pages still take a round trip each, so the wall time is bounded by request latency rather than
budget: 12 million requests at 16 in flight and 200 ms each is about 42 hours on one job, under
30 minutes over 100 jobs.

**Refreshing every repository's detail** (stars, pushes, topics) costs the GraphQL side of a full
crawl again: ${graphql} points, $(awk -v g="$graphql_n" 'BEGIN { printf "%.0f", g / 5000 }') credential-hours a day, so about
$(awk -v g="$graphql_n" 'BEGIN { printf "%.0f", g / 5000 / 24 + 0.5 }') installations spending their GraphQL budget around the clock. A refresh needs no listing and
checks every repository for less than that (one point per 300 for the check's few fields, which
page no connection, against one per 149 for the detail query with its topics, under GitHub's
cost formula), then fetches the detail of the changed ones only.

## Deep collection

Budget units per 1,000 public repositories for each \`--collect\` kind (with the metadata they
imply), from \`plan --dry-run\` over the whole id space with the planner's assumed profile
(a measured one when planning from a database: \`--source db:FILE\`), and what 400 million
repositories take. Wall hours assume the budget binds (enough jobs at once, see above).

| collect | core per 1,000 | GraphQL per 1,000 | credential-hours (400M) | wall hours, 10 installations | wall hours, 50 |
|---|---:|---:|---:|---:|---:|
$(deep_row "metadata" --source "$all")
$(deep_row "pulls" --source "$all" --collect pulls)
$(deep_row "issues" --source "$all" --collect issues)
$(deep_row "runs" --source "$all" --collect runs)
$(deep_row "contributors" --source "$all" --collect contributors)
$(deep_row "commits" --source "$all" --collect commits)
$(deep_row "all of them" --source "$all" --collect metadata,pulls,issues,runs,contributors,commits)

## Daily refresh of a crawled database

\`--source refresh:DB\` checks every repository of a merged database (one GraphQL point per 300,
per 74 with streams) and collects only the changed ones, their streams from where the database left
off. Per 1,000 repositories of the database, from \`plan --dry-run --source refresh:DB --churn F\`
(a 100,000-repository database made by the script; the id space above it, the new repositories,
is the "one day of new ids" row below), and for 400 million:

| refresh | core per 1,000 | GraphQL per 1,000 | credential-hours (400M) | wall hours, 10 installations | wall hours, 50 |
|---|---:|---:|---:|---:|---:|
$(deep_row "metadata, 1% changed" --source "refresh:$work/merged.sqlite" --no-discover --churn 0.01)
$(deep_row "metadata, 5% changed" --source "refresh:$work/merged.sqlite" --no-discover --churn 0.05)
$(deep_row "metadata, 20% changed" --source "refresh:$work/merged.sqlite" --no-discover --churn 0.20)
$(deep_row "every stream, 1% changed" --source "refresh:$work/merged.sqlite" --no-discover --churn 0.01 --collect metadata,pulls,issues,runs,contributors,commits)
$(deep_row "every stream, 5% changed" --source "refresh:$work/merged.sqlite" --no-discover --churn 0.05 --collect metadata,pulls,issues,runs,contributors,commits)
$(deep_row "every stream, 20% changed" --source "refresh:$work/merged.sqlite" --no-discover --churn 0.20 --collect metadata,pulls,issues,runs,contributors,commits)

Measured on the simulated GitHub (\`scripts/bench.sh 0 refresh\`: 2,000 repositories, every
stream), a refresh costs a few percent of the first deep crawl; see the README's performance table.

## Search-based crawls

The search API returns at most 1,000 results per query and 30 queries a minute per credential.
\`plan --source search:QUERY\` cuts a query by creation time until every slice holds at most
1,000 results (one count per cut); slices that cannot be cut (over 1,000 results in one second)
are listed in \`plan.yaml\` under \`unsplittable\`, never truncated silently.

## Balanced id shards

With probes (\`--probes N\`, default 128), the planner spends a sixteenth on \`/repositories\`
probes and the rest on search counts that move each shard cut until its shard holds its share;
about three counts per cut give shards within 1.4x of each other on the simulated GitHub. A full
crawl of 1,024 shards would want about 3,000 counts: 100 minutes of one credential's search
budget, 10 minutes with ten. Without counts, shards follow the probes' density model, and an
even id split (\`--probes 0\`) is what the tables above use.

## Limits

- A matrix holds at most 256 jobs; \`plan\` uses up to \`--max-waves\` (4) matrices run one after
  another, so one plan covers at most 1,024 shards. Larger crawls take several plans, or fewer,
  longer jobs on self-hosted runners (\`--job-hours\`).
- GitHub's terms restrict hosted runners to the repository's own project and forbid sharing
  tokens to exceed rate limits: large crawls run on self-hosted runners with a GitHub App whose
  installations each carry their own budget.
MD
} >"$out"
echo "wrote $out"
