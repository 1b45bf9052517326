#!/usr/bin/env bash
# Lints the GitHub workflows with actionlint (installed through the Go module proxy when missing).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bin="$(command -v actionlint || true)"
if [[ -z "$bin" ]]; then
  gobin="$(go env GOPATH)/bin"
  [[ -x "$gobin/actionlint" ]] || go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
  bin="$gobin/actionlint"
fi
cd "$root"
exec "$bin" "$@"
