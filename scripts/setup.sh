#!/usr/bin/env bash
# Sets up a fresh clone: the Debian packages the interop suite talks to (real libzmq
# peers: python3-zmq with numpy, run with /usr/bin/python3), then the npm packages.
# Used by the README's first command and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c "import zmq, numpy" 2>/dev/null; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3-zmq python3-numpy >/dev/null
  else
    echo "setup: install python3-zmq and python3-numpy (Debian) for the interop tests" >&2
  fi
fi
# The epgm:// interop test (test/pgm/interop.test.ts, as root) makes a network namespace (iproute2)
# and drops datagrams at random with iptables (the kernel here has no tc netem).
if ! command -v iptables >/dev/null 2>&1 || ! command -v ip >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 iptables >/dev/null || true
  fi
fi
# IPython parallel, for the cluster benchmark only (npm run bench compares with it); tests don't need it.
if [ "${ZMQ_TS_SKIP_IPYPARALLEL:-}" != 1 ] && ! /usr/bin/python3 -c "import ipyparallel" 2>/dev/null \
  && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-ipyparallel >/dev/null \
    || echo "setup: python3-ipyparallel not installed; bench/cluster.ts will skip IPython parallel" >&2
fi
if [ "${CI:-}" = "true" ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
