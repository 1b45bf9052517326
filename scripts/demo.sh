#!/usr/bin/env bash
# The demo: on a fresh machine, sets everything up and runs the platform locally on the real
# stand-ins (moto for S3/DynamoDB/EventBridge/SQS, a real MLflow server). Ctrl-C stops what it started.
set -euo pipefail
# A relative --data DIR means from where the demo was called (as under pnpm, which sets INIT_CWD).
export INIT_CWD="${INIT_CWD:-$PWD}"
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$ROOT"
exec node --conditions=@gplay/source --import tsx scripts/src/demo/cli.ts "$@"
