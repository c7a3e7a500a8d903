import { rmSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runNode } from '../helpers/child.js'
import {
  BINDS,
  CHILD_TIMEOUT_MS,
  HOSTS_DIR,
  WORKERS,
  announceSkip,
  envWith,
  expectAllBound,
  notLinux,
  resultOfRun,
  scratchDir,
  threadNames,
} from './host.js'

// Threads terminated at any moment, during their first use of the core
// included (Piscina, BullMQ sandboxes), must cost no other thread anything:
// 40 workers are terminated around their first use (binds.mjs terminate says
// how), then the main thread and 4 fresh workers must all be supported and
// bind. (A worker terminated inside the core's old process-wide lock left it
// behind: every later thread waited 5 s for it and reported unsupported.)

const FILE = 'hosts/terminated-workers'
announceSkip(FILE, notLinux)

describe.skipIf(notLinux !== undefined)('worker threads terminated around their first use', () => {
  it(
    `40 terminated workers, then the main thread and ${WORKERS} fresh workers all bind`,
    async () => {
      // The child's TMPDIR, removed after: whatever a terminated first use leaves in it goes too.
      const tmp = scratchDir('tut-terminated-')
      try {
        const run = await runNode([BINDS, 'terminate'], {
          cwd: HOSTS_DIR,
          timeoutMs: CHILD_TIMEOUT_MS,
          env: envWith({ TMPDIR: tmp }),
        })
        const result = resultOfRun('terminated workers', run)
        const doomed = result.doomed!
        console.log(
          `terminated workers: where they were ${JSON.stringify(doomed.phase)}, ` +
            `by strategy ${JSON.stringify(doomed.byStrategy)}, exit codes ${JSON.stringify(doomed.exits)}`,
        )
        expect(Object.values(doomed.exits).reduce((a, b) => a + b, 0)).toBe(40)
        // The premise: some terminations landed inside a first use (the 'signal' strategy aims there).
        expect(
          doomed.phase.during,
          'no worker was terminated inside its first use: the test proved nothing',
        ).toBeGreaterThan(0)
        expectAllBound('after terminated workers', run, result, threadNames(WORKERS))
      } finally {
        rmSync(tmp, { recursive: true, force: true })
      }
    },
    CHILD_TIMEOUT_MS + 5_000,
  )
})
