#!/usr/bin/env bash
# Runs the test suite on another Node major version (installed by
# scripts/node-bin.sh), against the packages built by scripts/setup.sh.
# Everything that starts Node (pnpm, vitest's forks, the child processes the
# tests spawn) takes it from PATH or process.execPath, so putting that
# version first on PATH is enough. CI runs it for 22, 24 and 26 after the
# machine's Node 20. The type checks (tsc, tstyche) do not depend on the
# Node that runs them: the README's test command runs them once, and this
# runs the vitest suite only.   Usage: scripts/test-node.sh 26
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:?usage: scripts/test-node.sh <major version>}
bin=$(bash scripts/node-bin.sh "$major")
export PATH="$(dirname "$bin"):$PATH"
echo "test-node: $(node --version) ($bin)"
source scripts/pnpm-env.sh
# No colour codes in a log: vitest's reporter colours whatever TERM says.
[ -t 1 ] || export NO_COLOR=1
pnpm --filter @tcp-user-timeout/tests exec vitest run
