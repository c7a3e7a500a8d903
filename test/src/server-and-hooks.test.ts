import dc from 'node:diagnostics_channel'
import http from 'node:http'
import net from 'node:net'
import { once } from 'node:events'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import {
  CHANNEL_BIND,
  getKeepAliveProbes,
  getUserTimeout,
  hardenServer,
  install,
  installed,
  setKeepAliveProbes,
  stats,
  uninstall,
  withTimeout,
  type BindMessage,
} from '@tcp-user-timeout/core'
import {
  connected,
  httpGet,
  listen,
  perTest,
  startTcpSink,
  startUpstream,
  type Teardown,
} from '@tcp-user-timeout/test-utils'

const destroy = (socket: net.Socket) => socket.destroy()

async function acceptedSocket(
  t: Teardown,
  server: net.Server,
  port: number,
): Promise<{ client: net.Socket; accepted: net.Socket }> {
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const client = await connected(t.defer(net.connect(port, '127.0.0.1'), destroy))
  return { client, accepted: (await accepted)[0] }
}

describe('hardenServer', () => {
  it('binds every accepted socket: user timeout and keep-alive probes read back; the undo stops it', async (ctx) => {
    const t = perTest(ctx)
    const { server, port } = await listen(
      t,
      net.createServer((s) => s.resume()),
    )
    const undo = hardenServer(server, {
      userTimeoutSeconds: 20,
      keepAlive: { idleSeconds: 15, intervalSeconds: 5, count: 3 },
    })
    const hardened = await acceptedSocket(t, server, port)
    expect(getUserTimeout(hardened.accepted)).toBe(20000)
    expect(getKeepAliveProbes(hardened.accepted)).toEqual({
      enabled: true,
      idleSeconds: 15,
      intervalSeconds: 5,
      count: 3,
    })
    expect(getUserTimeout(hardened.client)).toBe(0) // the client side is not the server's business
    undo()
    const plain = await acceptedSocket(t, server, port)
    expect(getUserTimeout(plain.accepted)).toBe(0)
    expect(getKeepAliveProbes(plain.accepted)?.enabled).toBe(false)
  })

  it('with keep-alive only, the user timeout is idle + interval * count', async (ctx) => {
    const t = perTest(ctx)
    const { server, port } = await listen(
      t,
      http.createServer((_q, r) => r.end()),
    )
    hardenServer(server, { keepAlive: { idleSeconds: 10, intervalSeconds: 2, count: 4 } })
    const { accepted } = await acceptedSocket(t, server, port)
    expect(getUserTimeout(accepted)).toBe(18000)
  })

  it('counts hardened sockets', async (ctx) => {
    const t = perTest(ctx)
    const before = stats().hardened
    const { server, port } = await listen(
      t,
      net.createServer((s) => s.resume()),
    )
    hardenServer(server, { userTimeoutSeconds: 5 })
    await acceptedSocket(t, server, port)
    expect(stats().hardened).toBe(before + 1)
  })
})

describe('setKeepAliveProbes', () => {
  it('turns keep-alive on with the given timing, on a socket and on a raw fd', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    const a = await connected(t.defer(net.connect(port, '127.0.0.1'), destroy))
    const b = await connected(t.defer(net.connect(port, '127.0.0.1'), destroy))
    expect(getKeepAliveProbes(a)?.enabled).toBe(false)
    expect(setKeepAliveProbes(a, { idleSeconds: 30, intervalSeconds: 10, count: 4 })).toBe(true)
    const fd = (b as unknown as { _handle: { fd: number } })._handle.fd
    expect(setKeepAliveProbes(fd, { idleSeconds: 7, intervalSeconds: 3, count: 2 })).toBe(true)
    expect(getKeepAliveProbes(a)).toEqual({ enabled: true, idleSeconds: 30, intervalSeconds: 10, count: 4 })
    expect(getKeepAliveProbes(fd)).toEqual({ enabled: true, idleSeconds: 7, intervalSeconds: 3, count: 2 })
  })
})

