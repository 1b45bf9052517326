#!/usr/bin/env bash
# Lints every GitHub workflow (.github/workflows/*.yml) with actionlint, pinned: the binary is
# installed once from the Go module proxy into .local/tools/bin (per checkout, no global change)
# and reinstalled when its version differs. Fails if Go is missing or actionlint cannot run.
# Arguments go to actionlint; without file arguments every workflow is linted.
set -euo pipefail
ACTIONLINT_VERSION=1.7.12
root="$(cd "$(dirname "$0")/../.." && pwd)"
bindir="$root/.local/tools/bin"
bin="$bindir/actionlint"
if [[ "$("$bin" -version 2>/dev/null | head -n1 || true)" != "v$ACTIONLINT_VERSION" ]]; then
  command -v go >/dev/null || { echo "actionlint.sh: Go is required to install actionlint" >&2; exit 2; }
  mkdir -p "$bindir"
  GOBIN="$bindir" go install "github.com/rhysd/actionlint/cmd/actionlint@v$ACTIONLINT_VERSION" >&2
fi
cd "$root"
files=()
for a in "$@"; do [[ "$a" == -* ]] || files+=("$a"); done
if [[ ${#files[@]} -eq 0 ]]; then
  exec "$bin" "$@" .github/workflows/*.yml
fi
exec "$bin" "$@"
