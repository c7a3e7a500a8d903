/**
 * hardenServer on every kind of server a user has, read back with getsockopt
 * on the accepted sockets: node's net/http/https servers, and the servers
 * behind Express (`app.listen`), Koa (`app.listen`) and Fastify (the plugin's
 * `hardenServer` option, applied to `fastify.server`).
 */
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_KEEPALIVE,
  getKeepAliveProbes,
  getUserTimeout,
  hardenServer,
  stats,
  type HardenOptions,
} from '@tcp-user-timeout/core'
import { hardenServer as expressHarden, tcpUserTimeout as expressMiddleware } from '@tcp-user-timeout/express'
import { hardenServer as koaHarden } from '@tcp-user-timeout/koa'
import { tcpUserTimeout as fastifyPlugin } from '@tcp-user-timeout/fastify'
import express from 'express'
import Koa from 'koa'
import Fastify from 'fastify'
import { fileURLToPath } from 'node:url'
import { connected, listen, perTest, type Teardown } from '@tcp-user-timeout/test-utils'
import { describeChild, resultOf, runNode } from './helpers/child.js'
import { tlsOptions } from './helpers/tls.js'

const options: HardenOptions = { userTimeoutSeconds: 7, keepAlive: { idleSeconds: 11, intervalSeconds: 3, count: 4 } }
const expected = { userTimeout: 7000, probes: { enabled: true, idleSeconds: 11, intervalSeconds: 3, count: 4 } }

/** Connects to the server and reads the option back on the socket it accepted. */
async function readBackAccepted(server: net.Server) {
  const port = (server.address() as net.AddressInfo).port
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const client = await connected(net.connect(port, '127.0.0.1'))
  const [socket] = await accepted
  try {
    return { userTimeout: getUserTimeout(socket), probes: getKeepAliveProbes(socket) }
  } finally {
    client.destroy()
  }
}

/** A server the framework started listening; closed with `t`. */
async function listening<S extends net.Server>(t: Teardown, server: S): Promise<S> {
  t.defer(server, (s) => new Promise((resolve) => s.close(resolve)))
  if (!server.listening) await once(server, 'listening')
  return server
}

describe('hardenServer read back on the accepted sockets of each kind of server', { concurrent: true }, () => {
  it('net.Server', async (ctx) => {
    const t = perTest(ctx)
    const { server } = await listen(
      t,
      net.createServer((s) => s.resume()),
    )
    hardenServer(server, options)
    expect(await readBackAccepted(server)).toEqual(expected)
  })

  it('http.Server', async (ctx) => {
    const t = perTest(ctx)
    const { server } = await listen(
      t,
      http.createServer((_req, res) => res.end()),
    )
    hardenServer(server, options)
    expect(await readBackAccepted(server)).toEqual(expected)
  })

  it('https.Server (the raw TCP socket under TLS)', async (ctx) => {
    const t = perTest(ctx)
    const { server } = await listen(
      t,
      https.createServer(tlsOptions, (_req, res) => res.end()),
    )
    hardenServer(server, options)
    expect(await readBackAccepted(server)).toEqual(expected)
  })

  it('Express: hardenServer(app.listen(...)) from the adapter, next to the middleware', async (ctx) => {
    const t = perTest(ctx)
    const app = express()
    app.use(expressMiddleware({ seconds: 25 }))
    const server = await listening(t, app.listen(0, '127.0.0.1'))
    expressHarden(server, options)
    expect(await readBackAccepted(server)).toEqual(expected)
  })

  it('Koa: hardenServer(app.listen(...)) from the adapter', async (ctx) => {
    const t = perTest(ctx)
    const server = await listening(t, new Koa().listen(0, '127.0.0.1'))
    koaHarden(server, options)
    expect(await readBackAccepted(server)).toEqual(expected)
  })

  it('Fastify: the plugin option hardenServer, applied to fastify.server; undone on close', async () => {
    const app = Fastify()
    await app.register(fastifyPlugin, { seconds: 25, hardenServer: options })
    await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      expect(await readBackAccepted(app.server)).toEqual(expected)
    } finally {
      await app.close()
    }
    expect(app.server.listenerCount('connection')).toBeLessThanOrEqual(1) // Node's own http listener only
  })

  it('Fastify: hardenServer: true gives the documented defaults', async (ctx) => {
    const t = perTest(ctx)
    const app = t.defer(Fastify(), (a) => a.close())
    await app.register(fastifyPlugin, { seconds: 25, hardenServer: true })
    await app.listen({ port: 0, host: '127.0.0.1' })
    expect(await readBackAccepted(app.server)).toEqual({
      userTimeout: 150_000,
      probes: { enabled: true, ...DEFAULT_KEEPALIVE },
    })
  })
})

