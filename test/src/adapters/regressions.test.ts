import http from 'node:http'
import Fastify from 'fastify'
import Koa from 'koa'
import Router from '@koa/router'
import { expect, it } from 'vitest'
import { currentTimeout, getUserTimeout, warningCodes } from '@tcp-user-timeout/core'
import { tcpUserTimeout as fastifyPlugin } from '@tcp-user-timeout/fastify'
import { override, tcpUserTimeout } from '@tcp-user-timeout/koa'
import { captureWarnings, listen, perTest } from '@tcp-user-timeout/test-utils'

// Regressions found while building the adapters, each once a failing test.

it('fastify: app.register(tcpUserTimeout, ...) without await, then routes with config.tcpUserTimeout: the route options apply', async (ctx) => {
  const t = perTest(ctx)
  const captured = captureWarnings(t) // the late registration this provokes: asserted, not printed
  const app = t.defer(Fastify(), (a) => a.close())
  app.register(fastifyPlugin, { seconds: 25 })
  app.get('/export', { config: { tcpUserTimeout: { seconds: 300 } } }, async () => ({ ms: currentTimeout() ?? null }))
  app.get('/health', { config: { tcpUserTimeout: false } }, async () => ({ ms: currentTimeout() ?? null }))
  await app.ready()
  expect((await app.inject('/export')).json()).toEqual({ ms: 300000 })
  expect((await app.inject('/health')).json()).toEqual({ ms: null })
  expect((await captured.delivered()).map((w) => w.code)).toEqual([warningCodes.LATE_REGISTRATION])
})

it('fastify: a bad route config on a route the plugin only sees at its first request is logged once, and the plugin budget applies', async (ctx) => {
  const t = perTest(ctx)
  const captured = captureWarnings(t) // the late registration this provokes: asserted, not printed
  const logged: { msg?: string; err?: { code?: string; message?: string } }[] = []
  const stream = { write: (line: string) => void logged.push(JSON.parse(line)) }
  const app = t.defer(Fastify({ logger: { level: 'error', stream } }), (a) => a.close())
  app.register(fastifyPlugin, { seconds: 25 })
  app.get('/bad', { config: { tcpUserTimeout: { seconds: 0 } } }, async () => ({ ms: currentTimeout() ?? null }))
  await app.ready()
  for (let i = 0; i < 2; i++) {
    const res = await app.inject('/bad')
    expect(res.statusCode).toBe(200)
    expect(res.json()).toEqual({ ms: 25000 })
  }
  const reports = logged.filter((l) => l.err?.code === 'TUT_ERR_INVALID_OPTION')
  expect(reports).toHaveLength(1)
  // A route's config is a place, not a call: no stray "()" after its name.
  expect(reports[0].err!.message).toMatch(
    /^GET \/bad config\.tcpUserTimeout: seconds .*received 0.*give config: \{ tcpUserTimeout: false \}$/,
  )
  expect(reports[0].msg).toMatch(/await/)
  expect((await captured.delivered()).map((w) => w.code)).toEqual([warningCodes.LATE_REGISTRATION])
})

it('a disabled route (override(false)) that opens a pooled socket does not keep later scoped requests on it unbound', async (ctx) => {
  const t = perTest(ctx)
  const upstream = await listen(
    t,
    http.createServer((_req, res) => res.end('ok')),
  )
  // any shared pool: http.globalAgent, fetch's global dispatcher
  const agent = t.defer(new http.Agent({ keepAlive: true, maxSockets: 1 }), (a) => a.destroy())
  const call = () =>
    new Promise<number | undefined>((resolve, reject) => {
      http
        .get(`${upstream.origin}/`, { agent }, (res) => {
          const v = getUserTimeout(res.socket)
          res.resume()
          res.on('end', () => resolve(v))
        })
        .on('error', reject)
    })
  const app = new Koa()
  const router = new Router()
  app.use(tcpUserTimeout({ seconds: 25 }))
  router.get('/health', override(false), async (ctx) => {
    ctx.body = { inFlight: await call() }
  })
  router.get('/quote', async (ctx) => {
    ctx.body = { inFlight: await call(), ms: currentTimeout() }
  })
  app.use(router.routes())
  const server = await listen(t, http.createServer(app.callback()))
  const ask = async (path: string) => (await fetch(`${server.origin}${path}`)).json()
  expect(await ask('/health')).toEqual({ inFlight: 0 })
  expect(await ask('/quote')).toEqual({ inFlight: 25000, ms: 25000 })
  expect(await ask('/health')).toEqual({ inFlight: 0 })
})

it('koa: a streamed response body (ctx.body = stream) is generated inside the request scope', async (ctx) => {
  const t = perTest(ctx)
  const { Readable } = await import('node:stream')
  async function* pages() {
    // Stands for an export that fetches its pages from an upstream as the client reads.
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setImmediate(resolve))
      yield `${currentTimeout() ?? 'none'};`
    }
  }
  const app = new Koa()
  app.use(tcpUserTimeout({ seconds: 25 }))
  app.use((ctx) => {
    ctx.body = Readable.from(pages())
  })
  const server = await listen(t, http.createServer(app.callback()))
  // Express (pipeline(stream, res) in the handler) and Fastify (reply.send(stream)) give 25000 three times.
  expect(await (await fetch(server.origin)).text()).toBe('25000;25000;25000;')
})
