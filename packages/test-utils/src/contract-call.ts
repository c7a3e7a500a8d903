import net from 'node:net'
import { afterAll, describe, expect, it } from 'vitest'
import { currentTimeout, getUserTimeout, support } from '@tcp-user-timeout/core'
import type { CallApp } from '../apps/index.mjs'
import { startFailure } from './app.js'
import type { CallHarness } from './call-harness.js'
import { connected } from './connected.js'
import { MALFORMED_HEADER_VALUES } from './contract-header.js'
import type { AdapterOptions } from './harness.js'
import { ownPools } from './pools.js'
import { orNull, probe, probed } from './probe.js'
import { startTcpSink } from './tcp-sink.js'
import { perTest, type Teardown } from './teardown.js'
import { stopTrackingFetch } from './undici-exchanges.js'
import { startUpstream } from './upstream.js'
import { whenAllHold } from './when-all-hold.js'

const HEADER = 'x-request-timeout-s'
const budget = () => orNull(currentTimeout())
// gRPC refuses metadata over 8 KiB before any handler runs: the longest malformed value is left to the HTTP contract.
const MALFORMED = MALFORMED_HEADER_VALUES.filter(([, value]) => (value ?? '').length <= 1024)

// `as never`: values TypeScript would reject, as plain JavaScript passes them.
const BAD_OPTIONS: [string, AdapterOptions<unknown>, RegExp][] = [
  ['{}', {} as never, /needs a budget/],
  ['{ seconds: -1 }', { seconds: -1 }, /seconds must be a finite number of seconds > 0, received -1/],
  ["{ header: 'bad header' }", { seconds: 25, header: 'bad header' }, /header must be an HTTP header name/],
  ['{ bogus: 1 }', { seconds: 25, bogus: 1 } as never, /unknown option "bogus"/],
]

async function serve(t: Teardown, harness: CallHarness, options: AdapterOptions<unknown>, handler: () => unknown) {
  const app: CallApp = await harness.serve({ use: [options], handler })
  return t.defer(app, (a) => a.close())
}

/**
 * The contract every call adapter passes (an RPC server's handlers, each
 * call a request), against real servers on 127.0.0.1 and the real kernel:
 * a call runs in a scope of the configured budget, which the call's
 * deadline and its header (metadata) can only tighten; bad options fail
 * when the adapter is configured; the scope ends with the call. Call it at
 * the top level of a test file, with the adapter's harness.
 */
export function callAdapterContract(harness: CallHarness): void {
  describe(`${harness.name} call adapter contract`, { concurrent: true }, () => {
    afterAll(stopTrackingFetch)

    it('runs where TCP_USER_TIMEOUT can be read back (Linux, ffi-rs loaded)', () => {
      expect(support()).toEqual({ supported: true })
    })

    it("a call runs in a scope of the configured budget: its handler's exchanges are bound in flight", async (ctx) => {
      const t = perTest(ctx)
      const { origin } = await startUpstream(t)
      const pools = ownPools(t)
      const app = await serve(t, harness, { seconds: 25 }, () => probe(origin, pools))
      ctx.expect(await app.call()).toEqual(probed(25_000))
    })

    it("the call's deadline tightens the budget to the time left, and never lengthens it", async (ctx) => {
      const t = perTest(ctx)
      const app = await serve(t, harness, { seconds: 25 }, budget)
      const tight = await app.call({ deadlineMs: 3000 })
      ctx.expect(tight).toBeGreaterThan(2000)
      ctx.expect(tight).toBeLessThanOrEqual(3000)
      ctx.expect(await app.call({ deadlineMs: 60_000 })).toBe(25_000)
    })

    it('a header tightens it too (floor: minSeconds); a malformed or repeated one changes nothing', async (ctx) => {
      const t = perTest(ctx)
      const app = await serve(t, harness, { seconds: 25, header: HEADER }, budget)
      const withHeader = (values: readonly string[], deadlineMs?: number) =>
        app.call({ metadata: { [HEADER]: values }, ...(deadlineMs === undefined ? {} : { deadlineMs }) })
      ctx.expect(await withHeader(['2'])).toBe(2000)
      ctx.expect(await withHeader(['2.5'])).toBe(2500)
      ctx.expect(await withHeader(['60'])).toBe(25_000)
      ctx.expect(await withHeader(['0.2'])).toBe(1000)
      ctx.expect(await withHeader(['2', '3']), 'sent twice').toBe(25_000)
      for (const [label, value] of MALFORMED) {
        ctx.expect(await withHeader(value === undefined ? [] : [value]), label).toBe(25_000)
      }
      const both = await withHeader(['5'], 1500)
      ctx.expect(both, 'the tighter of header and deadline').toBeGreaterThan(1000)
      ctx.expect(both).toBeLessThanOrEqual(1500)
    })

    it.for(BAD_OPTIONS)('options %s fail when the adapter is configured (TUT_ERR_INVALID_OPTION)', async (bad, ctx) => {
      const [, options, message] = bad
      const t = perTest(ctx)
      const failure = await startFailure(t, () => harness.serve({ use: [options], handler: budget }))
      ctx.expect(failure).toBeInstanceOf(TypeError)
      ctx.expect(failure).toMatchObject({ name: 'InvalidOptionError', code: 'TUT_ERR_INVALID_OPTION' })
      ctx.expect((failure as Error).message).toMatch(message)
    })

    it('the scope ends with the call: a socket its handler opened and left open goes back to 0', async (ctx) => {
      const t = perTest(ctx)
      const sink = await startTcpSink(t)
      const opened: net.Socket[] = []
      const app = await serve(t, harness, { seconds: 25 }, async () => {
        const socket = t.defer(net.connect(sink.port, '127.0.0.1'), (s) => s.destroy())
        opened.push(socket)
        return getUserTimeout(await connected(socket))
      })
      ctx.expect(await app.call()).toBe(25_000)
      await whenAllHold(opened, 0)
    })
  })
}
