/**
 * Real kernel, root: a grpc-js connection whose peer vanished. Each case
 * gets its own network namespace (only `lo`) and a child process inside it
 * (fixtures/partition.mjs) holding a grpc-js server and client that have
 * made one exchange; the parent cuts `lo` there. Keepalive is on (A18's
 * options: ping every 60 s, 2 s timeout) but no ping is due within the
 * test: only TCP_USER_TIMEOUT can notice.
 *
 * - client: a call made after the cut, on a channel pinned by
 *   withUserTimeout (2000 ms, the keepalive timeout) fails UNAVAILABLE
 *   within 2 + 1.5 s; unpinned, it is still pending 5 s on.
 * - server: a server stream to the cut-off client, on a server hardened
 *   with hardenServer (A18 default: 2000 ms), is reaped within 2 + 1.5 s;
 *   unhardened, it is still streaming 5 s on.
 *
 * Skips where namespaces are unusable (helpers/namespaces.ts: never in CI).
 */
import { fileURLToPath } from 'node:url'
import { describe, it, type TestContext } from 'vitest'
import { perTest } from '@tcp-user-timeout/test-utils/teardown'
import { childInNetns, netnsGate } from '../helpers/namespaces.js'

const FIXTURE = fileURLToPath(new URL('./fixtures/partition.mjs', import.meta.url))
const netns = netnsGate('grpc partition', 'the grpc-js dead-peer tests')

const READY_MS = 10_000
const BOUND_MS = 2000
const WITHIN_MS = BOUND_MS + 1500
const UNBOUNDED_WINDOW_MS = 5000
const UNAVAILABLE = 14

describe.skipIf(netns.skip).each(['insecure', 'tls'])(
  'grpc-js (%s): lo cut inside a network namespace',
  { concurrent: true },
  (transport) => {
    netns.requireInSuite()

    it(`a call on a pinned channel (withUserTimeout, A18: ${BOUND_MS} ms) fails UNAVAILABLE within ${WITHIN_MS} ms of the cut`, async (ctx) => {
      const { expect } = ctx
      const child = await childInNetns(perTest(ctx), FIXTURE, ['client', 'pinned', transport])
      expect(await child.next('ready', READY_MS)).toMatchObject({ bound: BOUND_MS })
      await child.cut()
      const status = await child.next('status', WITHIN_MS + 3000)
      console.log(
        `[grpc partition, ${transport}] pinned client: ` +
          `status ${status.code} (${status.details}) ${status.ms} ms after the cut`,
      )
      expect(status.code).toBe(UNAVAILABLE)
      expect(status.ms).toBeGreaterThanOrEqual(BOUND_MS)
      expect(status.ms).toBeLessThanOrEqual(WITHIN_MS)
      // The kernel closed the pinned socket with ETIMEDOUT, counted by the core.
      expect(await child.next('closed', 3000)).toMatchObject({ timedOut: 1 })
    })

    /** Unbound, the side runs with 0 and nothing ends within the window after the cut. */
    async function nothingEnds(
      ctx: TestContext,
      args: [string, string],
      event: 'status' | 'reaped',
      what: string,
    ): Promise<void> {
      const { expect } = ctx
      const child = await childInNetns(perTest(ctx), FIXTURE, [...args, transport])
      expect(await child.next('ready', READY_MS)).toMatchObject({ bound: 0 })
      await child.cut()
      await expect(child.next(event, UNBOUNDED_WINDOW_MS)).rejects.toThrow(
        new RegExp(`no "${event}" from the child .* within ${UNBOUNDED_WINDOW_MS} ms`),
      )
      console.log(`[grpc partition, ${transport}] ${what}: no ${event} within ${UNBOUNDED_WINDOW_MS} ms of the cut`)
    }

    it('the same call on an unpinned channel is still pending 5 s after the cut', (ctx) =>
      nothingEnds(ctx, ['client', 'unpinned'], 'status', 'unpinned client'))

    it(`a server stream to a vanished client, on a hardened server (A18: ${BOUND_MS} ms), is reaped within ${WITHIN_MS} ms`, async (ctx) => {
      const { expect } = ctx
      const child = await childInNetns(perTest(ctx), FIXTURE, ['server', 'hardened', transport])
      expect(await child.next('ready', READY_MS)).toMatchObject({ bound: BOUND_MS })
      await child.cut()
      const reaped = await child.next('reaped', WITHIN_MS + 3000)
      console.log(`[grpc partition, ${transport}] hardened server: stream reaped ${reaped.ms} ms after the cut`)
      expect(reaped.ms).toBeGreaterThanOrEqual(BOUND_MS)
      expect(reaped.ms).toBeLessThanOrEqual(WITHIN_MS)
      // The kernel closed the accepted socket with ETIMEDOUT: counted as reaped by the core.
      expect(await child.next('closed', 3000)).toMatchObject({ timedOut: 1, reaped: 1 })
    })

    it('on an unhardened server the stream is still open 5 s after the cut', (ctx) =>
      nothingEnds(ctx, ['server', 'plain'], 'reaped', 'unhardened server'))
  },
)
