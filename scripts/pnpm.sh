#!/usr/bin/env bash
# Runs the project's own pnpm (scripts/pnpm-env.sh), with it first on PATH for
# everything it starts.   Usage: scripts/pnpm.sh <pnpm arguments>
set -euo pipefail
source "$(dirname "$0")/pnpm-env.sh"
exec pnpm "$@"
