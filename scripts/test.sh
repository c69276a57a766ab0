#!/usr/bin/env bash
# The project's test command (README "Run the tests"): formatting, lints, the whole test suite.
# Needs only the Rust toolchain; the simulated GitHub runs inside the tests on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
