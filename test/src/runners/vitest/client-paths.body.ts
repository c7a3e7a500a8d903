// What every *.inner.ts file runs: the core as that file's isolation
// evaluates it, every client path checked with a budget of the file's own
// (index + 2 seconds). pid and threadId say which worker ran it.
import { createRequire } from 'node:module'
import { threadId } from 'node:worker_threads'
import { getUserTimeout, withTimeout } from '@tcp-user-timeout/core'
import { it } from 'vitest'

interface ProbeModule {
  probe(use: {
    withTimeout: typeof withTimeout
    getUserTimeout: typeof getUserTimeout
    seconds: number
  }): Promise<object>
  report(value: object): void
}
const { probe, report } = createRequire(import.meta.url)('../probe.cjs') as ProbeModule

export function clientPaths(index: number): void {
  it(`file ${index}: every client path holds this file's budget`, async () => {
    const seconds = index + 2
    const result = await probe({ withTimeout, getUserTimeout, seconds })
    report({ index, seconds, pid: process.pid, threadId, ...result })
  })
}
