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
#
# Added for AWS (all optional; without them the script behaves as above):
#   MLFLOW_DB_HOST / MLFLOW_DB_PORT (5432) / MLFLOW_DB_NAME (mlflow) / MLFLOW_DB_USER / MLFLOW_DB_PASSWORD
#   MLFLOW_DB_SSLMODE (e.g. require)  When MLFLOW_BACKEND_STORE_URI is unset and MLFLOW_DB_HOST is set,
#                                 the PostgreSQL URI is built from these WITHOUT the password, which
#                                 reaches libpq as PGPASSWORD (in AWS it comes from the RDS secret as an
#                                 ECS `secret`): never in a command line, never in a file.
#   MLFLOW_AUTH_ENABLED           default false; true runs MLflow's basic-auth app (--app-name basic-auth)
#   MLFLOW_AUTH_ADMIN_USERNAME    default admin   } read by MLflow itself when it first creates the
#   MLFLOW_AUTH_ADMIN_PASSWORD    required (secret) } admin user; never written to disk
#   MLFLOW_FLASK_SERVER_SECRET_KEY required (secret): the auth app's static CSRF key (same in all workers)
#   MLFLOW_AUTH_DATABASE_URI      default: the backend store URI (users in the same PostgreSQL)
#   MLFLOW_AUTH_DEFAULT_PERMISSION default NO_PERMISSIONS (READ, USE, EDIT, MANAGE, NO_PERMISSIONS)
#   MLFLOW_AUTH_CONFIG_PATH       an auth ini to use as is; otherwise one (no secret in it) is written at
#                                 start-up to a private temporary folder (mode 0600) from the variables
#                                 above, and removed when the server stops
#
# The store URI reaches `mlflow server` through its environment (MLFLOW_BACKEND_STORE_URI, which the
# CLI reads), not its arguments, so `ps` never shows it.
set -euo pipefail

# PostgreSQL from parts: the RDS secret gives the password alone, so the URI is assembled here.
if [[ -z "${MLFLOW_BACKEND_STORE_URI:-}" && -n "${MLFLOW_DB_HOST:-}" ]]; then
  : "${MLFLOW_DB_USER:?set MLFLOW_DB_USER with MLFLOW_DB_HOST}"
  : "${MLFLOW_DB_PASSWORD:?set MLFLOW_DB_PASSWORD with MLFLOW_DB_HOST (from the database secret)}"
  # The user is URL-encoded by name through the environment (not argv). The password stays out of the
  # URI: libpq (psycopg2, for the tracking store and the auth app alike) reads it from PGPASSWORD.
  urlencode_env() { python3 -c 'import os, sys, urllib.parse; print(urllib.parse.quote(os.environ[sys.argv[1]], safe=""))' "$1"; }
  db_user="$(urlencode_env MLFLOW_DB_USER)"
  MLFLOW_BACKEND_STORE_URI="postgresql+psycopg2://${db_user}@${MLFLOW_DB_HOST}:${MLFLOW_DB_PORT:-5432}/${MLFLOW_DB_NAME:-mlflow}"
  if [[ -n "${MLFLOW_DB_SSLMODE:-}" ]]; then
    MLFLOW_BACKEND_STORE_URI="${MLFLOW_BACKEND_STORE_URI}?sslmode=${MLFLOW_DB_SSLMODE}"
  fi
  export PGPASSWORD="${MLFLOW_DB_PASSWORD}"
  unset db_user
fi

: "${MLFLOW_BACKEND_STORE_URI:?set MLFLOW_BACKEND_STORE_URI (e.g. sqlite:////tmp/mlflow.db)}"
export MLFLOW_BACKEND_STORE_URI
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


# Basic auth: MLflow's basic-auth app, its users in MLFLOW_AUTH_DATABASE_URI (the backend store by
# default: one PostgreSQL for runs and users; supported since MLflow 3.6).
auth_args=()
auth_dir=""
case "${MLFLOW_AUTH_ENABLED:-false}" in
  true | 1)
    : "${MLFLOW_AUTH_ADMIN_PASSWORD:?set MLFLOW_AUTH_ADMIN_PASSWORD (a secret) when MLFLOW_AUTH_ENABLED=true}"
    : "${MLFLOW_FLASK_SERVER_SECRET_KEY:?set MLFLOW_FLASK_SERVER_SECRET_KEY (a secret) when MLFLOW_AUTH_ENABLED=true}"
    if [[ -z "${MLFLOW_AUTH_CONFIG_PATH:-}" ]]; then
      auth_dir="$(mktemp -d "${TMPDIR:-/tmp}/mlflow-auth.XXXXXX")"
      MLFLOW_AUTH_CONFIG_PATH="${auth_dir}/basic_auth.ini"
      # configparser interpolates '%': a URL-encoded password needs it doubled.
      auth_db_uri="${MLFLOW_AUTH_DATABASE_URI:-${MLFLOW_BACKEND_STORE_URI}}"
      (
        umask 077
        printf '[mlflow]\ndefault_permission = %s\ndatabase_uri = %s\nadmin_username = %s\nauthorization_function = mlflow.server.auth:authenticate_request_basic_auth\n' \
          "${MLFLOW_AUTH_DEFAULT_PERMISSION:-NO_PERMISSIONS}" "${auth_db_uri//%/%%}" \
          "${MLFLOW_AUTH_ADMIN_USERNAME:-admin}" >"${MLFLOW_AUTH_CONFIG_PATH}"
      )
      unset auth_db_uri
      export MLFLOW_AUTH_CONFIG_PATH
    fi
    auth_args=(--app-name basic-auth)
    ;;
  false | 0 | "") ;;
  *)
    echo "MLFLOW_AUTH_ENABLED must be true or false, got '${MLFLOW_AUTH_ENABLED}'" >&2
    exit 64
    ;;
esac

server=(
  mlflow server
  --artifacts-destination "${MLFLOW_ARTIFACTS_DESTINATION}"
  --serve-artifacts
  --host "${host}"
  --port "${port}"
  --workers "${workers}"
  ${auth_args[@]+"${auth_args[@]}"}
  ${extra[@]+"${extra[@]}"}
)

if [[ -z "${auth_dir}" ]]; then
  # exec: the server replaces this shell, so signals (docker stop, the local stack's `down`) reach it.
  exec "${server[@]}"
fi

# A generated auth ini must outlive the server (workers read it when they start) and not outlive it:
# run the server as a child, forward the stop signals to it, then remove the ini's folder.
"${server[@]}" &
server_pid=$!
trap 'kill -TERM "${server_pid}" 2>/dev/null || true' TERM INT
status=0
while :; do
  wait "${server_pid}" && status=0 || status=$?
  # `wait` returns early (status > 128) when a trapped signal arrives; go on waiting for the server.
  kill -0 "${server_pid}" 2>/dev/null || break
done
rm -rf "${auth_dir}"
exit "${status}"