describe('diagnostics and steady state', () => {
  it('publishes tcp-user-timeout:bind { socket, ms } once per change, and keep-alive reuse costs no setsockopt', async (ctx) => {
    const t = perTest(ctx)
    const { origin } = await startUpstream(t)
    const agent = t.defer(new http.Agent({ keepAlive: true, maxSockets: 1 }), (a) => a.destroy())
    const binds: BindMessage[] = []
    const onBind = (m: unknown) => binds.push(m as BindMessage)
    dc.subscribe(CHANNEL_BIND, onBind)
    const first = await withTimeout(7, () => httpGet(`${origin}/`, { agent }))
    const calls = stats().setsockoptCalls
    for (let i = 0; i < 20; i++) await withTimeout(7, () => httpGet(`${origin}/`, { agent }))
    expect(stats().setsockoptCalls).toBe(calls)
    dc.unsubscribe(CHANNEL_BIND, onBind)
    expect(binds).toHaveLength(1)
    expect(binds[0]).toMatchObject({ socket: first.socket, ms: 7000, direction: 'outbound' })
  })
})

describe('exemptHosts', () => {
  it('leaves sockets to exempt hosts alone (exact names and RegExps)', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    const values = await withTimeout(
      7,
      async () => {
        const byIp = await connected(t.defer(net.connect(port, '127.0.0.1'), destroy))
        const byName = await connected(t.defer(net.connect(port, 'localhost'), destroy))
        const v = [getUserTimeout(byIp), getUserTimeout(byName)]
        return v
      },
      { exemptHosts: [/^localhost$/] },
    )
    expect(values).toEqual([7000, 0])
    const { origin } = await startUpstream(t)
    const viaHttp = await withTimeout(7, () => httpGet(`${origin}/`, { agent: false }), {
      exemptHosts: ['127.0.0.1'],
    })
    expect(viaHttp.inFlight).toBe(0)
  })
})

describe('install', () => {
  it('is idempotent and removable; sockets opened while removed are not bound', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    expect(installed()).toBe(true)
    expect(install()).toBe(true)
    const connect = net.Socket.prototype.connect
    expect(install()).toBe(true)
    expect(net.Socket.prototype.connect).toBe(connect) // not wrapped twice
    uninstall()
    try {
      const s = await withTimeout(7, () => connected(t.defer(net.connect(port, '127.0.0.1'), destroy)))
      expect(getUserTimeout(s)).toBe(0)
    } finally {
      install()
    }
    const s = await withTimeout(7, () => connected(t.defer(net.connect(port, '127.0.0.1'), destroy)))
    expect(getUserTimeout(s)).toBe(7000)
  })

  it('importing both the ESM and the CommonJS build shares one state (no double hooks)', async (ctx) => {
    const t = perTest(ctx)
    const { createRequire } = await import('node:module')
    const cjs = createRequire(import.meta.url)('@tcp-user-timeout/core') as typeof import('@tcp-user-timeout/core')
    const { port } = await startTcpSink(t)
    const value = await cjs.withTimeout(3, async () => {
      const s = await connected(t.defer(net.connect(port, '127.0.0.1'), destroy))
      return getUserTimeout(s)
    })
    expect(value).toBe(3000)
    expect(cjs.stats()).toEqual(stats())
  })
})

describe('other platforms', () => {
  it('importing never throws; off Linux everything is a documented no-op', async () => {
    const script = `
      Object.defineProperty(process, 'platform', { value: 'darwin' })
      const t = await import('@tcp-user-timeout/core')
      const net = await import('node:net')
      const s = new net.Socket()
      console.log(JSON.stringify({
        support: t.support(),
        installed: t.installed(),
        set: t.setUserTimeout(s, 1000),
        get: t.getUserTimeout(s) ?? null,
        scoped: t.withTimeout(2, () => t.currentTimeout()),
      }))`
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
    })
    const out = JSON.parse(stdout)
    expect(out.support.supported).toBe(false)
    expect(out.support.reason).toMatch(/Linux.*darwin.*no-op/)
    expect(out).toMatchObject({ installed: false, set: false, get: null, scoped: 2000 })
  })
})
