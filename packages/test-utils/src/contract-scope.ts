import { setImmediate as immediate } from 'node:timers/promises'
import { describe, it } from 'vitest'
import { currentTimeout } from '@tcp-user-timeout/core'
import { get, post, startApp } from './app.js'
import { postAfterContinue, postJsonAfterContinue } from './client.js'
import type { AdapterHarness } from './harness.js'
import { httpGet } from './http-get.js'
import { ownPools } from './pools.js'
import { orNull, probe, probed } from './probe.js'
import { fetchReadBack } from './undici-exchanges.js'
import { perTest } from './teardown.js'
import { chunked, startUpstream } from './upstream.js'

/**
 * The request's budget reaches the outbound sockets its handler opens, and
 * survives everything a request does on the way (body parsing, awaits,
 * timers, streams, the framework's stages, its error handler).
 */
export function scopeContract<Req>(harness: AdapterHarness<Req>): void {
  describe('the request scope reaches outbound sockets', { concurrent: true }, () => {
    it('fetch and http.get made in a handler read back the budget in flight; currentTimeout() gives it', async (ctx) => {
      const t = perTest(ctx)
      const upstream = await startUpstream(t)
      // The global agent and the global fetch dispatcher: what a handler
      // uses when it passes none. This test's upstream is its own, so no
      // other test's socket is in these pools for it.
      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [get('/probe', () => probe(upstream.origin))],
      })
      const res = await app.client.get('/probe').expect(200)
      ctx.expect(res.body).toEqual(probed(25000))
    })

    it('without the middleware the same handler sees no scope and its sockets stay at 0', async (ctx) => {
      // The control for every read-back in this suite: the probe can tell a
      // bound socket from an unbound one.
      const t = perTest(ctx)
      const upstream = await startUpstream(t)
      const app = await startApp(t, harness, { routes: [get('/probe', () => probe(upstream.origin))] })
      const res = await app.client.get('/probe').expect(200)
      ctx.expect(res.body).toEqual(probed(null))
    })
  })

  describe('the scope survives what a request does', { concurrent: true }, () => {
    it("a POST JSON body through the framework's body parser", async (ctx) => {
      const t = perTest(ctx)
      const upstream = await startUpstream(t)
      const pools = ownPools(t)
      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [post('/orders', async ({ body }) => ({ body, ...(await probe(upstream.origin, pools)) }))],
      })
      // Large enough to take several reads, under every parser's default limit (100 KB).
      const body = { items: Array.from({ length: 2000 }, (_, i) => ({ id: i, sku: `sku-${i}` })) }
      const sentWithHeaders = await app.client.post('/orders').send(body).expect(200)
      ctx.expect(sentWithHeaders.body).toEqual({ body, ...probed(25000) })
      const sentLater = await postJsonAfterContinue(`${app.origin}/orders`, body)
      ctx.expect(sentLater.status).toBe(200)
      ctx.expect(JSON.parse(sentLater.body)).toEqual({ body, ...probed(25000) })
    })

    it("an upload the handler reads itself: the request's own 'data' and 'end' callbacks", async (ctx) => {
      // Body parsers keep their caller's context themselves (raw-body binds
      // its callback); code reading the request stream directly relies on
      // the adapter running the request's events in the scope.
      const t = perTest(ctx)
      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [
          post('/upload', ({ stream }) => {
            const inData: (number | null)[] = []
            let bytes = 0
            return new Promise((resolve, reject) => {
              stream.on('data', (chunk: Buffer) => {
                bytes += chunk.length
                inData.push(orNull(currentTimeout()))
              })
              stream.on('end', () => resolve({ bytes, inData, inEnd: orNull(currentTimeout()) }))
              stream.on('error', reject)
            })
          }),
        ],
      })
      const payload = Buffer.alloc(256 * 1024, 7)
      const res = await postAfterContinue(`${app.origin}/upload`, payload, 'application/octet-stream')
      ctx.expect(res.status).toBe(200)
      const { bytes, inData, inEnd } = JSON.parse(res.body) as { bytes: number; inData: unknown[]; inEnd: unknown }
      ctx.expect(bytes).toBe(payload.length)
      ctx.expect(inData.length).toBeGreaterThan(0)
      ctx.expect(new Set(inData)).toEqual(new Set([25000]))
      ctx.expect(inEnd).toBe(25000)
    })

    it('await: after a microtask, after a turn of the event loop, after real I/O', async (ctx) => {
      const t = perTest(ctx)
      const upstream = await startUpstream(t)
      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [
          get('/await', async () => {
            await Promise.resolve()
            const microtask = orNull(currentTimeout())
            await immediate()
            const loop = orNull(currentTimeout())
            const io = await fetchReadBack(`${upstream.origin}/io`)
            return { microtask, loop, io: orNull(io.inFlight), afterIo: orNull(currentTimeout()) }
          }),
        ],
      })
      const res = await app.client.get('/await').expect(200)
      ctx.expect(res.body).toEqual({ microtask: 25000, loop: 25000, io: 25000, afterIo: 25000 })
    })

    it('a timer: the setTimeout and setImmediate callbacks', async (ctx) => {
      const t = perTest(ctx)
      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [
          get('/timer', async () => {
            const timeout = await new Promise((resolve) => setTimeout(() => resolve(orNull(currentTimeout())), 0))
            const immediateCallback = await new Promise((resolve) =>
              setImmediate(() => resolve(orNull(currentTimeout()))),
            )
            return { timeout, immediateCallback }
          }),
        ],
      })
      const res = await app.client.get('/timer').expect(200)
      ctx.expect(res.body).toEqual({ timeout: 25000, immediateCallback: 25000 })
    })

    it("a stream: an upstream response read in 'data' callbacks", async (ctx) => {
      const t = perTest(ctx)
      const upstream = await startUpstream(t, chunked(8))
      const pools = ownPools(t)
      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [
          get('/stream', async () => {
            const inData: (number | null)[] = []
            const exchange = await httpGet(`${upstream.origin}/chunks`, {
              agent: pools.agent,
              onData: () => inData.push(orNull(currentTimeout())),
            })
            return { inData, inFlight: orNull(exchange.inFlight), complete: exchange.body.endsWith('chunk 8;') }
          }),
        ],
      })
      const res = await app.client.get('/stream').expect(200)
      const { inData, inFlight, complete } = res.body as { inData: unknown[]; inFlight: unknown; complete: boolean }
      ctx.expect(complete).toBe(true)
      ctx.expect(inData.length).toBeGreaterThan(0)
      ctx.expect(new Set(inData)).toEqual(new Set([25000]))
      ctx.expect(inFlight).toBe(25000)
    })

    it("a thrown error reaches the framework's error handler, thrown inside the scope", async (ctx) => {
      const t = perTest(ctx)
      const thrown = (message: string) => Object.assign(new Error(message), { atThrow: orNull(currentTimeout()) })
      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [
          get('/async-throw', async () => {
            await immediate()
            throw thrown('async boom')
          }),
          get('/sync-throw', () => {
            throw thrown('sync boom')
          }),
        ],
        onError: (error) => ({
          message: (error as Error).message,
          atThrow: (error as { atThrow?: unknown }).atThrow ?? 'not our error',
          inHandler: orNull(currentTimeout()),
        }),
      })
      const inHandler = harness.errorHandlerInScope ? 25000 : null
      for (const [path, message] of [
        ['/async-throw', 'async boom'],
        ['/sync-throw', 'sync boom'],
      ] as const) {
        const res = await app.client.get(path).expect(500)
        ctx.expect(res.body).toEqual({ message, atThrow: 25000, inHandler })
      }
    })

    it(`the framework's stages between parser and handler (${harness.stages.join(', ')})`, async (ctx) => {
      const t = perTest(ctx)
      const upstream = await startUpstream(t)
      const pools = ownPools(t)
      const seen: Record<string, number | null> = {}
      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [
          post('/staged', async ({ body }) => ({ seen, body, ...(await probe(upstream.origin, pools)) }), {
            // Asynchronous stages: the scope must survive the framework
            // resuming its chain from each stage's promise.
            stage: async (name) => {
              await immediate()
              seen[name] = orNull(currentTimeout())
            },
          }),
        ],
      })
      const res = await postJsonAfterContinue(`${app.origin}/staged`, { order: 1 })
      ctx.expect(res.status).toBe(200)
      ctx.expect(harness.stages.length).toBeGreaterThan(0)
      ctx.expect(JSON.parse(res.body)).toEqual({
        seen: Object.fromEntries(harness.stages.map((stage) => [stage, 25000])),
        body: { order: 1 },
        ...probed(25000),
      })
    })
  })
}
