import http from 'node:http'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { Agent as UndiciAgent, Pool } from 'undici'
import { getUserTimeout, setGlobalDefault, withTimeout } from '@tcp-user-timeout/core'
import {
  connected,
  httpGet,
  perSuite,
  perTest,
  startTcpSink,
  startUpstream,
  trackUndiciExchanges,
} from '@tcp-user-timeout/test-utils'

// An exchange belongs to the scope where the request was CREATED, whatever
// context the pool later gives it a socket in, and values never leak.

const tracker = perSuite().defer(trackUndiciExchanges(), (x) => x.stop())
const destroy = (socket: net.Socket) => socket.destroy()

describe('node:http agent', () => {
  it('a server that closes every connection: each queued exchange holds its own scope (3, 5, 9 s)', async (ctx) => {
    const t = perTest(ctx)
    const { origin } = await startUpstream(t, (_req, res) => {
      res.setHeader('connection', 'close')
      res.end('ok')
    })
    const agent = t.defer(new http.Agent({ keepAlive: true, maxSockets: 1 }), (a) => a.destroy())
    const seconds = [3, 5, 9]
    // All three are created at once; two wait in the agent's queue and get a
    // socket the agent creates while handling the previous one's close.
    const results = await Promise.all(seconds.map((s) => withTimeout(s, () => httpGet(`${origin}/${s}`, { agent }))))
    expect(results.map((r) => r.inFlight)).toEqual([3000, 5000, 9000])
    expect(new Set(results.map((r) => r.socket)).size).toBe(3)
  })

  it('a pooled keep-alive socket reused by scopes of different values holds the current one', async (ctx) => {
    const t = perTest(ctx)
    const { origin } = await startUpstream(t)
    const agent = t.defer(new http.Agent({ keepAlive: true, maxSockets: 1 }), (a) => a.destroy())
    const seen: number[] = []
    const sockets = new Set<net.Socket>()
    for (const s of [3, 5, 9, 4, 4]) {
      const r = await withTimeout(s, () => httpGet(`${origin}/`, { agent }))
      seen.push(r.inFlight!)
      sockets.add(r.socket)
    }
    expect(seen).toEqual([3000, 5000, 9000, 4000, 4000])
    expect(sockets.size).toBe(1)
  })

  it('an unscoped exchange on a socket a scope opened puts it back to 0, or to the global default', async (ctx) => {
    const t = perTest(ctx)
    const { origin } = await startUpstream(t)
    const agent = t.defer(new http.Agent({ keepAlive: true, maxSockets: 1 }), (a) => a.destroy())
    const scoped = await withTimeout(7, () => httpGet(`${origin}/`, { agent }))
    const unscoped = await httpGet(`${origin}/`, { agent })
    setGlobalDefault(11)
    t.add(() => setGlobalDefault(null))
    const withDefault = await httpGet(`${origin}/`, { agent })
    expect([scoped.inFlight, unscoped.inFlight, withDefault.inFlight]).toEqual([7000, 0, 11000])
    expect(new Set([scoped.socket, unscoped.socket, withDefault.socket]).size).toBe(1)
  })

  it('a keep-alive socket opened at boot (outside any scope) still reads 0 after scoped exchanges used it', async (ctx) => {
    const t = perTest(ctx)
    const { origin } = await startUpstream(t)
    const agent = t.defer(new http.Agent({ keepAlive: true, maxSockets: 1 }), (a) => a.destroy())
    const boot = await httpGet(`${origin}/`, { agent }) // warms the pool at boot
    const scoped = await withTimeout(7, () => httpGet(`${origin}/`, { agent }))
    expect(scoped.socket).toBe(boot.socket)
    expect(scoped.inFlight).toBe(0)
    expect(getUserTimeout(boot.socket)).toBe(0)
  })
})

