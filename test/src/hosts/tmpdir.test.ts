import { chmodSync, existsSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCommand, runNode } from '../helpers/child.js'
import {
  asNobody,
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
  resultOfRun,
  scratchDir,
  skipUnlessCI,
  threadNames,
} from './host.js'
import { coreBinary } from './scratch.js'

// The first use of the core in each thread needs no writable filesystem: a
// TMPDIR that does not exist, or that the user cannot write, changes nothing.
// (The core used to serialize first uses with an exclusive mkdir under
// os.tmpdir(), and reported itself unsupported when that failed.) The main
// thread and 4 workers each bind 10 sockets and read them back.

const FILE = 'hosts/tmpdir'
announceSkip(FILE, notLinux)

describe.skipIf(notLinux !== undefined)('a TMPDIR that cannot be written', () => {
  it(
    `TMPDIR names a directory that does not exist: the main thread and ${WORKERS} workers bind`,
    async () => {
      // A fresh name, removed at once: nothing of it exists, nothing is left behind.
      const missing = join(scratchDir('tut-tmpdir-'), 'missing')
      rmSync(dirname(missing), { recursive: true })
      expect(existsSync(dirname(missing))).toBe(false)
      const run = await runNode([BINDS, 'binds', String(WORKERS)], {
        cwd: HOSTS_DIR,
        timeoutMs: CHILD_TIMEOUT_MS,
        env: envWith({ TMPDIR: missing }),
      })
      const result = resultOfRun('TMPDIR missing', run)
      expect(result.tmp).toEqual({ dir: missing, writable: false, code: 'ENOENT' })
      expectAllBound('TMPDIR missing', run, result, threadNames(WORKERS))
    },
    CHILD_TIMEOUT_MS + 5_000,
  )

  it(
    `TMPDIR is a directory the user (nobody) cannot write: the main thread and ${WORKERS} workers bind`,
    async (ctx) => {
      // Root writes anywhere, so the child runs as nobody, with TMPDIR a root-owned 0755 directory.
      if (notRoot !== undefined) skipUnlessCI(ctx, FILE, notRoot)
      const tmp = scratchDir('tut-unwritable-')
      try {
        chmodSync(tmp, 0o755)
        // nobody must be able to run this Node and read the fixture, the core and
        // ffi-rs's binary (directories 0755 here).
        const readable = [BINDS, createRequire(BINDS).resolve('@tcp-user-timeout/core'), coreBinary(), tmp]
        const check =
          `for (const p of ${JSON.stringify(readable)}) ` + `require('fs').accessSync(p, require('fs').constants.R_OK)`
        const cannot = await cannotWrap(asNobody, 'running this test as nobody', check)
        if (cannot !== undefined) skipUnlessCI(ctx, FILE, cannot)
        const [command, args] = asNobody(process.execPath, [BINDS, 'binds', String(WORKERS)])
        const run = await runCommand(command, args, {
          cwd: HOSTS_DIR,
          timeoutMs: CHILD_TIMEOUT_MS,
          env: envWith({ TMPDIR: tmp }),
        })
        const result = resultOfRun('TMPDIR unwritable (nobody)', run)
        expect(result.tmp).toEqual({ dir: tmp, writable: false, code: 'EACCES' })
        expectAllBound('TMPDIR unwritable (nobody)', run, result, threadNames(WORKERS))
      } finally {
        rmSync(tmp, { recursive: true, force: true })
      }
    },
    CHILD_TIMEOUT_MS + 15_000,
  )
})
