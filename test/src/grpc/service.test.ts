/**
 * tcpUserTimeout(implementation, options): each handler of a real grpc-js
 * server runs in a request scope, as do its call's events, until the call
 * ends, for every kind of call. What a handler's sockets get is read back
 * with getsockopt: a TCP socket the handler opened goes back to 0 when its
 * call ends (the core's lifetime rule, reported on tcp-user-timeout:bind).
 */
import dc from 'node:diagnostics_channel'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  CHANNEL_ERROR,
  currentTimeout,
  getUserTimeout,
  InvalidArgumentError,
  InvalidOptionError,
  type ErrorMessage,
} from '@tcp-user-timeout/core'
import { tcpUserTimeout, type GrpcTcpUserTimeoutOptions } from '@tcp-user-timeout/grpc-js'
import { startTcpSink } from '@tcp-user-timeout/test-utils'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils/teardown'
import { bidi, clientStream, grpc, serverStream, startClient, startServer, unary, watchBinds } from './helpers.js'

type Answer = { scope: number | null }
const scope = () => currentTimeout() ?? null

/** A sink that accepts and holds raw TCP connections, which the handlers open. */
async function upstreams(t: Teardown) {
  const sink = await startTcpSink(t)
  const opened: net.Socket[] = []
  /** A TCP connection the handler opens (and leaves open): connected, with its bound at that point. */
  const open = () =>
    new Promise<number | undefined>((resolve, reject) => {
      const socket = t.defer(net.connect(sink.port, '127.0.0.1'), (s) => s.destroy())
      opened.push(socket)
      socket.once('connect', () => resolve(getUserTimeout(socket))).once('error', reject)
    })
  return { open, opened }
}

async function serve(
  t: Teardown,
  options: GrpcTcpUserTimeoutOptions,
  implementation: grpc.UntypedServiceImplementation,
) {
  const { port } = await startServer(t, tcpUserTimeout(implementation, options))
  return startClient(t, port, grpc.credentials.createInsecure())
}

// The configured budget, the deadline, the metadata header, bad options and
// the scope's end for a unary call: the call contract (packages/grpc-js/test).
describe('the budget of a call', { concurrent: true }, () => {
  it('a seconds callback gets the call; false → no scope; a bad answer → the default, reported once', async (ctx) => {
    const { expect } = ctx
    const t = perTest(ctx)
    const errors: ErrorMessage[] = []
    const onError = (m: unknown) => errors.push(m as ErrorMessage)
    dc.subscribe(CHANNEL_ERROR, onError)
    t.add(() => dc.unsubscribe(CHANNEL_ERROR, onError))
    const answers = new Map<string, unknown>([
      ['fast', 5],
      ['off', false],
      ['bad', 'x'],
    ])
    const client = await serve(
      t,
      {
        workerTimeoutSeconds: 30,
        seconds: (call) => {
          expect(call.getPath()).toBe('/tut.Test/Unary')
          return answers.get((call as grpc.ServerUnaryCall<string, unknown>).request) as number | false | undefined
        },
      },
      { unary: (_call: unknown, callback: grpc.sendUnaryData<Answer>) => callback(null, { scope: scope() }) },
    )
    expect(await unary(client, 'fast')).toEqual({ scope: 5000 })
    expect(await unary(client, 'off')).toEqual({ scope: null })
    expect(await unary(client, 'default')).toEqual({ scope: 25_000 })
    expect(await unary(client, 'bad')).toEqual({ scope: 25_000 })
    expect(await unary(client, 'bad')).toEqual({ scope: 25_000 })
    expect(errors.map((e) => e.error.message)).toEqual([
      expect.stringMatching(/tcpUserTimeout\(\): the seconds callback returned "x"/),
    ])
  })
})