describe('hardenServer defaults and validation', { concurrent: true }, () => {
  it('no options: Go-style probes 15 s / 15 s / 9, user timeout idle + interval * count = 150 s', async (ctx) => {
    const t = perTest(ctx)
    expect(DEFAULT_KEEPALIVE).toEqual({ idleSeconds: 15, intervalSeconds: 15, count: 9 })
    const { server } = await listen(
      t,
      net.createServer((s) => s.resume()),
    )
    hardenServer(server)
    expect(await readBackAccepted(server)).toEqual({
      userTimeout: 150_000,
      probes: { enabled: true, idleSeconds: 15, intervalSeconds: 15, count: 9 },
    })
  })

  it('only a user timeout: the default probes still catch idle ghosts', async (ctx) => {
    const t = perTest(ctx)
    const { server } = await listen(
      t,
      net.createServer((s) => s.resume()),
    )
    hardenServer(server, { userTimeoutSeconds: 30 })
    expect(await readBackAccepted(server)).toEqual({
      userTimeout: 30_000,
      probes: { enabled: true, ...DEFAULT_KEEPALIVE },
    })
  })

  it('keepAlive: false leaves the probes off', async (ctx) => {
    const t = perTest(ctx)
    const { server } = await listen(
      t,
      net.createServer((s) => s.resume()),
    )
    hardenServer(server, { userTimeoutSeconds: 30, keepAlive: false })
    const seen = await readBackAccepted(server)
    expect(seen.userTimeout).toBe(30_000)
    expect(seen.probes?.enabled).toBe(false)
  })

  it('Fastify: a bad hardenServer option rejects the registration with a coded error', async (ctx) => {
    const t = perTest(ctx)
    const app = t.defer(Fastify(), (a) => a.close())
    const outcome = await app.register(fastifyPlugin, { seconds: 25, hardenServer: { userTimeoutSeconds: -1 } }).then(
      () => 'registered',
      (error: { code?: string; message?: string }) => `${error.code}: ${error.message}`,
    )
    expect(outcome).toMatch(/^TUT_ERR_INVALID_OPTION: hardenServer: userTimeoutSeconds .*received -1/)
  })
})

describe("Node's own keepAlive server option: hardenServer's probes win", { concurrent: true }, () => {
  // Node calls setKeepAlive(true, keepAliveInitialDelay) on each accepted
  // socket before 'connection'; libuv then sets the idle to the delay and
  // resets interval and count to 1 s and 10 over what the listener passed on.
  const kinds = {
    http: (o: net.ServerOpts) => http.createServer(o, (_req, res) => res.end()),
    net: (o: net.ServerOpts) => net.createServer(o, (s) => s.resume()),
  }
  type Kind = keyof typeof kinds
  const matrix = (['http', 'net'] as const).flatMap((kind) =>
    ([1000, undefined] as const).flatMap((delay) =>
      (['before', 'after'] as const).map((when) => [kind, delay, when] as const),
    ),
  )

  /**
   * A server with { keepAlive: true, keepAliveInitialDelay: delay }, hardened
   * before or after it listens (or not at all).
   */
  async function served(
    t: Teardown,
    kind: Kind,
    delay: number | undefined,
    when: 'before' | 'after' | 'never',
    harden: HardenOptions = options,
  ) {
    const server = kinds[kind]({ keepAlive: true, ...(delay === undefined ? {} : { keepAliveInitialDelay: delay }) })
    if (when === 'before') hardenServer(server, harden)
    await listen(t, server)
    if (when === 'after') hardenServer(server, harden)
    return server
  }

  it.for(['http', 'net'] as const)(
    '%s, not hardened: Node leaves probes of 1 s idle / 1 s / 10 and no user timeout (what would override)',
    async (kind, ctx) => {
      const server = await served(perTest(ctx), kind, 1000, 'never')
      expect(await readBackAccepted(server)).toEqual({
        userTimeout: 0,
        probes: { enabled: true, idleSeconds: 1, intervalSeconds: 1, count: 10 },
      })
    },
  )

  it.for(matrix)(
    '%s, keepAliveInitialDelay %s, hardened %s listen: the probes and the user timeout given',
    async ([kind, delay, when], ctx) => {
      const server = await served(perTest(ctx), kind, delay, when)
      expect(await readBackAccepted(server)).toEqual(expected)
    },
  )

  it.for(['before', 'after'] as const)(
    "keepAlive: false leaves Node's probes alone; the user timeout " +
      '(which setKeepAlive never touches) still holds (hardened %s listen)',
    async (when, ctx) => {
      const server = await served(perTest(ctx), 'http', 1000, when, { userTimeoutSeconds: 30, keepAlive: false })
      expect(await readBackAccepted(server)).toEqual({
        userTimeout: 30_000,
        probes: { enabled: true, idleSeconds: 1, intervalSeconds: 1, count: 10 },
      })
    },
  )
})

