import http from 'node:http'
import type { Socket } from 'node:net'
import { describe, it } from 'vitest'
import { currentTimeout } from '@tcp-user-timeout/core'
import { get, startApp } from './app.js'
import { Barrier } from './barrier.js'
import type { AdapterHarness } from './harness.js'
import { httpGet } from './http-get.js'
import { ownPools } from './pools.js'
import { orNull } from './probe.js'
import { fetchReadBack } from './undici-exchanges.js'
import { perTest } from './teardown.js'
import { holding, shuffling, startUpstream } from './upstream.js'

const HEADER = 'x-request-timeout-s'

/**
 * Concurrent requests each keep their own budget, in the scope and on the
 * wire, even when they share pooled sockets: a crossed budget would bound one
 * request's I/O by another's deadline.
 */
export function concurrencyContract<Req>(harness: AdapterHarness<Req>): void {
  describe('concurrent requests keep their own budgets', { concurrent: true }, () => {
    it('two interleaved requests (3 s and 7 s), both in flight at once, each sees only its own', async (ctx) => {
      const t = perTest(ctx)
      // Both handlers wait for each other; then each makes a node:http and a
      // fetch exchange, and the upstream answers none of the four until all
      // four reached it: every exchange is on the wire while the other
      // request's are.
      const inHandler = new Barrier(2, 'requests in their handler')
      const onTheWire = new Barrier(4, 'exchanges at the upstream')
      const { origin } = await startUpstream(t, holding(onTheWire))
      const pools = ownPools(t)
      const sockets: Socket[] = []
      const app = await startApp(t, harness, {
        use: [{ seconds: 25, header: HEADER }],
        routes: [
          get('/interleaved', async () => {
            const before = orNull(currentTimeout())
            await inHandler.arrive()
            const between = orNull(currentTimeout())
            const [viaHttp, viaFetch] = await Promise.all([
              httpGet(`${origin}/http`, { agent: pools.agent }),
              fetchReadBack(`${origin}/fetch`, pools.dispatcher),
            ])
            sockets.push(viaHttp.socket, viaFetch.socket)
            return {
              before,
              between,
              http: orNull(viaHttp.inFlight),
              fetch: orNull(viaFetch.inFlight),
              after: orNull(currentTimeout()),
              upstream: [viaHttp.status, viaFetch.status],
            }
          }),
        ],
      })
      const [three, seven] = await Promise.all(
        ['3', '7'].map(async (value) => (await app.client.get('/interleaved').set(HEADER, value).expect(200)).body),
      )
      const own = (ms: number) => ({ before: ms, between: ms, http: ms, fetch: ms, after: ms, upstream: [200, 200] })
      ctx.expect(three).toEqual(own(3000))
      ctx.expect(seven).toEqual(own(7000))
      ctx.expect(new Set(sockets).size).toBe(4) // four exchanges at once: four sockets
    })

    it('200 concurrent requests with distinct budgets over a shared keep-alive agent of 8 sockets: zero crossed', async (ctx) => {
      const t = perTest(ctx)
      const { origin } = await startUpstream(t, shuffling())
      // Few upstream sockets for many requests: each socket carries
      // exchanges of many scopes, one after the other.
      const { agent } = ownPools(t, 8)
      const upstreamSockets = new Set<Socket>()
      // The client side too is pooled, so that the test holds a bounded
      // number of connections to the app.
      const clientAgent = t.defer(new http.Agent({ keepAlive: true, maxSockets: 50 }), (a) => a.destroy())
      const app = await startApp(t, harness, {
        use: [{ seconds: 300, header: HEADER }],
        routes: [
          get('/work', async ({ headers }) => {
            const before = orNull(currentTimeout())
            const exchange = await httpGet(`${origin}/work`, { agent })
            upstreamSockets.add(exchange.socket)
            return { header: headers[HEADER], before, http: orNull(exchange.inFlight), after: orNull(currentTimeout()) }
          }),
        ],
      })
      const budgets = Array.from({ length: 200 }, (_, i) => i + 2) // 2..201 s, all below the configured 300
      const bodies = await Promise.all(
        budgets.map(
          async (s) => (await app.client.get('/work').agent(clientAgent).set(HEADER, String(s)).expect(200)).body,
        ),
      )
      const crossed = budgets
        .map((s, i) => ({ s, got: bodies[i] as { header: string; before: number; http: number; after: number } }))
        .filter(
          ({ s, got }) =>
            got.header !== String(s) || got.before !== s * 1000 || got.http !== s * 1000 || got.after !== s * 1000,
        )
      ctx.expect(crossed).toEqual([])
      ctx.expect(upstreamSockets.size).toBeGreaterThan(0)
      ctx.expect(upstreamSockets.size).toBeLessThanOrEqual(8)
    })
  })
}
