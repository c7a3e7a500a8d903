import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { describeChild, resultOf, runNode } from './helpers/child.js'

// Worker threads must never crash the process. ffi-rs's native binary, loaded
// by a worker and unloaded at its exit, used to leave a thread-exit destructor
// pointing into unmapped memory (SIGSEGV of the whole process), and its
// library table, written by each thread's first use, has no lock. Each mode
// runs in a child process (workers/main.mjs), so that a crash shows as the
// child's signal: 200 worker lifecycles, 8 at a time, half importing the ESM
// build and half requiring the CommonJS build, each binding 20 real sockets
// in distinct scopes and reading every value back from the kernel.

const DIR = fileURLToPath(new URL('./workers/', import.meta.url))
const WORKERS = 200
const SOCKETS_PER_WORKER = 20
const CHILD_TIMEOUT_MS = 45_000

interface Result {
  mode: string
  node: string
  completed: number
  builds: { esm: number; cjs: number }
  values: number
  wrong: unknown[]
  unsupported: unknown[]
  failures: unknown[]
  main: { support: { supported: boolean }; values: number; wrong: unknown[] } | null
  ms: number
}

describe.each([
  ['before', 'the main thread imports and uses the core before the workers start'],
  ['during', 'the main thread imports and uses the core while the workers run'],
  ['never', 'the main thread never loads the core'],
] as const)('worker threads, main thread %s: %s', (mode, _what) => {
  it(`${WORKERS} workers (ESM and CJS) bind and read back ${SOCKETS_PER_WORKER} sockets each, and the process exits cleanly`, async () => {
    const run = await runNode(['main.mjs', mode], { cwd: DIR, timeoutMs: CHILD_TIMEOUT_MS, env: { ...process.env, WORKERS: String(WORKERS) } })
    expect(run.timedOut, describeChild(`workers (${mode})`, run)).toBe(false)
    expect(run.signal, describeChild(`workers (${mode})`, run)).toBeNull()
    expect(run.code, describeChild(`workers (${mode})`, run)).toBe(0)
    const result = resultOf<Result>(run)
    expect(result, describeChild(`workers (${mode}) reported nothing`, run)).toBeDefined()
    const r = result!
    expect(r.node).toBe(process.version)
    expect(r.failures).toEqual([])
    expect(r.completed).toBe(WORKERS)
    expect(r.builds).toEqual({ esm: WORKERS / 2, cjs: WORKERS / 2 })
    expect(r.unsupported).toEqual([])
    expect(r.values).toBe(WORKERS * SOCKETS_PER_WORKER)
    expect(r.wrong).toEqual([])
    if (mode === 'never') {
      expect(r.main).toBeNull()
    } else {
      expect(r.main).toEqual({ support: { supported: true }, values: SOCKETS_PER_WORKER, wrong: [] })
    }
    console.log(`workers (${mode}, node ${r.node}): ${r.completed} lifecycles, ${r.values} sockets read back, ${r.ms} ms`)
  }, CHILD_TIMEOUT_MS + 5_000)
})
