#!/usr/bin/env bash
# Sourced by scripts/test.sh and scripts/demo.sh: makes a fresh machine ready with nothing but
# Node >= 20 and Python >= 3.10. Installs the pinned pnpm into .local/tools (no global changes)
# and the workspace dependencies from the lockfile. Idempotent and quick when already done.
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
