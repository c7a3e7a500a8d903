import { beforeAll, describe, expect, it } from 'vitest'
import { runCommand } from '../helpers/child.js'
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
  cannotWrap,
  envWith,
  expectAllBound,
  notLinux,
  notRoot,
  readOnlyTmp,
  resultOfRun,
  skipUnlessCI,
  threadNames,
} from './host.js'

// A read-only /tmp (container platforms' hardened default): the core needs no
// writable filesystem. The child runs in a mount namespace of its own where
// /tmp is bound read-only onto itself (root: unshare + mount), with no TMPDIR,
// so os.tmpdir() is that /tmp. The main thread and 4 workers bind; then the
// 200-worker lifecycles of workers.test.ts run there too.

const FILE = 'hosts/read-only-tmp'
announceSkip(FILE, notLinux)

describe.skipIf(notLinux !== undefined)('a read-only /tmp', () => {
  let cannot: string | undefined
  beforeAll(async () => {
    cannot = notRoot ?? (await cannotWrap(readOnlyTmp, 'a read-only /tmp in a mount namespace'))
  })

  it(
    `the main thread and ${WORKERS} workers bind`,
    async (ctx) => {
      if (cannot !== undefined) skipUnlessCI(ctx, FILE, cannot)
      const [command, args] = readOnlyTmp(process.execPath, [BINDS, 'binds', String(WORKERS)])
      const run = await runCommand(command, args, { cwd: HOSTS_DIR, timeoutMs: CHILD_TIMEOUT_MS, env: envWith() })
      const result = resultOfRun('read-only /tmp', run)
      expect(result.tmp).toEqual({ dir: '/tmp', writable: false, code: 'EROFS' })
      expectAllBound('read-only /tmp', run, result, threadNames(WORKERS))
    },
    CHILD_TIMEOUT_MS + 5_000,
  )

  it.for(MODES)(
    `${LIFECYCLES} worker lifecycles, main thread %s`,
    { timeout: LIFECYCLES_TIMEOUT_MS + 5_000 },
    async ([mode], ctx) => {
      if (cannot !== undefined) skipUnlessCI(ctx, FILE, cannot)
      const [command, args] = readOnlyTmp(process.execPath, lifecycleArgs(mode))
      const run = await runCommand(command, args, {
        cwd: LIFECYCLES_DIR,
        timeoutMs: LIFECYCLES_TIMEOUT_MS,
        env: lifecycleEnv(envWith()),
      })
      expectLifecycles(`read-only /tmp, workers (${mode})`, mode, run)
    },
  )
})
