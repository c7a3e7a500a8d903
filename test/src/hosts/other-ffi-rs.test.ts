import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runNode } from '../helpers/child.js'
import {
  BINDS,
  CHILD_TIMEOUT_MS,
  HOSTS_DIR,
  WORKERS,
  announceSkip,
  expectAllBound,
  notLinux,
  resultOfRun,
  threadNames,
} from './host.js'
import { ffiCopies, inode, type FfiCopies } from './scratch.js'

// Another ffi-rs in the process: the core must call and pin the binary its
// own require('ffi-rs') loaded. (It used to take the first ffi-rs .node in
// the require cache: an app that used net-keepalive 4.0.28, which ships its
// own ffi-rs, before the core got supported: true and then EIO from every
// setUserTimeout.) The other copy is a physical copy in a scratch dir
// (scratch.ts says why it must be): net-keepalive with its own ffi-rs, or
// ffi-rs 1.3.6. It is loaded and used before the core and, in the other
// order, after the core's first use, in the main thread and in 4 workers;
// then explicit setUserTimeout/getUserTimeout and scoped binds read back.

const FILE = 'hosts/other-ffi-rs'
announceSkip(FILE, notLinux)
const CASES = [
  ['keepalive', 'other-first'],
  ['keepalive', 'core-first'],
  ['previous', 'other-first'],
  ['previous', 'core-first'],
] as const
const COPY = {
  keepalive: /^node_modules\/net-keepalive\/node_modules\/ffi-rs\//,
  previous: /^node_modules\/ffi-rs-previous\//,
}

describe.skipIf(notLinux !== undefined)('another copy of ffi-rs in the process', () => {
  let copies: FfiCopies
  beforeAll(() => {
    copies = ffiCopies()
  })
  afterAll(() => rmSync(copies.dir, { recursive: true, force: true }))

  it("the copies' binaries are files of their own, not the core's (distinct inodes)", () => {
    const { keepalive, previous, core } = copies.binaries
    expect(keepalive).toHaveLength(1)
    expect(previous).toHaveLength(1)
    expect(new Set([core, ...keepalive, ...previous].map(inode)).size).toBe(3)
  })

  it.for(CASES)(
    '%s, %s: the other copy works, and the core reads back every value, in the main thread and workers',
    { timeout: CHILD_TIMEOUT_MS + 5_000 },
    async ([copy, order]) => {
      const label = `other ffi-rs (${copy}, ${order})`
      const run = await runNode([BINDS, 'other-ffi', copy, order], {
        cwd: HOSTS_DIR,
        timeoutMs: CHILD_TIMEOUT_MS,
        env: { ...process.env, TUT_FFI_COPIES: copies.dir },
      })
      const result = resultOfRun(label, run)
      const names = threadNames(WORKERS)
      // The other copy was loaded from the scratch dir, and worked, in every thread.
      expect(result.threads.map((t) => [t.thread, t.other])).toEqual(
        names.map((n) => [n, expect.objectContaining({ ok: true, binary: expect.stringMatching(COPY[copy]) })]),
      )
      // Explicit calls: set returns true, get reads the value back; no SocketOptionError (EIO).
      expect(result.threads.map((t) => [t.thread, t.explicit])).toEqual(
        result.threads.map((t) => [
          t.thread,
          { ms: t.explicit!.ms, set: { value: true }, get: { value: t.explicit!.ms } },
        ]),
      )
      expectAllBound(label, run, result, names)
    },
  )
})
