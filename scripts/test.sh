#!/usr/bin/env bash
# The project's test command (README "Run the tests"): formatting, lints, the whole test suite.
# The simulated GitHub runs inside the tests on 127.0.0.1. The export tests also need PostgreSQL,
# pyarrow, duckdb and datasette: scripts/services.sh installs (on first use) and starts them, and
# its OCTOSHARD_TEST_* variables tell the tests where they are. The HTML report tests open the
# report in Chromium, which scripts/browser.sh installs (on first use) and names.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== services (scripts/services.sh start)"
# Two steps, so that a failed start stops the run (set -e does not see through eval "$(...)").
services_env=$(bash scripts/services.sh start)
eval "$services_env"
echo "== browser (scripts/browser.sh)"
# Headless Chromium for the HTML report tests (OCTOSHARD_TEST_CHROMIUM); installed on first use.
browser_env=$(bash scripts/browser.sh)
eval "$browser_env"
echo "== cargo test"
cargo test --workspace --locked
