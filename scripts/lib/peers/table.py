"""The peers section's Markdown table (scripts/lib/peers/peers.sh writes results.tsv:
work, tool, units, per (repos|items), truth, wall s, peak KiB, rows, exit, early retries, faults met; or work, tool,
"not run: ...").

  table.py RESULTS PINS UNIVERSE ITEMS_REPOS ITEMS1_REPOS FAULT_REPOS SECONDS
"""
import os
import sys

results, pins, universe, items_repos, items1_repos, fault_repos, seconds = sys.argv[1:8]
cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
print(f"Machine: {os.cpu_count()} CPUs (nproc), {cpu}. fakehub: {int(universe):,} repositories, seed 53, "
      "20 ms a request, one token, budgets raised so none runs out.")
print(f"Peers: {pins} (PyPI, own venv). github-to-sqlite and Perceval reach fakehub through "
      "scripts/lib/peers/redirect/sitecustomize.py (sends https://api.github.com requests to fakehub and puts "
      "https://api.github.com back in its answers' URLs; nothing else). The PyGithub script (pygithub_crawl.py: "
      "get_repos(since=...) then get_repo() each) runs with PyGithub's retries but without its default 0.25 s "
      "between requests (with it: + units x 0.25 s).")
print("Units: what fakehub charged (core requests + GraphQL points + search requests), read server-side "
      "(GET /_fakehub/stats), the same for every tool. Issues + pull requests of "
      + ", ".join(items_repos.split()) + " (the 3 busiest with at most 120 items each); under faults of "
      + ", ".join(items1_repos.split()) + f"; metadata under faults: the first {int(fault_repos):,} repositories.")
print()
print("| work | tool | units | units per 1,000 repos / per 100 items | wall s | peak MiB | rows (of truth) | exit |")
print("|---|---|---:|---:|---:|---:|---|---|")
for line in open(results):
    f = line.rstrip("\n").split("\t")
    if len(f) == 3:
        print(f"| {f[0]} | {f[1]} | | | | | | {f[2]} |")
        continue
    work, tool, units, per, truth, wall, peak, rows, code, early, faults = f
    units, truth, rows = int(units), int(truth), int(rows)
    scale = 1000 if per == "repos" else 100
    ratio = f"{units * scale / truth:,.1f} per {'1,000 repos' if per == 'repos' else '100 items'}" if truth else "-"
    lost = truth - rows
    got = f"{rows:,} of {truth:,}" + (f" (**{lost:,} lost**)" if lost > 0 else "")
    status = {"0": "0", "124": "124 (timed out)"}.get(code, code)
    if int(faults):
        status += f" ({int(faults):,} faults met)"
    elif "%" in work:
        status += " (no fault met)"
    if int(early):
        status += f"; {int(early):,} requests before retry-after"
    print(f"| {work} | {tool} | {units:,} | {ratio} | {float(wall):.1f} | {int(peak) / 1024:,.0f} | {got} | {status} |")
print()
print(f"Section time: {int(seconds) // 60} min {int(seconds) % 60} s (installing the peers included).")
