#!/usr/bin/env bash
# The steps of the composite GitHub Action (action.yml at the repository root): install the package
# from the action's own checkout, run the checks, write the docs page and badge, and hand GitHub the
# outputs. Every input arrives as an INPUT_* environment variable (action.yml maps them), so this
# script runs the same outside GitHub, which is how tests/test_github_action.py runs it.
#
#   INPUT_CONFIG      target file (conformance run --config)
#   INPUT_BASE_URL    base URL, /v1 included (--base-url); without it and without a config: the embedded mock
#   INPUT_API_KEY     API key (passed as OPENAI_API_KEY, never on a command line; masked in the log)
#   INPUT_MODEL       chat model (--model)
#   INPUT_GATE        compatible (default) or strict (--gate)
#   INPUT_ARGS        more `conformance run` arguments, split as a shell would (quotes kept), never evaluated
#   INPUT_OUT         output directory (default openai-compat)
#   INPUT_DOCS        true (default): also `conformance docs` into OUT/site (page, badge, JUnit, summary)
#   INPUT_FAIL        true (default): the step fails when the CI gate does; false: only the outputs say so
#   INPUT_INSTALL     true (default): pip install the package from the action's checkout first
#   INPUT_PYTHON      the Python to use (default: python, as actions/setup-python puts it on PATH)
#
# Outputs (to $GITHUB_OUTPUT): exit-code, passes (true|false), certified (true|false), results (the
# results.json path), site (the docs directory, when written). `conformance run` itself appends the
# step summary to $GITHUB_STEP_SUMMARY and, with GITHUB_ACTIONS=true, prints one ::error annotation
# per feature whose judgement fails the gate.
set -uo pipefail

ACTION_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${INPUT_PYTHON:-python}
OUT=${INPUT_OUT:-openai-compat}

if [ "${INPUT_INSTALL:-true}" = "true" ]; then
  "$PYTHON" -m pip install --quiet --disable-pip-version-check "$ACTION_DIR" || {
    echo "::error title=openai-conformance::pip install of $ACTION_DIR failed"
    exit 2
  }
fi

args=(run --out "$OUT")
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
[ -n "${INPUT_BASE_URL:-}" ] && args+=(--base-url "$INPUT_BASE_URL")
[ -n "${INPUT_MODEL:-}" ] && args+=(--model "$INPUT_MODEL")
[ -n "${INPUT_GATE:-}" ] && args+=(--gate "$INPUT_GATE")
if [ -n "${INPUT_ARGS:-}" ]; then
  # split as a shell would, quotes kept together (--header 'api-key: ...'), but never evaluated
  mapfile -t extra < <("$PYTHON" -c 'import shlex, sys; print("\n".join(shlex.split(sys.argv[1])))' "$INPUT_ARGS")
  args+=("${extra[@]}")
fi
if [ -n "${INPUT_API_KEY:-}" ]; then
  echo "::add-mask::$INPUT_API_KEY"
  export OPENAI_API_KEY="$INPUT_API_KEY"
fi

"$PYTHON" -m conformance "${args[@]}"
code=$?

results="$OUT/results.json"
output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    echo "$1=$2" >> "$GITHUB_OUTPUT"
  fi
}
output exit-code "$code"
if [ -f "$results" ]; then
  output results "$results"
  "$PYTHON" - "$results" <<'EOF' | while IFS='=' read -r name value; do output "$name" "$value"; done
import json
import sys

results = json.load(open(sys.argv[1], encoding="utf-8"))
print(f"passes={str(bool((results.get('gate') or {}).get('passes'))).lower()}")
print(f"certified={str(bool(results.get('certified'))).lower()}")
EOF
  if [ "${INPUT_DOCS:-true}" = "true" ]; then
    if "$PYTHON" -m conformance docs "$results" --out "$OUT/site"; then
      output site "$OUT/site"
    fi
  fi
else
  output passes false
  output certified false
fi

if [ "${INPUT_FAIL:-true}" = "true" ]; then
  exit "$code"
fi
exit 0
