import { describe, expect, it } from 'vitest'
import { runNode } from '../helpers/child.js'
import {
  LIFECYCLES_DIR,
  LIFECYCLES_TIMEOUT_MS,
  MODES,
  WORKERS as LIFECYCLES,
  expectLifecycles,
  lifecycleArgs,
  lifecycleEnv,
} from '../helpers/worker-lifecycles.js'
import {
  BINDS,
  CHILD_TIMEOUT_MS,
  HOSTS_DIR,
  WORKERS,
  announceSkip,
  envWith,
  expectAllBound,
  notLinux,
  permissionFlags,
  resultOfRun,
  threadNames,
} from './host.js'

// Node's permission model with --allow-addons and no filesystem write at all
// (no --allow-fs-write): the core needs none. With --allow-worker the main
// thread and 4 workers bind, and the 200-worker lifecycles of workers.test.ts
// run; without it (workers are then refused) the main thread binds. Where the
// binding cannot load under it (no --allow-addons): binding-unavailable.test.ts.

const FILE = 'hosts/permission-model'
announceSkip(FILE, notLinux)

describe.skipIf(notLinux !== undefined)(
  `Node's permission model, no filesystem write (${permissionFlags({ addons: true, worker: true }).join(' ')})`,
  () => {
    it(
      `with --allow-worker: the main thread and ${WORKERS} workers bind`,
      async () => {
        const run = await runNode(
          [...permissionFlags({ addons: true, worker: true }), BINDS, 'binds', String(WORKERS)],
          { cwd: HOSTS_DIR, timeoutMs: CHILD_TIMEOUT_MS, env: envWith() },
        )
        const result = resultOfRun('permission model, workers', run)
        expect(result.tmp).toMatchObject({ writable: false, code: 'ERR_ACCESS_DENIED' })
        expectAllBound('permission model, workers', run, result, threadNames(WORKERS))
      },
      CHILD_TIMEOUT_MS + 5_000,
    )

    it(
      'without --allow-worker: the main thread binds',
      async () => {
        const run = await runNode([...permissionFlags({ addons: true, worker: false }), BINDS, 'binds', '0'], {
          cwd: HOSTS_DIR,
          timeoutMs: CHILD_TIMEOUT_MS,
          env: envWith(),
        })
        const result = resultOfRun('permission model, main thread only', run)
        expect(result.tmp).toMatchObject({ writable: false, code: 'ERR_ACCESS_DENIED' })
        expectAllBound('permission model, main thread only', run, result, threadNames(0))
      },
      CHILD_TIMEOUT_MS + 5_000,
    )

    it.for(MODES)(
      `with --allow-worker: ${LIFECYCLES} worker lifecycles, main thread %s`,
      { timeout: LIFECYCLES_TIMEOUT_MS + 5_000 },
      async ([mode]) => {
        const run = await runNode([...permissionFlags({ addons: true, worker: true }), ...lifecycleArgs(mode)], {
          cwd: LIFECYCLES_DIR,
          timeoutMs: LIFECYCLES_TIMEOUT_MS,
          env: lifecycleEnv(envWith()),
        })
        expectLifecycles(`permission model, workers (${mode})`, mode, run)
      },
    )
  },
)
