#!/usr/bin/env bash
# Smoke-runs a Node service image the way ECS starts it.
#   batch tasks (featstore-engine, training): with no configuration the entrypoint must load every
#   module and refuse to start with one message naming the missing variables (exit 1);
#   the api: it must start and pass its Docker HEALTHCHECK (/healthz) with a minimal configuration.
set -euo pipefail
image="$1"
kind="$2"
if [ "$kind" = batch ]; then
  set +e
  output="$(docker run --rm "$image" 2>&1)"
  code=$?
  set -e
  echo "$output" | tail -5
  [ "$code" = 1 ] && echo "$output" | grep -q "Invalid configuration" && echo "$image refuses an empty configuration as it should" && exit 0
  echo "$image: expected exit 1 with 'Invalid configuration', got $code" >&2
  exit 1
fi
name="gplay-api-smoke-$$"
docker run -d --name "$name" -e GPLAY_PREFIX=gplay-smoke -e GPLAY_READY_REQUIRES_MODEL=false \
  -e GPLAY_API_KEYS='[{"name":"smoke","key":"smoke-key-0123456789"}]' -e GPLAY_AWS_ENDPOINT=http://127.0.0.1:9 \
  "$image" >/dev/null
trap 'docker logs "$name" 2>&1 | tail -30; docker rm -f "$name" >/dev/null' EXIT
for _ in $(seq 1 40); do
  [ "$(docker inspect -f '{{.State.Health.Status}}' "$name")" = healthy ] && { echo "api image healthy"; exit 0; }
  sleep 2
done
echo "api image did not become healthy" >&2
exit 1
