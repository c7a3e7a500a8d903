import net from 'node:net'
import tls from 'node:tls'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Pool } from 'undici'
import { getUserTimeout, stats, support, withTimeout } from '@tcp-user-timeout/core'
import { trackUndiciExchanges } from './helpers/exchanges.js'
import { ca, closeAll, connected, get, httpServer, httpsServer, tcpServer, tlsServer } from './helpers/servers.js'

// Every client path Node offers, read back with getsockopt: a socket used
// inside withTimeout(7, ...) holds 7000 ms, one used outside holds 0.

const tracker = trackUndiciExchanges()
afterAll(async () => {
  tracker.stop()
  await closeAll()
})

it('is supported on this machine (Linux with the ffi-rs binding)', () => {
  expect(support()).toEqual({ supported: true })
})

describe.each([
  ['inside withTimeout(7)', (fn: () => Promise<number | undefined>) => withTimeout(7, fn), 7000],
  ['outside any scope', (fn: () => Promise<number | undefined>) => fn(), 0],
] as const)('%s', (_label, run, expected) => {
  let tcp: Awaited<ReturnType<typeof tcpServer>>
  let tlsSrv: Awaited<ReturnType<typeof tlsServer>>
  let httpSrv: Awaited<ReturnType<typeof httpServer>>
  let httpsSrv: Awaited<ReturnType<typeof httpsServer>>
  const sockets: net.Socket[] = []
  beforeAll(async () => {
    ;[tcp, tlsSrv, httpSrv, httpsSrv] = await Promise.all([tcpServer(), tlsServer(), httpServer(), httpsServer()])
  })
  afterEach(() => {
    for (const s of sockets.splice(0)) s.destroy()
  })

  it('net.connect', async () => {
    const value = await run(async () => {
      const socket = net.connect(tcp.port, '127.0.0.1')
      sockets.push(socket)
      return getUserTimeout(await connected(socket))
    })
    expect(value).toBe(expected)
  })

  it('new net.Socket().connect() (what pg does)', async () => {
    const value = await run(async () => {
      const socket = new net.Socket()
      sockets.push(socket)
      socket.connect({ port: tcp.port, host: '127.0.0.1' })
      return getUserTimeout(await connected(socket))
    })
    expect(value).toBe(expected)
  })

  it('tls.connect', async () => {
    const value = await run(async () => {
      const socket = tls.connect({ port: tlsSrv.port, host: '127.0.0.1', ca })
      sockets.push(socket)
      return getUserTimeout(await connected(socket, 'secureConnect'))
    })
    expect(value).toBe(expected)
  })

  it('http.get', async () => {
    const value = await run(async () => (await get(`${httpSrv.origin}/`, { read: getUserTimeout })).inFlight)
    expect(value).toBe(expected)
  })

  it('https.get', async () => {
    const value = await run(async () => (await get(`${httpsSrv.origin}/`, { ca, read: getUserTimeout })).inFlight)
    expect(value).toBe(expected)
  })

  it('fetch over http', async () => {
    const path = `/fetch-http-${expected}`
    await run(async () => (await fetch(`${httpSrv.origin}${path}`)).text().then(() => undefined))
    expect(tracker.byPath.get(path)?.inFlight).toBe(expected)
  })

  it('fetch over https', async () => {
    const path = `/fetch-https-${expected}`
    await run(async () => (await fetch(`${httpsSrv.origin}${path}`)).text().then(() => undefined))
    expect(tracker.byPath.get(path)?.inFlight).toBe(expected)
  })

  it('an undici Pool', async () => {
    const path = `/undici-pool-${expected}`
    const pool = new Pool(httpSrv.origin, { connections: 2 })
    try {
      await run(async () => {
        const { body } = await pool.request({ path, method: 'GET' })
        await body.text()
        return undefined
      })
    } finally {
      await pool.close()
    }
    expect(tracker.byPath.get(path)?.inFlight).toBe(expected)
  })
})

it('counted every bind of a non-zero value', () => {
  // 8 client paths inside the scope; nothing outside binds.
  expect(stats().bound).toBeGreaterThanOrEqual(8)
  expect(stats().errors).toBe(0)
})
