#!/usr/bin/env bash
# Prints the path of a Node.js binary of the given major version, installing
# it first from the npm registry (the node-linux-<arch> package) into .cache/node/.
# Used by the benches (Node 24 figures) and the CI matrix; nvm and corepack
# are not needed.   Usage: scripts/node-bin.sh 24
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:?usage: scripts/node-bin.sh <major version>}
case "$major" in *[!0-9]*) echo "node-bin: the major version must be a number, got '$major'" >&2; exit 2 ;; esac
if [ "$(node -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
  command -v node
  exit 0
fi
pkg=node-linux-$(node -p process.arch)
dir=.cache/node/$major
bin=$dir/node_modules/$pkg/bin/node
if [ ! -x "$bin" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --cache "$PWD/.cache/npm" --logs-dir "$PWD/.cache/npm/_logs" --no-save --no-package-lock --no-fund --no-audit --loglevel=error "$pkg@$major" >&2
fi
echo "$PWD/$bin"
