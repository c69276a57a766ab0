#!/usr/bin/env bash
# The action's "Build from source" step (action.yml runs this file; scripts/test-action-install.sh
# runs it too): builds the action's own checkout with cargo into $ROOT/bin, the fallback when no
# release asset fits (or none was asked for). The action caches $ROOT by a hash of the sources.
#
# Environment: ACTION_PATH (the action's checkout), ROOT, CARGO_TARGET_DIR (optional).
set -euo pipefail
cargo --version
cargo install --locked --path "$ACTION_PATH" --root "$ROOT"
"$ROOT/bin/octoshard" --version
