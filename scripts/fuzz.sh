#!/usr/bin/env bash
# A long property-test session over every parser of outside input (tests/fuzz.rs): source specs,
# manifests, Link headers, merge input detection. CI runs the default (256 cases per property,
# 32 per merge property); here PROPTEST_CASES sets every property's count, merges included.
#   scripts/fuzz.sh [CASES]      (default 20000)
# Debug build on purpose (overflow checks and debug assertions on); two test threads.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-20000}
cargo test --quiet --test fuzz --no-run
start=$(date +%s)
PROPTEST_CASES="$cases" cargo test --quiet --test fuzz -- --test-threads 2
echo "fuzz: $cases cases per property in $(($(date +%s) - start)) s"
