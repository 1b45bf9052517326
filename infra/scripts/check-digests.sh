#!/usr/bin/env bash
# Checks the image digests a deployment is given (CI's build output or a workflow_dispatch input):
# a JSON object with exactly featstoreEngine, training, api and mlflow, each sha256:<64 hex>.
# The program validates them again (src/plan/config.ts); this fails the job before any AWS call.
set -euo pipefail
digests="${1:-}"
valid() {
  [[ -n "$digests" ]] || return 1
  jq -e '
  type == "object"
  and (keys == ["api", "featstoreEngine", "mlflow", "training"])
  and (map(type == "string" and test("^sha256:[0-9a-f]{64}$")) | all)
' <<<"$digests" >/dev/null 2>&1
}
valid || {
  echo "expected {\"featstoreEngine\",\"training\",\"api\",\"mlflow\"} → sha256:<64 hex>, got: ${digests}" >&2
  exit 1
}
