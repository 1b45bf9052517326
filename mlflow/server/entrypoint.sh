#!/usr/bin/env bash
# MLflow tracking server entrypoint: the same script runs in the container and in the local stack
# (scripts/src/local-stack/stack.ts). Everything is configured by environment variables:
#
#   MLFLOW_BACKEND_STORE_URI      required  sqlite:////abs/path/mlflow.db locally (PostgreSQL in AWS)
#   MLFLOW_ARTIFACTS_DESTINATION  required  s3://<prefix>-models/mlflow/ (proxied: --serve-artifacts)
#   MLFLOW_HOST                   default 0.0.0.0   (the local stack passes 127.0.0.1)
#   MLFLOW_PORT                   default 5000
#   MLFLOW_WORKERS                default 1         (SQLite allows one writer: keep 1 locally)
#   MLFLOW_SERVER_ALLOWED_HOSTS   default "localhost,127.0.0.1,localhost:<port>,127.0.0.1:<port>"
#                                 Host headers accepted (MLflow 3's DNS-rebinding guard); read by
#                                 MLflow itself, so it also works with --gunicorn-opts.
#   MLFLOW_SERVER_CORS_ALLOWED_ORIGINS  default "http://localhost:<port>,http://127.0.0.1:<port>"
#   MLFLOW_SERVER_ENABLE_JOB_EXECUTION  default false: MLflow 3's background job runner (huey
#                                 consumers, ~8 processes) serves GenAI features we do not use.
#   MLFLOW_EXTRA_ARGS             optional  extra `mlflow server` arguments (word-split)
# For S3 artifacts, boto3's own variables apply: AWS_REGION / AWS_DEFAULT_REGION, credentials (task
# role in AWS; AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY=testing locally) and, for the emulator only,
# MLFLOW_S3_ENDPOINT_URL.
set -euo pipefail

: "${MLFLOW_BACKEND_STORE_URI:?set MLFLOW_BACKEND_STORE_URI (e.g. sqlite:////tmp/mlflow.db)}"
: "${MLFLOW_ARTIFACTS_DESTINATION:?set MLFLOW_ARTIFACTS_DESTINATION (e.g. s3://gplay-dev-models/mlflow/)}"
host="${MLFLOW_HOST:-0.0.0.0}"
port="${MLFLOW_PORT:-5000}"
workers="${MLFLOW_WORKERS:-1}"

export MLFLOW_SERVER_ALLOWED_HOSTS="${MLFLOW_SERVER_ALLOWED_HOSTS:-localhost,127.0.0.1,localhost:${port},127.0.0.1:${port}}"
export MLFLOW_SERVER_CORS_ALLOWED_ORIGINS="${MLFLOW_SERVER_CORS_ALLOWED_ORIGINS:-http://localhost:${port},http://127.0.0.1:${port}}"

export MLFLOW_SERVER_ENABLE_JOB_EXECUTION="${MLFLOW_SERVER_ENABLE_JOB_EXECUTION:-false}"

extra=()
if [[ -n "${MLFLOW_EXTRA_ARGS:-}" ]]; then
  read -r -a extra <<<"${MLFLOW_EXTRA_ARGS}"
fi

# exec: the server replaces this shell, so signals (docker stop, the local stack's `down`) reach it.
exec mlflow server \
  --backend-store-uri "${MLFLOW_BACKEND_STORE_URI}" \
  --artifacts-destination "${MLFLOW_ARTIFACTS_DESTINATION}" \
  --serve-artifacts \
  --host "${host}" \
  --port "${port}" \
  --workers "${workers}" \
  ${extra[@]+"${extra[@]}"}
