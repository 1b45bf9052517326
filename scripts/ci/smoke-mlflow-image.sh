#!/usr/bin/env bash
# Starts the MLflow image with a throwaway SQLite store and waits for its Docker HEALTHCHECK to pass.
set -euo pipefail
image="$1"
name="gplay-mlflow-smoke-$$"
docker run -d --name "$name" -e MLFLOW_BACKEND_STORE_URI=sqlite:////tmp/mlflow.db \
  -e MLFLOW_ARTIFACTS_DESTINATION=/tmp/artifacts -e MLFLOW_AUTH_ENABLED=false "$image" >/dev/null
trap 'docker logs "$name" | tail -50; docker rm -f "$name" >/dev/null' EXIT
for _ in $(seq 1 60); do
  status="$(docker inspect -f '{{.State.Health.Status}}' "$name")"
  [ "$status" = healthy ] && { echo "mlflow image healthy"; exit 0; }
  sleep 2
done
echo "mlflow image did not become healthy" >&2
exit 1
