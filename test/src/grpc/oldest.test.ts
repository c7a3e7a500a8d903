/**
 * The oldest @grpc/grpc-js of the peer range, 1.13.0 (installed here as
 * grpc-js-oldest), loaded as a second copy beside the application's: its
 * credentials are pinned, its channels get the queued-call patch (found
 * from its credentials when withUserTimeout first sees them), its server
 * ends every call's scope, and hardenServer reads its options.
 */
import { createRequire } from 'node:module'
import type net from 'node:net'
import { describe, it } from 'vitest'
import { currentTimeout, getUserTimeout, withTimeout } from '@tcp-user-timeout/core'
import { hardenServer, tcpUserTimeout, withUserTimeout } from '@tcp-user-timeout/grpc-js'
import { perTest } from '@tcp-user-timeout/test-utils/teardown'
import { latch, TestService, watchBinds } from './helpers.js'

const grpc = createRequire(import.meta.url)('grpc-js-oldest') as typeof import('@grpc/grpc-js')
const version = (createRequire(import.meta.url)('grpc-js-oldest/package.json') as { version: string }).version

describe(`@grpc/grpc-js ${version}, a second copy`, () => {
  it("pinned (A18), queued calls in their own scopes, every call kind ends its scope, hardened with A18's default", async (ctx) => {
    const { expect } = ctx
    expect(version).toBe('1.13.0')
    const t = perTest(ctx)
    const binds = watchBinds(t)
    const ended: string[] = []
    const allEnded = latch("every call's 'cancelled'")
    const arrived = new Set<string>()
    const all = latch('three unary calls at the server')
    const release = latch('release')
    const server = t.defer(
      new grpc.Server({ 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 3000 }),
      (s) => s.forceShutdown(),
    )
    t.add(hardenServer(server))
    const end = (kind: string, call: { once(event: 'cancelled', f: () => void): unknown }) =>
      call.once('cancelled', () => {
        if (ended.push(kind) === 6) allEnded.open()
      })
    server.addService(
      TestService,
      tcpUserTimeout(
        {
          unary: (
            call: import('@grpc/grpc-js').ServerUnaryCall<string, unknown>,
            callback: import('@grpc/grpc-js').sendUnaryData<unknown>,
          ) => {
            end('unary', call)
            arrived.add(call.request)
            if (arrived.size === 3) all.open()
            void release.wait(10_000).then(() => callback(null, currentTimeout() ?? null))
          },
          serverStream: (call: import('@grpc/grpc-js').ServerWritableStream<unknown, unknown>) => {
            end('server-streaming', call)
            call.write(currentTimeout())
            call.end()
          },
          clientStream: (
            call: import('@grpc/grpc-js').ServerReadableStream<unknown, unknown>,
            callback: import('@grpc/grpc-js').sendUnaryData<unknown>,
          ) => {
            end('client-streaming', call)
            call.on('data', () => {}).on('end', () => callback(null, currentTimeout()))
          },
          bidi: (call: import('@grpc/grpc-js').ServerDuplexStream<unknown, unknown>) => {
            end('bidi', call)
            call.on('data', () => call.write(currentTimeout())).on('end', () => call.end())
          },
        },
        { seconds: 25 },
      ),
    )
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    )
    const client = t.defer(
      new grpc.Client(`127.0.0.1:${port}`, withUserTimeout(grpc.credentials.createInsecure()), {
        'grpc.keepalive_time_ms': 10_000,
        'grpc.use_local_subchannel_pool': 1,
      }),
      (c) => c.close(),
    )

    // Queued behind the connection A starts: each call's callback in its own scope.
    const seen: Record<string, number | undefined> = {}
    const m = TestService.Unary
    const call = (name: string) =>
      new Promise<void>((resolve, reject) =>
        client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, name, (e) => {
          seen[name] = currentTimeout()
          if (e) reject(e)
          else resolve()
        }),
      )
    const calls = [withTimeout(3, () => call('A')), withTimeout(7, () => call('B')), call('C')]
    await all.wait(10_000)
    release.open()
    await Promise.all(calls)
    expect(seen).toEqual({ A: 3000, B: 7000, C: undefined })

    const stream = <T>(
      c:
        | import('@grpc/grpc-js').ClientReadableStream<unknown>
        | import('@grpc/grpc-js').ClientDuplexStream<unknown, unknown>,
    ) =>
      new Promise<T[]>((resolve, reject) => {
        const got: T[] = []
        c.on('data', (d: T) => got.push(d))
          .on('error', reject)
          .on('status', () => resolve(got))
      })
    const s = TestService.ServerStream
    expect(await stream(client.makeServerStreamRequest(s.path, s.requestSerialize, s.responseDeserialize, {}))).toEqual(
      [25_000],
    )
    const cs = TestService.ClientStream
    const clientStreamed = await new Promise((resolve, reject) => {
      const w = client.makeClientStreamRequest(cs.path, cs.requestSerialize, cs.responseDeserialize, (e, v) =>
        e ? reject(e) : resolve(v),
      )
      w.write(1)
      w.end()
    })
    expect(clientStreamed).toBe(25_000)
    const b = TestService.Bidi
    const duplex = client.makeBidiStreamRequest(b.path, b.requestSerialize, b.responseDeserialize)
    const answers = stream<number>(duplex)
    duplex.write(1)
    duplex.end()
    expect(await answers).toEqual([25_000])

    // 'cancelled' ends every call's scope on this version too (on the tick after the status).
    await allEnded.wait(5000)
    expect(ended.sort()).toEqual(['bidi', 'client-streaming', 'server-streaming', 'unary', 'unary', 'unary'])

    const value = (sockets: net.Socket[]) => sockets.map((socket) => getUserTimeout(socket))
    expect(value(binds.outbound(port)), 'the channel: A18, 20 s').toEqual([20_000])
    expect(value(binds.inbound(port)), 'the server: A18, its keepalive timeout').toEqual([3000])
  })
})
