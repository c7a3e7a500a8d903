/**
 * withUserTimeout(credentials, options?): channel credentials of the same
 * kind whose every connection is pinned as gRPC A18 says. Real grpc-js
 * servers and channels on 127.0.0.1; each pin is read back with
 * getsockopt on the channel's own socket (reported by the core on
 * tcp-user-timeout:bind when pinned), after the call, while the channel
 * still holds it.
 */
import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { getUserTimeout, InvalidArgumentError, InvalidOptionError, withTimeout } from '@tcp-user-timeout/core'
import { withUserTimeout } from '@tcp-user-timeout/grpc-js'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils/teardown'
import { grpc, startClient, startServer, TLS_OPTIONS, tlsChannel, tlsServer, unary, watchBinds } from './helpers.js'

const echo: grpc.UntypedServiceImplementation = {
  unary: (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
    callback(null, call.request),
}

const callCredentials = () =>
  grpc.credentials.createFromMetadataGenerator((_params, callback) => {
    const metadata = new grpc.Metadata()
    metadata.set('x-auth', 'token')
    callback(null, metadata)
  })

/**
 * One call through a new channel, made in a 9 s scope so that the core
 * reports its socket even when nothing pins it; then the value its one
 * connection holds once the call's stream has closed (a pin, or, without
 * one, what the multiplexed rule leaves: 0), read back with getsockopt.
 */
async function pinOf(
  t: Teardown,
  port: number,
  credentials: grpc.ChannelCredentials,
  options: grpc.ChannelOptions,
  expected: number,
): Promise<number | undefined> {
  const binds = watchBinds(t)
  await withTimeout(9, () => unary(startClient(t, port, credentials, options), 'x'))
  const [socket, ...more] = binds.outbound(port)
  expect(more, 'one connection').toEqual([])
  // Event-driven: the stream's close may come after the call's callback.
  await binds.until(socket, expected).catch(() => {})
  return getUserTimeout(socket)
}

describe('the credentials keep their kind', () => {
  const insecure = grpc.credentials.createInsecure()
  const ssl = tlsChannel()

  it('insecure, TLS, combined: still ChannelCredentials, secure or not as before; compose keeps the pin and still refuses insecure', () => {
    const combined = grpc.credentials.combineChannelCredentials(ssl, callCredentials())
    for (const [inner, secure] of [
      [insecure, false],
      [ssl, true],
      [combined, true],
    ] as const) {
      const pinned = withUserTimeout(inner, { userTimeoutSeconds: 4 })
      expect(pinned).toBeInstanceOf(grpc.ChannelCredentials)
      expect(pinned._isSecure()).toBe(secure)
    }
    expect(() => withUserTimeout(insecure).compose(callCredentials())).toThrow('Cannot compose insecure credentials')
    const composed = withUserTimeout(ssl, { userTimeoutSeconds: 6 }).compose(callCredentials())
    expect(composed).toBeInstanceOf(grpc.ChannelCredentials)
    expect(
      composed._equals(withUserTimeout(ssl, { userTimeoutSeconds: 6 })),
      'composed with call credentials: not the same',
    ).toBe(false)
    expect(composed.constructor, 'the same pinned class').toBe(withUserTimeout(ssl).constructor)
  })

  it('pinned and unpinned credentials are never equal, either way (the global subchannel pool is keyed on it)', () => {
    const pinned = withUserTimeout(insecure, { userTimeoutSeconds: 9 })
    expect(insecure._equals(pinned)).toBe(false)
    expect(pinned._equals(insecure)).toBe(false)
    expect(ssl._equals(withUserTimeout(ssl))).toBe(false)
    expect(pinned._equals(withUserTimeout(grpc.credentials.createInsecure(), { userTimeoutSeconds: 9 }))).toBe(true)
    expect(pinned._equals(withUserTimeout(insecure, { userTimeoutSeconds: 8 }))).toBe(false)
    expect(withUserTimeout(insecure)._equals(withUserTimeout(insecure))).toBe(true)
    // Wrapping again replaces the options: no second layer.
    expect(
      withUserTimeout(pinned, { userTimeoutSeconds: 8 })._equals(withUserTimeout(insecure, { userTimeoutSeconds: 8 })),
    ).toBe(true)
  })
})

describe('options are checked when withUserTimeout is called', () => {
  const insecure = grpc.credentials.createInsecure()

  it.each([
    [null, /options must be an object such as \{ userTimeoutSeconds: 20 \}.*received null/],
    [20, /options must be an object .*received 20/],
    [{ seconds: 20 }, /unknown option "seconds"; the one option is userTimeoutSeconds/],
    [
      { userTimeoutSeconds: 0 },
      /userTimeoutSeconds must be a finite number of seconds > 0 .*received 0\. 0 is not "off": to leave the connections unpinned, pass the credentials without withUserTimeout\(\)/,
    ],
    [{ userTimeoutSeconds: -1 }, /received -1; e\.g\. \{ userTimeoutSeconds: 20 \}/],
    [{ userTimeoutSeconds: '20' }, /received "20"/],
    [{ userTimeoutSeconds: Number.NaN }, /received NaN/],
    [{ userTimeoutSeconds: Number.POSITIVE_INFINITY }, /received Infinity/],
    [{ userTimeoutSeconds: 3e6 }, /at most 2147483\.647\), received 3000000/],
  ])('%j → InvalidOptionError', (options, message) => {
    let thrown: unknown
    try {
      withUserTimeout(insecure, options as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError)
    expect(thrown).toMatchObject({ code: 'TUT_ERR_INVALID_OPTION', message: expect.stringMatching(message) })
  })

  it.each([undefined, {}, 'insecure', new net.Socket()])(
    'credentials %s → InvalidArgumentError naming what it takes',
    (credentials) => {
      expect(() => withUserTimeout(credentials as never)).toThrow(InvalidArgumentError)
      expect(() => withUserTimeout(credentials as never)).toThrow(
        /takes @grpc\/grpc-js channel credentials, such as grpc\.credentials\.createInsecure\(\)/,
      )
    },
  )

  it('credentials of a grpc-js older than 1.13 → InvalidArgumentError saying to upgrade', () => {
    const old = { _isSecure: () => false, _equals: () => false, compose: () => old, _getConnectionOptions: () => null }
    expect(() => withUserTimeout(old as never)).toThrow(/needs @grpc\/grpc-js 1\.13 or later/)
  })
})

describe("every connection is pinned as A18 says (read back on the channel's socket)", { concurrent: true }, () => {
  const KEEPALIVE = { 'grpc.keepalive_time_ms': 10_000 }
  const OFF = 2_147_483_647

  it.for([
    ["no keepalive, no option: no pin (the scope's stream has ended: 0)", {}, undefined, 0],
    ["grpc.keepalive_time_ms → grpc.keepalive_timeout_ms's default, 20000", KEEPALIVE, undefined, 20_000],
    ['+ grpc.keepalive_timeout_ms 5000 → 5000', { ...KEEPALIVE, 'grpc.keepalive_timeout_ms': 5000 }, undefined, 5000],
    ['grpc.keepalive_timeout_ms alone: keepalive is off, no pin', { 'grpc.keepalive_timeout_ms': 5000 }, undefined, 0],
    [`grpc.keepalive_time_ms ${OFF} (grpc-js's "off"): no pin`, { 'grpc.keepalive_time_ms': OFF }, undefined, 0],
    ['userTimeoutSeconds 3 → 3000', {}, 3, 3000],
    ['userTimeoutSeconds wins over keepalive', { ...KEEPALIVE, 'grpc.keepalive_timeout_ms': 5000 }, 2.5, 2500],
  ] as const)('insecure, %s', async ([, options, userTimeoutSeconds, expected], ctx) => {
    const t = perTest(ctx)
    const { port } = await startServer(t, echo)
    const credentials = withUserTimeout(
      grpc.credentials.createInsecure(),
      userTimeoutSeconds === undefined ? undefined : { userTimeoutSeconds },
    )
    expect(await pinOf(t, port, credentials, options, expected)).toBe(expected)
  })

  it('TLS: the raw socket under TLS is pinned (20000 with keepalive; 4000 combined with call credentials; 6000 composed after)', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startServer(t, echo, { credentials: tlsServer() })
    expect(
      await pinOf(t, port, withUserTimeout(tlsChannel()), { ...TLS_OPTIONS, 'grpc.keepalive_time_ms': 10_000 }, 20_000),
    ).toBe(20_000)
    const combined = grpc.credentials.combineChannelCredentials(tlsChannel(), callCredentials())
    expect(await pinOf(t, port, withUserTimeout(combined, { userTimeoutSeconds: 4 }), TLS_OPTIONS, 4000)).toBe(4000)
    expect(
      await pinOf(
        t,
        port,
        withUserTimeout(tlsChannel(), { userTimeoutSeconds: 6 }).compose(callCredentials()),
        TLS_OPTIONS,
        6000,
      ),
    ).toBe(6000)
  })

  it('a pin wins over the scope a call runs in, while the call is in flight and after', async (ctx) => {
    const t = perTest(ctx)
    let inFlight: number | undefined
    const binds = watchBinds(t)
    let portOf = 0
    const { port } = await startServer(t, {
      unary: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => {
        inFlight = getUserTimeout(binds.outbound(portOf)[0])
        callback(null, 'ok')
      },
    })
    portOf = port
    const client = startClient(t, port, withUserTimeout(grpc.credentials.createInsecure(), { userTimeoutSeconds: 4 }))
    await withTimeout(30, () => unary(client, 'x'))
    expect(inFlight).toBe(4000)
    expect(getUserTimeout(binds.outbound(port)[0])).toBe(4000)
  })

  it('the global subchannel pool gives a pinned and an unpinned channel to one server a connection each', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startServer(t, echo)
    const binds = watchBinds(t)
    const shared = { 'grpc.use_local_subchannel_pool': 0, 'grpc.keepalive_time_ms': 10_000 }
    await withTimeout(9, () => unary(startClient(t, port, grpc.credentials.createInsecure(), shared), 'x'))
    await withTimeout(9, () =>
      unary(startClient(t, port, withUserTimeout(grpc.credentials.createInsecure()), shared), 'x'),
    )
    const sockets = binds.outbound(port)
    expect(sockets).toHaveLength(2)
    expect(sockets.map((s) => getUserTimeout(s))).toEqual([0, 20_000])
  })
})

