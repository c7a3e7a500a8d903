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
// in distinct scopes and reading every value back from the kernel. Then the
// failures of a first use: an unusable lock, ffi-rs throwing inside load().

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

describe('a first use that cannot succeed fails safely', () => {
  const FAILURE_TIMEOUT_MS = 20_000

  it('a process-wide lock that cannot be created: unsupported with the reason, one warning per thread, no hang', async () => {
    const run = await runNode(['failures.mjs', 'no-lock'], { cwd: DIR, timeoutMs: FAILURE_TIMEOUT_MS, env: { ...process.env, TMPDIR: '/nonexistent/tut-tmp' } })
    expect(run.code, describeChild('failures.mjs no-lock', run)).toBe(0)
    const r = resultOf<{ support: { supported: boolean; reason: string }; get: unknown; set: unknown; worker: { code: number; support: unknown }; warnings: string[] }>(run)
    expect(r, describeChild('failures.mjs no-lock reported nothing', run)).toBeDefined()
    expect(r!.support.supported).toBe(false)
    expect(r!.support.reason).toContain('/nonexistent/tut-tmp/tcp-user-timeout-')
    expect(r!.support.reason).toContain('set TMPDIR to a writable directory')
    expect(r!.get).toBeNull()
    expect(r!.set).toBe(false)
    expect(r!.worker).toEqual({ code: 0, support: r!.support })
    expect(r!.warnings).toEqual(['TUT_WARN_NATIVE_UNAVAILABLE'])
    // The main thread's and the worker's (threads share no memory to agree on one).
    expect(run.stderr.match(/\[TUT_WARN_NATIVE_UNAVAILABLE\]/g), run.stderr).toHaveLength(2)
  }, FAILURE_TIMEOUT_MS + 5_000)

  it.runIf(process.platform === 'linux')('ffi-rs throwing inside load() comes out as errno EIO, never as its own exception', async () => {
    const run = await runNode(['failures.mjs', 'library-closed'], { cwd: DIR, timeoutMs: FAILURE_TIMEOUT_MS })
    expect(run.code, describeChild('failures.mjs library-closed', run)).toBe(0)
    expect(resultOf(run), describeChild('failures.mjs library-closed', run)).toEqual({
      mode: 'library-closed',
      support: { supported: true },
      explicitSet: { code: 'TUT_ERR_SOCKOPT', errnoName: 'EIO', name: 'SocketOptionError' },
      explicitGet: { code: 'TUT_ERR_SOCKOPT', errnoName: 'EIO', name: 'SocketOptionError' },
      implicitErrors: 1,
      warnings: [],
    })
  }, FAILURE_TIMEOUT_MS + 5_000)
})
