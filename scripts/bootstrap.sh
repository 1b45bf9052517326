#!/usr/bin/env bash
# Sourced by scripts/test.sh and scripts/demo.sh (and by you: `source scripts/bootstrap.sh` puts the
# project's Node and pnpm on PATH in your shell). Makes a fresh machine ready with nothing but Node >= 20
# (with npm) and Python >= 3.10: when the system's Node is older than production's major (22, the
# services' images), installs production's exact Node from the npm registry package
# node-linux-<arch> into .local/node; installs the pinned pnpm into .local/tools and the workspace
# dependencies from the lockfile, and builds tfjs-node's native addon (scripts/ci/tfjs-native.sh). No global
# changes. Idempotent and quick when already done.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GPLAY_ROOT="$ROOT"
PNPM_VERSION="$(node -p "require('$ROOT/package.json').packageManager.split('@')[1]")"

say() { printf '\033[1;34m[gplay]\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[1;31m[gplay] %s\033[0m\n' "$*" >&2; exit 1; }

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
[ "$node_major" -ge 20 ] || fail "Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))."
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null \
  || fail "Python >= 3.10 is required (found: $(python3 --version 2>/dev/null || echo none))."

# Production's Node: the version the service images are built FROM (api/Dockerfile's NODE_VERSION).
NODE_PRODUCTION="$(sed -n 's/^ARG NODE_VERSION=//p' "$ROOT/api/Dockerfile")"
if [ "$node_major" -lt "${NODE_PRODUCTION%%.*}" ]; then
  case "$(uname -m)" in
    x86_64) node_arch=x64 ;;
    aarch64 | arm64) node_arch=arm64 ;;
    *) fail "no node-linux package for $(uname -m): install Node ${NODE_PRODUCTION%%.*} yourself." ;;
  esac
  NODE_HOME="$ROOT/.local/node/node_modules/node-linux-$node_arch"
  if [ "$("$NODE_HOME/bin/node" --version 2>/dev/null || true)" != "v$NODE_PRODUCTION" ]; then
    say "installing Node $NODE_PRODUCTION (as in production) into .local/node; the system has $(node --version)"
    npm install --silent --no-audit --no-fund --prefix "$ROOT/.local/node" "node-linux-$node_arch@$NODE_PRODUCTION" >/dev/null
    [ "$("$NODE_HOME/bin/node" --version 2>/dev/null || true)" = "v$NODE_PRODUCTION" ] \
      || fail "could not install Node $NODE_PRODUCTION from the npm package node-linux-$node_arch."
  fi
  export PATH="$NODE_HOME/bin:$PATH"
fi

TOOLS="$ROOT/.local/tools"
if [ "$("$TOOLS/node_modules/.bin/pnpm" --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  say "installing pnpm $PNPM_VERSION into .local/tools"
  # corepack's signature check fails on some machines; a pinned npm install does not.
  npm install --silent --no-audit --no-fund --prefix "$TOOLS" "pnpm@$PNPM_VERSION" >/dev/null
fi
export PATH="$TOOLS/node_modules/.bin:$PATH"

stamp="$ROOT/node_modules/.gplay-install-stamp"
lock_hash="$(sha256sum "$ROOT/pnpm-lock.yaml" "$ROOT/pnpm-workspace.yaml" | sha256sum | cut -c1-16)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$lock_hash" ]; then
  say "installing workspace dependencies (pnpm install --frozen-lockfile)"
  (cd "$ROOT" && pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -vE '^(Progress|Downloading)' >&2)
  echo "$lock_hash" > "$stamp"
fi

# Native TensorFlow for tfjs-node: the addon built against the tensorflow-cpu wheel's libtensorflow,
# cached in .local/tfjs-native (rebuilt only when tfjs-node's or the wheel's version changes). The
# training image runs the same script, so dev, CI and production share one libtensorflow. Without it
# (no compiler, another CPU) training falls back to the wasm backend with the same model code.
tfjs_node_dir="$(node -p "require('node:path').dirname(require.resolve('@tensorflow/tfjs-node/package.json', { paths: ['$ROOT/training'] }))" 2>/dev/null || true)"
if [ -n "$tfjs_node_dir" ] && ! bash "$ROOT/scripts/ci/tfjs-native.sh" "$tfjs_node_dir" "$ROOT/.local/tfjs-native"; then
  say "tfjs-node's native addon is unavailable: training runs on the wasm backend on this machine"
fi