describe('set once on the listener: no syscall per accepted connection', () => {
  /** Accepts `n` connections; returns what each accepted socket holds and the setsockopt calls they cost. */
  async function acceptMany(t: Teardown, server: net.Server, n: number) {
    const port = (server.address() as net.AddressInfo).port
    const calls = stats().setsockoptCalls
    const seen: { userTimeout: number | undefined; probes: ReturnType<typeof getKeepAliveProbes> }[] = []
    for (let i = 0; i < n; i++) {
      const accepted = once(server, 'connection') as Promise<[net.Socket]>
      await connected(t.defer(net.connect(port, '127.0.0.1'), (c) => c.destroy()))
      const [socket] = await accepted
      seen.push({ userTimeout: getUserTimeout(socket), probes: getKeepAliveProbes(socket) })
    }
    const cost = stats().setsockoptCalls - calls
    return { seen, cost }
  }

  it('hardened after listen: 20 accepted sockets read the bound and the probes, at 0 setsockopt calls', async (ctx) => {
    const t = perTest(ctx)
    const { server } = await listen(
      t,
      net.createServer((s) => s.resume()),
    )
    hardenServer(server, options)
    const { seen, cost } = await acceptMany(t, server, 20)
    expect(seen).toEqual(Array(20).fill(expected))
    expect(cost).toBe(0)
  })

  it('hardened before listen: the same, set when the server starts listening', async (ctx) => {
    const t = perTest(ctx)
    const server = http.createServer((_req, res) => res.end())
    hardenServer(server, options)
    await listen(t, server)
    const { seen, cost } = await acceptMany(t, server, 20)
    expect(seen).toEqual(Array(20).fill(expected))
    expect(cost).toBe(0)
  })

  it("with Node's keepAlive server option: only the probes are set again on each accepted socket (4 calls), the user timeout stays inherited", async (ctx) => {
    const t = perTest(ctx)
    const { server } = await listen(
      t,
      net.createServer({ keepAlive: true, keepAliveInitialDelay: 1000 }, (s) => s.resume()),
    )
    hardenServer(server, options)
    const { seen, cost } = await acceptMany(t, server, 5)
    expect(seen).toEqual(Array(5).fill(expected))
    expect(cost).toBe(5 * 4)
  })

  it('the undo puts the listener back: later connections are not hardened', async (ctx) => {
    const t = perTest(ctx)
    const { server } = await listen(
      t,
      net.createServer((s) => s.resume()),
    )
    const undo = hardenServer(server, options)
    undo()
    const { seen } = await acceptMany(t, server, 2)
    for (const s of seen) {
      expect(s.userTimeout).toBe(0)
      expect(s.probes?.enabled).toBe(false)
    }
  })

  const CLUSTER = fileURLToPath(new URL('./fixtures/cluster-harden.mjs', import.meta.url))
  it.each([
    [
      'round-robin (the primary accepts: the worker has no listening fd, so each accepted socket is set: 5 calls)',
      'rr',
      5,
    ],
    ['SCHED_NONE (the worker listens on the shared fd: set once there, 0 calls per connection)', 'none', 0],
  ])('a cluster worker, %s', async (_name, policy, perConnection) => {
    const run = await runNode([CLUSTER, policy], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      timeoutMs: 20_000,
    })
    const result = resultOf<{ seen: unknown[]; setsockoptPerConnection: number }>(run)
    expect(result, describeChild('cluster-harden.mjs', run)).toBeDefined()
    expect(result!.seen).toEqual(Array(5).fill(expected))
    expect(result!.setsockoptPerConnection).toBe(perConnection)
  })
})
