# Sourced by the project's scripts: puts the project's own pnpm (the version
# pinned in package.json's packageManager) first on PATH, installing it into
# .cache/pnpm/ first if needed. Nothing outside the project changes: no
# global pnpm, and pnpm's store, cache and state live under .cache/ too
# (corepack is not used: it fails against this registry's signatures).
tut_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tut_pnpm=$(node -p "require('$tut_root/package.json').packageManager.split('@')[1]")
tut_pnpm_dir=$tut_root/.cache/pnpm/$tut_pnpm
if [ ! -x "$tut_pnpm_dir/node_modules/.bin/pnpm" ]; then
  echo "setup: installing pnpm@$tut_pnpm into .cache/pnpm/ (for this project only)" >&2
  npm install --prefix "$tut_pnpm_dir" --cache "$tut_root/.cache/npm" --logs-dir "$tut_root/.cache/npm/_logs" --no-save --no-package-lock \
    --no-fund --no-audit --no-update-notifier --loglevel=error "pnpm@$tut_pnpm" >/dev/null
fi
export PATH="$tut_pnpm_dir/node_modules/.bin:$PATH"
export npm_config_store_dir=$tut_root/.cache/pnpm/store
export npm_config_cache_dir=$tut_root/.cache/pnpm/cache
export npm_config_state_dir=$tut_root/.cache/pnpm/state
export npm_config_update_notifier=false
# tsc and vite turn on Node's compile cache (22.1+), which writes under
# os.tmpdir(): nothing of the project's runs belongs there.
export NODE_DISABLE_COMPILE_CACHE=1
