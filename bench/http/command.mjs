// The command that reproduces a run, for the result file and its markdown:
// `node bench/x.mjs` when the bench ran on the `node` of PATH, else the
// scripts/node-bin.sh line that yields the binary it ran on (Node 24 figures).
import { realpathSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { QUICK } from '../lib/result.mjs'

export const NODE_MAJOR = Number(process.versions.node.split('.')[0])

function pathNode() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      return realpathSync(join(dir, 'node'))
    } catch {
      // Not in this directory.
    }
  }
  return undefined
}

export function commandFor(script) {
  const node = pathNode() === realpathSync(process.execPath) ? 'node' : `"$(scripts/node-bin.sh ${NODE_MAJOR})"`
  return `${node} bench/${script}${QUICK ? ' --quick' : ''}`
}
