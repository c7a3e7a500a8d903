#!/usr/bin/env bash
# Installs what the demo, the tests or the benchmarks need, on a Linux
# machine that has only Node and npm, and changes nothing outside this
# folder but what it says it installs:
#   - pnpm, the version pinned in package.json, into .cache/pnpm/ (never
#     globally; its store, cache and state are under .cache/ too);
#   - the Debian tools the kernel tests drive (`ip` and `ss`, from iproute2)
#     and, for `bench`, valgrind: only when one is missing, only as root
#     (only root can use network namespaces: a non-root run skips those
#     tests and says why), and saying so first;
#   - the workspace's packages, and a build of every package (its log under
#     .cache/logs/, one file per run).
# Safe to run again: each step is skipped when already done.
#   Usage: scripts/setup.sh [demo|test|bench]   (default: test)
set -euo pipefail
cd "$(dirname "$0")/.."
purpose=${1:-test}
case "$purpose" in demo | test | bench) ;; *) echo "setup: unknown purpose '$purpose'; one of demo, test, bench" >&2; exit 2 ;; esac

source scripts/pnpm-env.sh

declare -A needs=([ip]=iproute2 [ss]=iproute2)
[ "$purpose" = bench ] && needs[valgrind]=valgrind
missing=()
for tool in "${!needs[@]}"; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${needs[$tool]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages ${packages}(a tool the ${purpose} needs is missing)"
    apt-get update -qq >/dev/null
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >/dev/null
  else
    echo "setup: not installing ${packages}(needs root and apt-get); what needs it will say so and skip"
  fi
fi

if [ -n "${CI:-}" ]; then
  pnpm install --frozen-lockfile --reporter=silent
else
  pnpm install --reporter=silent
fi
mkdir -p .cache/logs
log=.cache/logs/build-$(date +%Y%m%d-%H%M%S)-$$.log
pnpm run build >"$log" 2>&1 || { cat "$log"; echo "setup: the build failed; its log: $log" >&2; exit 1; }
# Keep the ten newest build logs.
ls -1t .cache/logs/build-*.log 2>/dev/null | tail -n +11 | xargs -r rm -f
echo "setup: ready (node $(node --version), pnpm $(pnpm --version))"
