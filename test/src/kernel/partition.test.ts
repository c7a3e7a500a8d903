/**
 * Real kernel, root: the dead peer. Each case gets its own network namespace
 * (only `lo`) and a child Node process inside it (fixtures/partition.mjs)
 * running a server and a client on 127.0.0.1 that have made one exchange.
 * The parent then runs `ip link set lo down` in that namespace and tells the
 * child, which sends data that can never be acknowledged. With a bound the
 * kernel gives up with ETIMEDOUT; without one it retransmits for minutes.
 *
 * Skips, with the reason printed, where namespaces are unusable (not root);
 * in CI (env CI set) nothing skips: a missing capability fails.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { canUseNetns, cleanupNetns, spawnInNetns, type ChildEvent, type NetnsChild } from '@tcp-user-timeout/test-utils/netns'

const FIXTURE = fileURLToPath(new URL('./fixtures/partition.mjs', import.meta.url))
const netns = canUseNetns()
const skip = !netns.ok && !process.env.CI
if (skip) console.log(`[partition] skipping the dead-peer tests: ${netns.reason}`)

const READY_MS = 10_000
const UNBOUNDED_WINDOW_MS = 5000

async function start(mode: 'tcp' | 'fetch', boundMs: number): Promise<NetnsChild> {
  const child = await spawnInNetns(FIXTURE, [mode, String(boundMs)])
  try {
    await child.next('ready', READY_MS)
  } catch (error) {
    await child.close()
    throw error
  }
  return child
}

/** Cuts `lo`, waits for the child's first error; returns it with the parent's own measure. */
async function cutAndAwaitError(child: NetnsChild, ms: number): Promise<{ error: ChildEvent; parentMs: number }> {
  const cutAt = await child.cut()
  const error = await child.next('error', ms)
  return { error, parentMs: Math.round(performance.now() - cutAt) }
}

describe.skipIf(skip)('dead peer: lo cut inside a network namespace', { concurrent: true }, () => {
  beforeAll(() => {
    // Reached only when not skipped: in CI a missing capability is a failure.
    if (!netns.ok) throw new Error(`network namespaces are required here (CI is set): ${netns.reason}`)
  })
  afterAll(async () => {
    await cleanupNetns()
  })

  it('net.connect inside withTimeout(2): writing after the cut fails with ETIMEDOUT within 2-3.5 s', async ({ expect }) => {
    const child = await start('tcp', 2000)
    try {
      expect(child.events.find((e) => e.event === 'ready')).toMatchObject({ bound: 2000 })
      const { error, parentMs } = await cutAndAwaitError(child, 8000)
      console.log(`[partition] tcp, 2000 ms scope: ${error.code} ${error.ms} ms after the first write past the cut (${parentMs} ms after the cut, seen by the parent)`)
      expect(error.code).toBe('ETIMEDOUT')
      expect(error.ms).toBeGreaterThanOrEqual(2000)
      expect(error.ms).toBeLessThanOrEqual(3500)
      // Counted and published in the child, against this socket, with its bound.
      const closed = await child.next('closed', 5000)
      expect(closed).toMatchObject({ timedOut: 1, timeoutMessages: [{ ms: 2000, direction: 'outbound' }] })
    } finally {
      await child.close()
    }
  })

  it('fetch inside withTimeout(2): a streaming POST body sent after the cut rejects with cause ETIMEDOUT within 2-3.5 s', async ({ expect }) => {
    const child = await start('fetch', 2000)
    try {
      // The server has the request head and first body chunk; the bound is read back while in flight.
      expect(child.events.find((e) => e.event === 'ready')).toMatchObject({ bound: 2000 })
      const { error, parentMs } = await cutAndAwaitError(child, 8000)
      console.log(`[partition] fetch, 2000 ms scope: ${error.name}(${error.causeCode}) ${error.ms} ms after the body write past the cut (${parentMs} ms after the cut, seen by the parent)`)
      expect(error).toMatchObject({ name: 'TypeError', causeCode: 'ETIMEDOUT' })
      expect(error.ms).toBeGreaterThanOrEqual(2000)
      expect(error.ms).toBeLessThanOrEqual(3500)
    } finally {
      await child.close()
    }
  })

  it('net.connect without a bound: writing after the cut gets no error within 5 s', async ({ expect }) => {
    const child = await start('tcp', 0)
    try {
      expect(child.events.find((e) => e.event === 'ready')).toMatchObject({ bound: 0 })
      await child.cut()
      await child.next('writing', 5000)
      await expect(child.next('error', UNBOUNDED_WINDOW_MS)).rejects.toThrow(/no "error" from the child .* within 5000 ms/)
      console.log(`[partition] tcp, unbounded: no error within ${UNBOUNDED_WINDOW_MS} ms of the write past the cut`)
    } finally {
      await child.close()
    }
  })

  it('fetch without a bound: the POST body sent after the cut gets no rejection within 5 s', async ({ expect }) => {
    const child = await start('fetch', 0)
    try {
      expect(child.events.find((e) => e.event === 'ready')).toMatchObject({ bound: 0 })
      await child.cut()
      await child.next('writing', 5000)
      await expect(child.next('error', UNBOUNDED_WINDOW_MS)).rejects.toThrow(/no "error" from the child .* within 5000 ms/)
      expect(child.events.find((e) => e.event === 'response')).toBeUndefined()
      console.log(`[partition] fetch, unbounded: no rejection within ${UNBOUNDED_WINDOW_MS} ms of the body write past the cut`)
    } finally {
      await child.close()
    }
  })
})
