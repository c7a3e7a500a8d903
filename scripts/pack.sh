#!/usr/bin/env bash
# Packs every publishable package (packages/*, not private) from its current
# build into one folder, as `pnpm publish` would ship it (workspace:^ ranges
# rewritten to real ones), and prints the tarballs. Install them into another
# project with npm, the core's tarball together with the adapter's (npm
# cannot find an unpublished core by its range):
#   npm run tarballs -- ~/tarballs      # from this folder: sets up, builds, packs
#   npm i ~/tarballs/tcp-user-timeout-core-*.tgz ~/tarballs/tcp-user-timeout-express-*.tgz
# The packaging test packs and installs the packages this way.
#   Usage: scripts/pack.sh [destination folder, default .cache/tarballs]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pnpm-env.sh
dest=${1:-.cache/tarballs}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
for manifest in packages/*/package.json; do
  dir=$(dirname "$manifest")
  [ "$(node -p "Boolean(require('./$manifest').private)")" = true ] && continue
  [ -f "$dir/dist/index.js" ] || { echo "pack: $dir has no build; run \`npm run setup\` first" >&2; exit 1; }
  (cd "$dir" && pnpm pack --pack-destination "$dest" >/dev/null)
done
ls -1 "$dest"/*.tgz
