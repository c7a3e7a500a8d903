// Compiles the C variants at bench time into a temporary directory (removed
// at exit). A missing compiler or missing Node headers skips the variant
// with the reason instead of failing the bench.
import os from 'node:os'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
const CC = process.env.CC || 'cc'

/** Node's own headers: the ones matching the running binary's N-API. */
export const NODE_INCLUDE = join(dirname(process.execPath), '..', 'include', 'node')

let dir = null
function tmp() {
  if (dir === null) {
    dir = mkdtempSync(join(os.tmpdir(), 'tut-bench-ffi-'))
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
  }
  return dir
}

function compilerMissing() {
  try {
    execFileSync(CC, ['--version'], { stdio: 'ignore' })
    return null
  } catch (error) {
    return `no C compiler (\`${CC} --version\` failed: ${error.code ?? error.message})`
  }
}

function compile(args, out) {
  try {
    execFileSync(CC, [...args, '-o', out], { stdio: ['ignore', 'ignore', 'pipe'] })
    return { path: out }
  } catch (error) {
    return {
      skipped: `\`${CC} ${args.join(' ')}\` failed: ${
        String(error.stderr ?? error.message)
          .trim()
          .split('\n')[0]
      }`,
    }
  }
}

/** { path } of the C loop binary, or { skipped: reason }. */
export function buildCLoop() {
  const missing = compilerMissing()
  if (missing) return { skipped: missing }
  return compile(['-O2', join(HERE, 'cloop.c')], join(tmp(), 'cloop'))
}

/** { path } of the N-API addon, or { skipped: reason }. */
export function buildAddon() {
  const missing = compilerMissing()
  if (missing) return { skipped: missing }
  if (!existsSync(join(NODE_INCLUDE, 'node_api.h')))
    return { skipped: `no Node headers (${join(NODE_INCLUDE, 'node_api.h')} missing)` }
  return compile(['-O2', '-shared', '-fPIC', `-I${NODE_INCLUDE}`, join(HERE, 'addon.c')], join(tmp(), 'addon.node'))
}
