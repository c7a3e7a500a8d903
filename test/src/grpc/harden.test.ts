/**
 * hardenServer(server, options?) of @tcp-user-timeout/grpc-js: the core's
 * hardening on every listener of a grpc-js Server, bound before or after
 * the call, with A18's default for a server built with keepalive. What
 * each accepted socket holds is read back with getsockopt (the core
 * reports them on tcp-user-timeout:bind, direction inbound).
 */
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_KEEPALIVE,
  getKeepAliveProbes,
  getUserTimeout,
  InvalidArgumentError,
  InvalidOptionError,
} from '@tcp-user-timeout/core'
import { hardenServer } from '@tcp-user-timeout/grpc-js'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils/teardown'
import { grpc, startClient, startServer, TLS_OPTIONS, tlsChannel, tlsServer, unary, watchBinds } from './helpers.js'

const echo: grpc.UntypedServiceImplementation = {
  unary: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
    callback(null, call.request),
}

/** One call on a new connection; the bound its accepted socket holds. */
async function accepted(t: Teardown, port: number, tls = false): Promise<net.Socket> {
  const binds = watchBinds(t)
  await unary(startClient(t, port, tls ? tlsChannel() : grpc.credentials.createInsecure(), tls ? TLS_OPTIONS : {}), 'x')
  const [socket, ...more] = binds.inbound(port)
  if (socket === undefined || more.length > 0)
    throw new Error(
      `expected one hardened connection on port ${port}, the core reported ${more.length + (socket ? 1 : 0)}`,
    )
  return socket
}

const DEFAULT_MS = (DEFAULT_KEEPALIVE.idleSeconds + DEFAULT_KEEPALIVE.intervalSeconds * DEFAULT_KEEPALIVE.count) * 1000

describe('every listener, whenever it is bound', { concurrent: true }, () => {
  it('called before bindAsync: the listener bound later is hardened (probes and user timeout), TLS too', async (ctx) => {
    const { expect } = ctx
    const t = perTest(ctx)
    const keepAlive = { idleSeconds: 5, intervalSeconds: 2, count: 3 }
    for (const tls of [false, true]) {
      const { port } = await startServer(t, echo, {
        credentials: tls ? tlsServer() : undefined,
        before: (server) => t.add(hardenServer(server, { userTimeoutSeconds: 9, keepAlive })),
      })
      const socket = await accepted(t, port, tls)
      expect(getUserTimeout(socket), tls ? 'TLS' : 'insecure').toBe(9000)
      expect(getKeepAliveProbes(socket)).toEqual({ enabled: true, ...keepAlive })
    }
  })

  it('called after bindAsync: the listener already bound is hardened, and one bound later as well', async (ctx) => {
    const { expect } = ctx
    const t = perTest(ctx)
    const { server, port } = await startServer(t, echo)
    t.add(hardenServer(server, { userTimeoutSeconds: 7 }))
    expect(getUserTimeout(await accepted(t, port))).toBe(7000)
    const later = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    )
    expect(getUserTimeout(await accepted(t, later))).toBe(7000)
  })

  it('the undo: new connections are no longer hardened', async (ctx) => {
    const { expect } = ctx
    const t = perTest(ctx)
    const { server, port } = await startServer(t, echo)
    const undo = hardenServer(server, { userTimeoutSeconds: 7 })
    expect(getUserTimeout(await accepted(t, port))).toBe(7000)
    undo()
    undo()
    const binds = watchBinds(t)
    const client = startClient(t, port, grpc.credentials.createInsecure())
    await unary(client, 'x')
    expect(binds.inbound(port), 'nothing hardened').toEqual([])
    // A listener bound after the undo is left alone too.
    const later = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    )
    await unary(startClient(t, later, grpc.credentials.createInsecure()), 'x')
    expect(binds.inbound(later)).toEqual([])
  })
})

describe("A18's default user timeout", { concurrent: true }, () => {
  it.for([
    ["no keepalive options: the core's default (probes 15/15/9: 150 s)", undefined, {}, DEFAULT_MS],
    [
      "grpc.keepalive_time_ms: grpc.keepalive_timeout_ms's default, 20 s",
      { 'grpc.keepalive_time_ms': 10_000 },
      {},
      20_000,
    ],
    [
      '+ grpc.keepalive_timeout_ms 3000: 3 s',
      { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 3000 },
      {},
      3000,
    ],
    [
      "grpc.keepalive_time_ms 2147483647 (off): the core's default",
      { 'grpc.keepalive_time_ms': 2_147_483_647 },
      {},
      DEFAULT_MS,
    ],
    ['userTimeoutSeconds wins', { 'grpc.keepalive_time_ms': 10_000 }, { userTimeoutSeconds: 4 }, 4000],
    [
      'keepAlive: false with keepalive options: the keepalive timeout alone',
      { 'grpc.keepalive_time_ms': 10_000 },
      { keepAlive: false },
      20_000,
    ],
  ] as const)('%s', async ([, options, harden, expected], ctx) => {
    const t = perTest(ctx)
    const { port } = await startServer(t, echo, { options, before: (server) => t.add(hardenServer(server, harden)) })
    ctx.expect(getUserTimeout(await accepted(t, port))).toBe(expected)
  })
})

describe('arguments are checked when hardenServer is called', () => {
  it.each([
    [{ userTimeoutSeconds: 0 }, /userTimeoutSeconds/],
    [{ keepAlive: { idleSeconds: 0, intervalSeconds: 1, count: 1 } }, /keepAlive\.idleSeconds/],
    [{ keepAlive: false }, /with keepAlive: false, give userTimeoutSeconds/],
    [{ reap: true }, /unknown option "reap"/],
  ])("%j → the core's InvalidOptionError, before any listener exists", (options, message) => {
    const server = new grpc.Server()
    let thrown: unknown
    try {
      hardenServer(server, options as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError)
    expect((thrown as Error).message).toMatch(message)
  })

  it.each([null, new net.Server(), {}])(
    "%s is not a grpc-js Server → InvalidArgumentError naming the core's hardenServer for it",
    (server) => {
      let thrown: unknown
      try {
        hardenServer(server as never)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(InvalidArgumentError)
      expect((thrown as Error).message).toMatch(
        /takes a @grpc\/grpc-js Server .*hardenServer of @tcp-user-timeout\/core/,
      )
    },
  )
})
