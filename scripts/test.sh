#!/usr/bin/env bash
# Runs every test of the platform on a fresh machine: lint, typecheck, then each workspace's unit and
# integration tests against the real local stack (moto + MLflow), which it starts if needed and stops
# again if it started it. Ends with one line: "tests: N passed, M failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"

results="$ROOT/.local/test-results"
rm -rf "$results" && mkdir -p "$results"

say "lint"
pnpm lint
say "typecheck"
pnpm typecheck

started_stack=0
if ! pnpm --silent stack status >/dev/null 2>&1; then
  say "starting the local stack (moto + MLflow)"
  pnpm --silent stack up
  started_stack=1
fi
stop_stack() { if [ "$started_stack" = 1 ]; then pnpm --silent stack down || true; fi; }
trap stop_stack EXIT

say "tests"
status=0
pnpm test || status=$?
node "$ROOT/scripts/summarise-tests.mjs" "$results" || status=$?
exit "$status"
