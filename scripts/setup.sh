#!/usr/bin/env bash
# Installs everything the demo, the tests and the benchmarks need on a fresh
# Linux machine that has only Node and npm: pnpm (the version pinned in
# package.json), the Debian tools the kernel tests drive (iproute2 for `ip
# netns`, procps/iproute2's `ss`), the workspace's packages, and a build of
# every package. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

want_pnpm=$(node -p "require('./package.json').packageManager.split('@')[1]")
if [ "$(pnpm --version 2>/dev/null || true)" != "$want_pnpm" ]; then
  echo "setup: installing pnpm@$want_pnpm with npm (corepack is not used: see README)"
  npm install --global --no-fund --no-audit --loglevel=error "pnpm@$want_pnpm" >/dev/null
fi

# The kernel tests need `ip` (network namespaces) and `ss`, the instruction
# counts of the benches valgrind. Only root can install them, and only root
# can use namespaces, so a non-root run skips those tests.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  command -v ip >/dev/null 2>&1 || missing+=(iproute2)
  command -v ss >/dev/null 2>&1 || missing+=(iproute2)
  command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: apt-get install ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if [ -n "${CI:-}" ]; then
  pnpm install --frozen-lockfile --reporter=silent
else
  pnpm install --reporter=silent
fi
pnpm run build > /tmp/tut-build.log 2>&1 || { cat /tmp/tut-build.log; exit 1; }
echo "setup: ready (node $(node --version), pnpm $(pnpm --version))"
