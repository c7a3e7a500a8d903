import net from 'node:net'
import tls from 'node:tls'
import { beforeAll, describe, expect, it } from 'vitest'
import { Pool } from 'undici'
import { getUserTimeout, stats, support, withTimeout } from '@tcp-user-timeout/core'
import {
  connected,
  httpGet,
  perSuite,
  perTest,
  startTcpSink,
  startUpstream,
  trackUndiciExchanges,
  type Served,
  type Teardown,
} from '@tcp-user-timeout/test-utils'
import { ca, startHttpsUpstream, startTlsSink } from './helpers/tls.js'

// Every client path Node offers, read back with getsockopt: a socket used
// inside withTimeout(7, ...) holds 7000 ms, one used outside holds 0.

const tracker = perSuite().defer(trackUndiciExchanges(), (x) => x.stop())

interface Servers {
  tcp: { port: number }
  tls: Served
  http: Served
  https: Served
}

async function startServers(t: Teardown): Promise<Servers> {
  const [tcp, tlsServer, httpServer, httpsServer] = await Promise.all([
    startTcpSink(t),
    startTlsSink(t),
    startUpstream(t),
    startHttpsUpstream(t),
  ])
  return { tcp, tls: tlsServer, http: httpServer, https: httpsServer }
}

const destroy = (socket: net.Socket) => socket.destroy()

/**
 * One client path: opens or reuses a socket to `servers` and resolves with
 * the value it held in flight. `tag` keeps an undici exchange's path apart
 * from every other one the tracker saw.
 */
type ClientPath = (servers: Servers, t: Teardown, tag: string) => Promise<number | undefined>

async function fetched(origin: string, path: string): Promise<number | undefined> {
  await (await fetch(`${origin}${path}`)).text()
  return tracker.byPath.get(path)?.inFlight
}

const clientPaths: Record<string, ClientPath> = {
  'net.connect': async (s, t) =>
    getUserTimeout(await connected(t.defer(net.connect(s.tcp.port, '127.0.0.1'), destroy))),
  'new net.Socket().connect() (what pg does)': async (s, t) => {
    const socket = t.defer(new net.Socket(), destroy)
    socket.connect({ port: s.tcp.port, host: '127.0.0.1' })
    return getUserTimeout(await connected(socket))
  },
  'tls.connect': async (s, t) =>
    getUserTimeout(
      await connected(t.defer(tls.connect({ port: s.tls.port, host: '127.0.0.1', ca }), destroy), 'secureConnect'),
    ),
  'http.get': async (s) => (await httpGet(`${s.http.origin}/`)).inFlight,
  'https.get': async (s) => (await httpGet(`${s.https.origin}/`, { ca })).inFlight,
  'fetch over http': (s, _t, tag) => fetched(s.http.origin, `/fetch-http-${tag}`),
  'fetch over https': (s, _t, tag) => fetched(s.https.origin, `/fetch-https-${tag}`),
  'an undici Pool': async (s, t, tag) => {
    const path = `/undici-pool-${tag}`
    const pool = t.defer(new Pool(s.http.origin, { connections: 2 }), (p) => p.close())
    const { body } = await pool.request({ path, method: 'GET' })
    await body.text()
    return tracker.byPath.get(path)?.inFlight
  },
}

it('is supported on this machine (Linux with the ffi-rs binding)', () => {
  expect(support()).toEqual({ supported: true })
})

describe.each([
  ['inside withTimeout(7)', <T>(fn: () => Promise<T>) => withTimeout(7, fn), 7000],
  ['outside any scope', <T>(fn: () => Promise<T>) => fn(), 0],
] as const)('%s', (_label, run, expected) => {
  const suite = perSuite()
  let servers: Servers
  beforeAll(async () => {
    servers = await startServers(suite)
  })

  for (const [name, clientPath] of Object.entries(clientPaths)) {
    it(name, async (ctx) => {
      const t = perTest(ctx)
      expect(await run(() => clientPath(servers, t, String(expected)))).toBe(expected)
    })
  }
})

it('counted every bind of a non-zero value', async (ctx) => {
  // Each client path opens its socket inside the scope, to servers of this
  // test's own (no pooled socket is reused): one bind each at least.
  const t = perTest(ctx)
  const servers = await startServers(t)
  const before = stats().bound
  for (const clientPath of Object.values(clientPaths)) await withTimeout(7, () => clientPath(servers, t, 'counted'))
  expect(stats().bound - before).toBeGreaterThanOrEqual(Object.keys(clientPaths).length)
  expect(stats().errors).toBe(0)
})
