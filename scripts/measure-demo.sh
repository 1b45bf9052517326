#!/usr/bin/env bash
# Measures the demo as a new user meets it, so the README's timings come from a run, not a guess:
#   1. fresh: a new clone of this commit (empty .local: Node, pnpm, dependencies, Python venv, stack,
#      data, ingestion, training) until the api serves (the demo's banner); then Ctrl-C, which also
#      stops the stack the demo started;
#   2. warm: the demo again in that clone (everything installed, the stack restarted empty, so it
#      ingests and trains again);
#   3. re-run on a running stack: `pnpm stack up` first, the demo twice; the second run is timed
#      (it reuses the ingested data and the model).
# Prints one line per measure and the machine's load; exits non-zero if a run fails.
# Usage: scripts/measure-demo.sh [--keep]   (--keep leaves the clone in /tmp for inspection)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CLONE="$(mktemp -d /tmp/gplay-measure-XXXXXX)"
keep=0; [ "${1:-}" = "--keep" ] && keep=1
cleanup() {
  # The stack the measures left running (the third one starts it on purpose).
  (cd "$CLONE" && source scripts/bootstrap.sh >/dev/null 2>&1 && pnpm --silent stack down --force >/dev/null 2>&1) || true
  if [ "$keep" = 0 ]; then rm -rf "$CLONE"; else echo "clone kept in $CLONE" >&2; fi
}
trap cleanup EXIT

git clone --quiet "$ROOT" "$CLONE"
git -C "$CLONE" checkout --quiet "$(git -C "$ROOT" rev-parse HEAD)"

# Runs the demo until its banner, interrupts it, prints the seconds to the banner.
timed_demo() {
  local log="$1" start end pid
  start=$(date +%s.%N)
  (cd "$CLONE" && GPLAY_DEMO_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" \
    exec setsid ./scripts/demo.sh) >"$log" 2>&1 &
  pid=$!
  until grep -q "Ctrl-C stops everything this demo started." "$log"; do
    if ! kill -0 "$pid" 2>/dev/null; then echo "the demo failed; its output:" >&2; tail -40 "$log" >&2; return 1; fi
    sleep 1
  done
  end=$(date +%s.%N)
  kill -INT -- "-$pid" 2>/dev/null || kill -INT "$pid"
  wait "$pid" || true
  python3 -c "print(round($end - $start))"
}

echo "measuring on $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); logs in $CLONE/.local/measure-*.log" >&2
mkdir -p "$CLONE/.local"
fresh=$(timed_demo "$CLONE/.local/measure-fresh.log")
echo "fresh clone to a serving api with a promoted model: ${fresh} s"
warm=$(timed_demo "$CLONE/.local/measure-warm.log")
echo "warm (installed; the stack restarted empty, so it ingests and trains again): ${warm} s"
(cd "$CLONE" && source scripts/bootstrap.sh >/dev/null 2>&1 && pnpm --silent stack up >/dev/null 2>&1)
timed_demo "$CLONE/.local/measure-first-on-running.log" >/dev/null
rerun=$(timed_demo "$CLONE/.local/measure-rerun.log")
echo "re-run on a running stack (reuses data, ingestions and the model): ${rerun} s"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
