import http from 'node:http'
import net from 'node:net'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Agent as UndiciAgent, Pool } from 'undici'
import { getUserTimeout, setGlobalDefault, withTimeout } from '@tcp-user-timeout/core'
import { trackUndiciExchanges } from './helpers/exchanges.js'
import { closeAll, connected, get, httpServer, tcpServer } from './helpers/servers.js'

// An exchange belongs to the scope where the request was CREATED, whatever
// context the pool later gives it a socket in, and values never leak.

const tracker = trackUndiciExchanges()
afterAll(async () => {
  tracker.stop()
  await closeAll()
})
afterEach(() => setGlobalDefault(null))

const readBack = { read: getUserTimeout }

describe('node:http agent', () => {
  it('a server that closes every connection: each queued exchange holds its own scope (3, 5, 9 s)', async () => {
    const { origin } = await httpServer((_req, res) => {
      res.setHeader('connection', 'close')
      res.end('ok')
    })
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const seconds = [3, 5, 9]
    // All three are created at once; two wait in the agent's queue and get a
    // socket the agent creates while handling the previous one's close.
    const results = await Promise.all(
      seconds.map((s) => withTimeout(s, () => get(`${origin}/${s}`, { agent, ...readBack }))),
    )
    expect(results.map((r) => r.inFlight)).toEqual([3000, 5000, 9000])
    expect(new Set(results.map((r) => r.socket)).size).toBe(3)
    agent.destroy()
  })

  it('a pooled keep-alive socket reused by scopes of different values holds the current one', async () => {
    const { origin } = await httpServer()
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const seen: number[] = []
    const sockets = new Set<net.Socket>()
    for (const s of [3, 5, 9, 4, 4]) {
      const r = await withTimeout(s, () => get(`${origin}/`, { agent, ...readBack }))
      seen.push(r.inFlight!)
      sockets.add(r.socket)
    }
    expect(seen).toEqual([3000, 5000, 9000, 4000, 4000])
    expect(sockets.size).toBe(1)
    agent.destroy()
  })

  it('an unscoped exchange on a socket a scope opened puts it back to 0, or to the global default', async () => {
    const { origin } = await httpServer()
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const scoped = await withTimeout(7, () => get(`${origin}/`, { agent, ...readBack }))
    const unscoped = await get(`${origin}/`, { agent, ...readBack })
    setGlobalDefault(11)
    const withDefault = await get(`${origin}/`, { agent, ...readBack })
    expect([scoped.inFlight, unscoped.inFlight, withDefault.inFlight]).toEqual([7000, 0, 11000])
    expect(new Set([scoped.socket, unscoped.socket, withDefault.socket]).size).toBe(1)
    agent.destroy()
  })

  it('a keep-alive socket opened at boot (outside any scope) still reads 0 after scoped exchanges used it', async () => {
    const { origin } = await httpServer()
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const boot = await get(`${origin}/`, { agent, ...readBack }) // warms the pool at boot
    const scoped = await withTimeout(7, () => get(`${origin}/`, { agent, ...readBack }))
    expect(scoped.socket).toBe(boot.socket)
    expect(scoped.inFlight).toBe(0)
    expect(getUserTimeout(boot.socket)).toBe(0)
    agent.destroy()
  })
})

describe('fetch and undici', () => {
  it('a keep-alive socket reused by scopes of different values holds the current one', async () => {
    const { origin } = await httpServer()
    const dispatcher = new UndiciAgent({ connections: 1 })
    const sockets = new Set<net.Socket>()
    const seen: (number | undefined)[] = []
    for (const [i, s] of [3, 5, 9, 4].entries()) {
      const path = `/reuse-${i}`
      await withTimeout(s, async () => (await fetch(`${origin}${path}`, { dispatcher } as unknown as RequestInit)).text())
      const exchange = tracker.byPath.get(path)!
      seen.push(exchange.inFlight)
      sockets.add(exchange.socket)
    }
    expect(seen).toEqual([3000, 5000, 9000, 4000])
    expect(sockets.size).toBe(1)
    await dispatcher.close()
  })

  it('a server that closes every connection: each queued exchange on a 1-connection pool holds its own scope', async () => {
    const { origin } = await httpServer((_req, res) => {
      res.setHeader('connection', 'close')
      res.end('ok')
    })
    const pool = new Pool(origin, { connections: 1 })
    const seconds = [3, 5, 9]
    await Promise.all(
      seconds.map((s) =>
        withTimeout(s, async () => (await pool.request({ path: `/close-${s}`, method: 'GET' })).body.text()),
      ),
    )
    expect(seconds.map((s) => tracker.byPath.get(`/close-${s}`)?.inFlight)).toEqual([3000, 5000, 9000])
    await pool.close()
  })

  it('a pool warmed at boot stays at 0 when scoped exchanges use it (global fetch and an undici Pool)', async () => {
    const { origin } = await httpServer()
    const pool = new Pool(origin, { connections: 1 })
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
    await pool.close()
  })
})

describe('raw sockets', () => {
  it('a socket opened at boot reads 0 after a scope wrote to it; one opened in a scope keeps its value after', async () => {
    const { port } = await tcpServer()
    const boot = await connected(net.connect(port, '127.0.0.1'))
    const scoped = await withTimeout(7, async () => {
      boot.write('from a scope')
      return connected(net.connect(port, '127.0.0.1'))
    })
    scoped.write('outside the scope')
    expect(getUserTimeout(boot)).toBe(0)
    expect(getUserTimeout(scoped)).toBe(7000) // the gem's rule: bound at connect, never re-bound
    boot.destroy()
    scoped.destroy()
  })

  it('the global default, set before a socket opens, binds it; one set after does not', async () => {
    const { port } = await tcpServer()
    const before = await connected(net.connect(port, '127.0.0.1'))
    setGlobalDefault(13)
    const after = await connected(net.connect(port, '127.0.0.1'))
    expect([getUserTimeout(before), getUserTimeout(after)]).toEqual([0, 13000])
    before.destroy()
    after.destroy()
  })
})
