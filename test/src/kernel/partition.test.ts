/**
 * Real kernel, root: the dead peer. Each case gets its own network namespace
 * (only `lo`) and a child Node process inside it (fixtures/partition.mjs)
 * running a server and a client on 127.0.0.1 that have made one exchange.
 * The parent then runs `ip link set lo down` in that namespace and tells the
 * child, which sends data that can never be acknowledged. With a bound the
 * kernel gives up with ETIMEDOUT; without one it retransmits for minutes.
 *
 * Skips where namespaces are unusable (helpers/namespaces.ts: never in CI).
 */
import { fileURLToPath } from 'node:url'
import { describe, it, type ExpectStatic } from 'vitest'
import type { ChildEvent, NetnsChild } from '@tcp-user-timeout/test-utils/netns'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils/teardown'
import { childInNetns, netnsGate } from '../helpers/namespaces.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/partition.mjs', import.meta.url))
const netns = netnsGate('partition', 'the dead-peer tests')

const READY_MS = 10_000
const UNBOUNDED_WINDOW_MS = 5000

type Mode = 'tcp' | 'fetch'

/** The child once its exchange is made, its bound read back while in flight. */
async function start(t: Teardown, expect: ExpectStatic, mode: Mode, boundMs: number): Promise<NetnsChild> {
  const child = await childInNetns(t, FIXTURE, [mode, String(boundMs)])
  expect(await child.next('ready', READY_MS)).toMatchObject({ bound: boundMs })
  return child
}

/** Cuts `lo`, waits for the child's first error; returns it with the parent's own measure. */
async function cutAndAwaitError(child: NetnsChild, ms: number): Promise<{ error: ChildEvent; parentMs: number }> {
  const cutAt = await child.cut()
  const error = await child.next('error', ms)
  return { error, parentMs: Math.round(performance.now() - cutAt) }
}

const UNBOUNDED = [
  {
    mode: 'tcp',
    title: 'net.connect without a bound: writing after the cut gets no error within 5 s',
    outcome: 'no error',
    write: 'write',
  },
  {
    mode: 'fetch',
    title: 'fetch without a bound: the POST body sent after the cut gets no rejection within 5 s',
    outcome: 'no rejection',
    write: 'body write',
  },
] as const

describe.skipIf(netns.skip)('dead peer: lo cut inside a network namespace', { concurrent: true }, () => {
  netns.requireInSuite()

  it('net.connect inside withTimeout(2): writing after the cut fails with ETIMEDOUT within 2-3.5 s', async (ctx) => {
    const { expect } = ctx
    const child = await start(perTest(ctx), expect, 'tcp', 2000)
    const { error, parentMs } = await cutAndAwaitError(child, 8000)
    console.log(
      `[partition] tcp, 2000 ms scope: ${error.code} ${error.ms} ms after the ` +
        `first write past the cut (${parentMs} ms after the cut, seen by the parent)`,
    )
    expect(error.code).toBe('ETIMEDOUT')
    expect(error.ms).toBeGreaterThanOrEqual(2000)
    expect(error.ms).toBeLessThanOrEqual(3500)
    // Counted and published in the child, against this socket, with its bound.
    const closed = await child.next('closed', 5000)
    expect(closed).toMatchObject({ timedOut: 1, timeoutMessages: [{ ms: 2000, direction: 'outbound' }] })
  })

  it('fetch inside withTimeout(2): a streaming POST body sent after the cut rejects with cause ETIMEDOUT within 2-3.5 s', async (ctx) => {
    const { expect } = ctx
    // The server has the request head and first body chunk; the bound is read back while in flight.
    const child = await start(perTest(ctx), expect, 'fetch', 2000)
    const { error, parentMs } = await cutAndAwaitError(child, 8000)
    console.log(
      `[partition] fetch, 2000 ms scope: ${error.name}(${error.causeCode}) ${error.ms} ms ` +
        `after the body write past the cut (${parentMs} ms after the cut, seen by the parent)`,
    )
    expect(error).toMatchObject({ name: 'TypeError', causeCode: 'ETIMEDOUT' })
    expect(error.ms).toBeGreaterThanOrEqual(2000)
    expect(error.ms).toBeLessThanOrEqual(3500)
  })

  for (const { mode, title, outcome, write } of UNBOUNDED) {
    it(title, async (ctx) => {
      const { expect } = ctx
      const child = await start(perTest(ctx), expect, mode, 0)
      await child.cut()
      await child.next('writing', 5000)
      await expect(child.next('error', UNBOUNDED_WINDOW_MS)).rejects.toThrow(
        /no "error" from the child .* within 5000 ms/,
      )
      expect(child.events.find((e) => e.event === 'response')).toBeUndefined()
      console.log(
        `[partition] ${mode}, unbounded: ${outcome} within ${UNBOUNDED_WINDOW_MS} ms of the ${write} past the cut`,
      )
    })
  }
})
