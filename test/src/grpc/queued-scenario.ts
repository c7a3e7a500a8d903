/**
 * Calls queued on a channel that is still connecting (queued.test.ts, and
 * its control without the patch, queued-uninstalled.test.ts): A in a 3 s
 * scope starts the connection, B in a 7 s scope and C outside any scope
 * are made right after, before it is up. The server holds each call until
 * told; meanwhile the channel's one connection holds the largest bound of
 * the scoped streams in flight (the core's multiplexed rule), which is
 * only right if each stream was requested in its own call's scope.
 */
import type net from 'node:net'
import { currentTimeout, getUserTimeout, withTimeout } from '@tcp-user-timeout/core'
import type { Teardown } from '@tcp-user-timeout/test-utils/teardown'
import { grpc, latch, startServer, TestService, watchBinds } from './helpers.js'

type Name = 'A' | 'B' | 'C'

export interface Queued {
  socket: net.Socket
  /** What the connection held once the server had all three calls. */
  heldWithAll: number | undefined
  /** currentTimeout() in each call's callback. */
  callbackScope: Record<Name, number | undefined>
  /** Answers A, waits for its callback; then what the connection holds (B still in flight). */
  finishA(): Promise<number | undefined>
  /** Answers B and C; resolves once the connection holds `ms` (after their streams closed). */
  finishRest(ms: number): Promise<void>
}

export async function queuedCalls(
  t: Teardown,
  target: (port: number) => string,
  bindHost = '127.0.0.1',
): Promise<Queued> {
  const binds = watchBinds(t)
  const release = { A: latch('release A'), B: latch('release B'), C: latch('release C') }
  const arrived = new Set<string>()
  const all = latch('all three calls at the server')
  const implementation = {
    unary: (call: grpc.ServerUnaryCall<Name, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      arrived.add(call.request)
      if (arrived.size === 3) all.open()
      release[call.request].wait(15_000).then(() => callback(null, call.request), callback)
    },
  }
  const { port } = await startServer(t, implementation, { host: bindHost })
  const client = t.defer(
    new grpc.Client(target(port), grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
    (c) => c.close(),
  )
  const callbackScope = {} as Record<Name, number | undefined>
  // Read in grpc-js's own callback: a promise's reaction runs where `.then` was called.
  const m = TestService.Unary
  const call = (name: Name) =>
    new Promise<void>((resolve, reject) =>
      client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, name, (error) => {
        callbackScope[name] = currentTimeout()
        if (error) reject(error)
        else resolve()
      }),
    )
  const a = withTimeout(3, () => call('A'))
  const b = withTimeout(7, () => call('B'))
  const c = call('C')
  await all.wait(10_000)
  const socket = binds.outbound(port).find((s) => !s.destroyed && !s.connecting)
  if (socket === undefined) throw new Error(`no connected socket to port ${port} was reported`)
  const heldWithAll = getUserTimeout(socket)
  return {
    socket,
    heldWithAll,
    callbackScope,
    async finishA() {
      release.A.open()
      await a
      return getUserTimeout(socket)
    },
    async finishRest(ms) {
      release.B.open()
      release.C.open()
      await Promise.all([b, c])
      await binds.until(socket, ms)
    },
  }
}
