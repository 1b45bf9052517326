#!/usr/bin/env bash
# Builds one service's workspace closure and deploys its production bundle (dist + prod
# node_modules) into OUT: the exact step every service Dockerfile runs, so tests that run the
# deployed entrypoint test what the image contains.
#   usage: scripts/ci/deploy-bundle.sh <workspace> <out-dir> [--with-tfjs-node]
set -euo pipefail
service="$1"
out="$2"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
rm -rf "$out"
pnpm --filter "@gplay/${service}..." --filter "!@gplay/scripts" run build
# `pnpm deploy --prod` records "production" in the workspace's install state; the next `pnpm run` would
# then re-install the workspace without devDependencies (pruning jest, tsc…). Keep the state as it was.
state="$root/node_modules/.pnpm-workspace-state-v1.json"
saved="$(mktemp)"
[ -f "$state" ] && cp "$state" "$saved"
restore_state() { if [ -s "$saved" ]; then cp "$saved" "$state"; fi; rm -f "$saved"; }
trap restore_state EXIT
# --legacy: copy workspace dependencies with their dist instead of requiring injected workspace packages.
pnpm --filter "@gplay/${service}" deploy --prod --legacy "$out" >/dev/null
if [ "${3:-}" = "--with-tfjs-node" ]; then
  # Native TensorFlow in the bundle: the addon built against the tensorflow-cpu wheel's libtensorflow,
  # the recipe bootstrap.sh runs on dev machines and CI (cached in .local/tfjs-native), copied in.
  bash scripts/ci/tfjs-native.sh "$out/node_modules/@tensorflow/tfjs-node" "$root/.local/tfjs-native" --copy
fi
echo "deployed @gplay/${service} to ${out}"