describe('reconnections and proxies', () => {
  it('every connection of a channel is pinned, including after the server restarted on the same port', async (ctx) => {
    const t = perTest(ctx)
    const binds = watchBinds(t)
    const first = await startServer(t, echo)
    const port = first.port
    const client = startClient(t, port, withUserTimeout(grpc.credentials.createInsecure()), {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.initial_reconnect_backoff_ms': 100,
    })
    await unary(client, 'one')
    const [before] = binds.outbound(port)
    expect(getUserTimeout(before)).toBe(20_000)

    first.server.forceShutdown()
    // Once the channel has seen its connection go: a call made before would be sent on it.
    if (!before.destroyed) await once(before, 'close')
    await startServer(t, echo, { port })
    await unary(client, 'two', { waitForReady: true, deadline: Date.now() + 10_000 })
    const sockets = binds.outbound(port)
    expect(sockets, 'a second connection').toHaveLength(2)
    expect(sockets[0].destroyed, 'the first one closed with the server').toBe(true)
    expect(getUserTimeout(sockets[1])).toBe(20_000)
    expect(
      binds.messages.filter((m) => m.direction === 'outbound').map((m) => m.ms),
      'pinned once each, nothing else',
    ).toEqual([20_000, 20_000])
  })

  it('a connection through an HTTP CONNECT proxy (grpc_proxy) is pinned: the socket to the proxy, insecure and TLS', async (ctx) => {
    const t = perTest(ctx)
    const insecureServer = await startServer(t, echo)
    const tlsServerPort = (await startServer(t, echo, { credentials: tlsServer() })).port
    const proxy = await startConnectProxy(t)
    const binds = watchBinds(t)
    // grpc-js reads the proxy from the environment when a channel is made.
    const saved = { ...process.env }
    t.add(() => Object.assign(process.env, saved))
    for (const key of ['no_grpc_proxy', 'no_proxy', 'NO_PROXY']) delete process.env[key]
    process.env.grpc_proxy = `http://127.0.0.1:${proxy.port}`
    await unary(
      startClient(
        t,
        insecureServer.port,
        withUserTimeout(grpc.credentials.createInsecure(), { userTimeoutSeconds: 5 }),
      ),
      'x',
    )
    await unary(
      startClient(t, tlsServerPort, withUserTimeout(tlsChannel(), { userTimeoutSeconds: 7 }), TLS_OPTIONS),
      'x',
    )
    delete process.env.grpc_proxy
    Object.assign(process.env, saved)
    expect(proxy.tunnels).toEqual([`127.0.0.1:${insecureServer.port}`, `127.0.0.1:${tlsServerPort}`])
    expect(binds.outbound(proxy.port).map((s) => getUserTimeout(s))).toEqual([5000, 7000])
  })
})

/** A minimal HTTP CONNECT proxy on 127.0.0.1 that records each tunnel's target. */
async function startConnectProxy(t: Teardown): Promise<{ port: number; tunnels: string[] }> {
  const tunnels: string[] = []
  const sockets = new Set<net.Socket>()
  const proxy = http.createServer()
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    tunnels.push(req.url!)
    const [host, port] = req.url!.split(':')
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client).pipe(upstream)
    })
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('error', () => {})
      s.once('close', () => (client.destroy(), upstream.destroy()))
    }
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  t.add(() => new Promise<void>((resolve) => (sockets.forEach((s) => s.destroy()), proxy.close(() => resolve()))))
  return { port: (proxy.address() as net.AddressInfo).port, tunnels }
}
