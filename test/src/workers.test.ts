import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { describeChild, resultOf, runNode } from './helpers/child.js'
import {
  LIFECYCLES_DIR,
  LIFECYCLES_TIMEOUT_MS,
  MODES,
  SOCKETS_PER_WORKER,
  WORKERS,
  expectLifecycles,
  lifecycleArgs,
  lifecycleEnv,
} from './helpers/worker-lifecycles.js'

// Worker threads must never crash the process. ffi-rs's native binary, loaded
// by a worker and unloaded at its exit, used to leave a thread-exit destructor
// pointing into unmapped memory (SIGSEGV of the whole process), and its
// library table, written by each thread's first use, has no lock. Each mode
// runs in a child process (workers/main.mjs), so that a crash shows as the
// child's signal: 200 worker lifecycles, 8 at a time, half importing the ESM
// build and half requiring the CommonJS build, each binding 20 real sockets
// in distinct scopes and reading every value back from the kernel. Then a
// failure of ffi-rs after a working first use. The same lifecycles on hostile
// hosts (read-only /tmp, the permission model), a missing or unwritable
// TMPDIR, and workers terminated during their first use: hosts/.

const DIR = fileURLToPath(new URL('./workers/', import.meta.url))

describe.each(MODES)('worker threads, main thread %s: %s', (mode, _what) => {
  it(
    `${WORKERS} workers (ESM and CJS) bind and read ` +
      `back ${SOCKETS_PER_WORKER} sockets each, and the process exits cleanly`,
    async () => {
      const run = await runNode(lifecycleArgs(mode), {
        cwd: LIFECYCLES_DIR,
        timeoutMs: LIFECYCLES_TIMEOUT_MS,
        env: lifecycleEnv(),
      })
      expectLifecycles(`workers (${mode})`, mode, run)
    },
    LIFECYCLES_TIMEOUT_MS + 5_000,
  )
})

describe('ffi-rs failing after a working first use', () => {
  const FAILURE_TIMEOUT_MS = 20_000

  it.runIf(process.platform === 'linux')(
    'ffi-rs throwing inside load() comes out as errno EIO, never as its own exception',
    async () => {
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
    },
    FAILURE_TIMEOUT_MS + 5_000,
  )
})