describe('fetch and undici', () => {
  it('a keep-alive socket reused by scopes of different values holds the current one', async (ctx) => {
    const t = perTest(ctx)
    const { origin } = await startUpstream(t)
    const dispatcher = t.defer(new UndiciAgent({ connections: 1 }), (d) => d.close())
    const sockets = new Set<net.Socket>()
    const seen: (number | undefined)[] = []
    for (const [i, s] of [3, 5, 9, 4].entries()) {
      const path = `/reuse-${i}`
      await withTimeout(s, async () =>
        (await fetch(`${origin}${path}`, { dispatcher } as unknown as RequestInit)).text(),
      )
      const exchange = tracker.byPath.get(path)!
      seen.push(exchange.inFlight)
      sockets.add(exchange.socket)
    }
    expect(seen).toEqual([3000, 5000, 9000, 4000])
    expect(sockets.size).toBe(1)
  })

  it('a server that closes every connection: each queued exchange on a 1-connection pool holds its own scope', async (ctx) => {
    const t = perTest(ctx)
    const { origin } = await startUpstream(t, (_req, res) => {
      res.setHeader('connection', 'close')
      res.end('ok')
    })
    const pool = t.defer(new Pool(origin, { connections: 1 }), (p) => p.close())
    const seconds = [3, 5, 9]
    await Promise.all(
      seconds.map((s) =>
        withTimeout(s, async () => (await pool.request({ path: `/close-${s}`, method: 'GET' })).body.text()),
      ),
    )
    expect(seconds.map((s) => tracker.byPath.get(`/close-${s}`)?.inFlight)).toEqual([3000, 5000, 9000])
  })

  it('a pool warmed at boot stays at 0 when scoped exchanges use it (global fetch and an undici Pool)', async (ctx) => {
    const t = perTest(ctx)
    const { origin } = await startUpstream(t)
    const pool = t.defer(new Pool(origin, { connections: 1 }), (p) => p.close())
    await (await pool.request({ path: '/warm-pool', method: 'GET' })).body.text()
    await (await fetch(`${origin}/warm-fetch`)).text()
    await withTimeout(7, async () => {
      await (await pool.request({ path: '/scoped-pool', method: 'GET' })).body.text()
      await (await fetch(`${origin}/scoped-fetch`)).text()
    })
    const warmPool = tracker.byPath.get('/warm-pool')!
    const scopedPool = tracker.byPath.get('/scoped-pool')!
    const warmFetch = tracker.byPath.get('/warm-fetch')!
    const scopedFetch = tracker.byPath.get('/scoped-fetch')!
    expect(scopedPool.socket).toBe(warmPool.socket)
    expect(scopedFetch.socket).toBe(warmFetch.socket)
    expect([scopedPool.inFlight, scopedFetch.inFlight]).toEqual([0, 0])
    expect([getUserTimeout(warmPool.socket), getUserTimeout(warmFetch.socket)]).toEqual([0, 0])
  })
})

describe('raw sockets', () => {
  it('a socket opened at boot reads 0 after a scope wrote to it; one opened in a scope keeps its value after', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    const boot = await connected(t.defer(net.connect(port, '127.0.0.1'), destroy))
    const scoped = await withTimeout(7, async () => {
      boot.write('from a scope')
      return connected(t.defer(net.connect(port, '127.0.0.1'), destroy))
    })
    scoped.write('outside the scope')
    expect(getUserTimeout(boot)).toBe(0)
    expect(getUserTimeout(scoped)).toBe(7000) // the gem's rule: bound at connect, never re-bound
  })

  it('the global default, set before a socket opens, binds it; one set after does not', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    const before = await connected(t.defer(net.connect(port, '127.0.0.1'), destroy))
    setGlobalDefault(13)
    t.add(() => setGlobalDefault(null))
    const after = await connected(t.defer(net.connect(port, '127.0.0.1'), destroy))
    expect([getUserTimeout(before), getUserTimeout(after)]).toEqual([0, 13000])
  })
})