describe('the scope ends when the call ends: a socket the handler opened goes back to 0', { concurrent: true }, () => {
  it("unary, server-streaming, client-streaming and bidi; the call's own events run in the scope", async (ctx) => {
    const { expect } = ctx
    const t = perTest(ctx)
    const binds = watchBinds(t)
    const up = await upstreams(t)
    const client = await serve(
      t,
      { seconds: 25 },
      {
        unary: async (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, [await up.open()]),
        serverStream: async (call: grpc.ServerWritableStream<unknown, unknown>) => {
          call.write([scope()])
          call.write([await up.open()])
          call.end()
        },
        clientStream: (call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
          const seen: unknown[] = []
          call.on('data', () => seen.push(scope()))
          call.on('end', async () => callback(null, [...seen, scope(), await up.open()]))
        },
        bidi: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
          call.on('data', () => call.write(scope()))
          call.on('end', async () => {
            call.write(await up.open())
            call.end()
          })
        },
      },
    )
    expect(await unary(client, {})).toEqual([25_000])
    expect(await serverStream(client, {})).toEqual([[25_000], [25_000]])
    expect(await clientStream(client, [1, 2])).toEqual([25_000, 25_000, 25_000, 25_000])
    expect(await bidi(client, [1, 2])).toEqual([25_000, 25_000, 25_000])
    expect(up.opened).toHaveLength(4)
    for (const socket of up.opened) await binds.until(socket, 0)
    expect(up.opened.map((s) => getUserTimeout(s))).toEqual([0, 0, 0, 0])
  })

  it('a call that ends at its deadline, its handler never answering', async (ctx) => {
    const { expect } = ctx
    const t = perTest(ctx)
    const binds = watchBinds(t)
    const up = await upstreams(t)
    let held!: number | undefined
    const client = await serve(
      t,
      { seconds: 25 },
      {
        unary: async () => {
          held = await up.open()
        },
      },
    )
    await expect(unary(client, {}, { deadline: Date.now() + 1200 })).rejects.toMatchObject({
      code: grpc.status.DEADLINE_EXCEEDED,
    })
    expect(held).toBeGreaterThanOrEqual(1000)
    expect(held).toBeLessThanOrEqual(1200)
    await binds.until(up.opened[0], 0)
  })
})

describe('the implementation', { concurrent: true }, () => {
  it('a class instance: handlers on its prototype, `this` is the instance (its helpers as they are); other members untouched', async (ctx) => {
    const { expect } = ctx
    const t = perTest(ctx)
    class Handlers {
      version = 3
      label(): string {
        return `scope ${scope()}`
      }
      unary(_call: unknown, callback: grpc.sendUnaryData<unknown>) {
        callback(null, { label: this.label(), version: this.version })
      }
    }
    const instance = new Handlers()
    const scoped = tcpUserTimeout(instance, { seconds: 25 })
    expect(scoped.version).toBe(3)
    expect(scoped.label(), 'a helper called with no call passes through').toBe('scope null')
    expect(scoped.unary.name).toBe('unary')
    expect(scoped.unary.length).toBe(2)
    expect(scoped.constructor).toBe(Handlers)
    const { port } = await startServer(t, scoped)
    expect(await unary(startClient(t, port, grpc.credentials.createInsecure()), {})).toEqual({
      label: 'scope 25000',
      version: 3,
    })
  })

  it('a handler that throws: the client gets UNKNOWN, as without the wrapper', async (ctx) => {
    const { expect } = ctx
    const t = perTest(ctx)
    const client = await serve(
      t,
      { seconds: 25 },
      {
        unary: () => {
          throw new Error('boom')
        },
      },
    )
    await expect(unary(client, {})).rejects.toMatchObject({ code: grpc.status.UNKNOWN })
  })
})

describe('options are checked when tcpUserTimeout is called', () => {
  const zero = [{ seconds: 0 }, /answer false from a seconds callback for that method/] as const
  it.each([zero])('%j → InvalidOptionError', (options, message) => {
    let thrown: unknown
    try {
      tcpUserTimeout({}, options as never)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError)
    expect((thrown as Error).message).toMatch(message)
  })

  it.each([null, 3, 'handlers'])('implementation %j → InvalidArgumentError', (implementation) => {
    expect(() => tcpUserTimeout(implementation as never, { seconds: 25 })).toThrow(InvalidArgumentError)
  })
})
