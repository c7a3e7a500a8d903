import { once } from 'node:events'
import http from 'node:http'
import type { Socket } from 'node:net'
import type { HttpBindings } from '@hono/node-server'
import { Hono, type Context } from 'hono'
import { describe, expect, it } from 'vitest'
import { currentTimeout, getUserTimeout } from '@tcp-user-timeout/core'
import { override, tcpUserTimeout } from '@tcp-user-timeout/hono'
import { httpGet, perTest, startUpstream, type Teardown } from '@tcp-user-timeout/test-utils'
import { createApp } from '@tcp-user-timeout/test-utils/apps'

type NodeContext = Context<{ Bindings: HttpBindings }>

// @hono/node-server reads a stream body after the middleware chain has
// returned; these prove the body's reads, and the sockets they open, are
// the request's.
describe('hono: a stream body', () => {
  it('pulled as the client reads (an async generator that fetches) runs in the request scope; its sockets keep the bound until the response closes', async (ctx) => {
    const t = perTest(ctx)
    const { origin } = await startUpstream(t)
    const agent = t.defer(new http.Agent({ keepAlive: true, maxSockets: 1 }), (a) => a.destroy())
    const sockets: Socket[] = []
    let closed: Promise<unknown> | undefined
    const encoder = new TextEncoder()
    // Stands for an export that fetches its pages from an upstream as the client reads them.
    async function* pages() {
      for (let page = 0; page < 3; page++) {
        const exchange = await httpGet(`${origin}/page/${page}`, { agent })
        sockets.push(exchange.socket)
        yield encoder.encode(
          `${JSON.stringify({ ms: currentTimeout() ?? null, inFlight: exchange.inFlight ?? null })}\n`,
        )
      }
    }
    const stream = (c: NodeContext) => {
      closed = once(c.env.outgoing, 'close')
      // Not piped through a TransformStream: a pipe would start reading in the handler, inside the scope anyway.
      return c.body(ReadableStream.from(pages()))
    }
    const app = await start(t, [
      { method: 'GET', path: '/export', handler: stream },
      { method: 'GET', path: '/long-export', middleware: [override({ seconds: 300 })], handler: stream },
    ])

    const lines = async (path: string) =>
      (await (await fetch(`${app.origin}${path}`)).text())
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as unknown)
    expect(await lines('/export')).toEqual(Array(3).fill({ ms: 25000, inFlight: 25000 }))
    await closed
    // One pooled socket carried the three pages; the request is over: it is back at the default.
    expect(new Set(sockets).size).toBe(1)
    expect(sockets[0].destroyed).toBe(false)
    expect(getUserTimeout(sockets[0])).toBe(0)
    // A route's override is the scope of its body.
    expect(await lines('/long-export')).toEqual(Array(3).fill({ ms: 300000, inFlight: 300000 }))
  })

  it('a string answer and a proxied upstream Response pass through unchanged', async (ctx) => {
    const t = perTest(ctx)
    const { origin } = await startUpstream(t)
    const app = await start(t, [
      { method: 'GET', path: '/text', handler: (c: NodeContext) => c.text(`ms ${currentTimeout()}`) },
      // A Response of fetch's own: its body is a stream node-server reads through res.body.
      { method: 'GET', path: '/proxy', handler: () => fetch(`${origin}/upstream`) },
    ])
    const text = await fetch(`${app.origin}/text`)
    expect([text.status, text.headers.get('content-length'), await text.text()]).toEqual([200, '8', 'ms 25000'])
    const proxied = await fetch(`${app.origin}/proxy`)
    expect([proxied.status, await proxied.json()]).toEqual([200, { path: '/upstream' }])
  })
})

it('hono: off @hono/node-server (app.request: no c.env.incoming) the middleware only calls next()', async () => {
  const app = new Hono()
  app.use(tcpUserTimeout({ seconds: 25 }))
  app.get('/', (c) => c.json({ ms: currentTimeout() ?? null }))
  for (const env of [undefined, {}, { incoming: {} }, { incoming: {}, outgoing: {} }]) {
    const res = await app.request('/', {}, env)
    expect([res.status, await res.json()]).toEqual([200, { ms: null }])
  }
})

async function start(
  t: Teardown,
  routes: { method: 'GET'; path: string; middleware?: unknown[]; handler: (c: NodeContext) => unknown }[],
) {
  const app = await createApp('hono', { use: (a) => a.use(tcpUserTimeout({ seconds: 25 })), routes })
  return t.defer(app, (a) => a.close())
}
