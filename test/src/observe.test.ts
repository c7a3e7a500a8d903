/**
 * observe(): the library's three channels as plain events, and the bounds in
 * force, against real sockets and the real kernel (each bound read back with
 * getUserTimeout; the timeout is a real ETIMEDOUT from the write-side
 * wedge). The tests run one after another: an observer sees every socket of
 * the process, so inForce() counts would mix across concurrent tests.
 */
import dc from 'node:diagnostics_channel'
import { once } from 'node:events'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  CHANNEL_BIND,
  CHANNEL_ERROR,
  CHANNEL_TIMEOUT,
  getUserTimeout,
  hardenServer,
  observe,
  setUserTimeout,
  stats,
  withTimeout,
  type Observer,
  type TcpUserTimeoutEvent,
} from '@tcp-user-timeout/core'
import { createPolicy } from '@tcp-user-timeout/core/adapter'
import { captureWarnings, listen, perTest, startTcpSink, type Teardown } from '@tcp-user-timeout/test-utils'
import { startWedgeServer, watchSocket, wedge } from './helpers/wedge.js'

const EVENT_TIMEOUT_MS = 5000

/** An observer closed with the test, whose events can be awaited. */
function observed(t: Teardown, listener?: (event: TcpUserTimeoutEvent) => void) {
  const events: TcpUserTimeoutEvent[] = []
  const waiters = new Set<{ match: (e: TcpUserTimeoutEvent) => boolean; resolve: (e: TcpUserTimeoutEvent) => void }>()
  const observer: Observer = t.defer(
    observe((event) => {
      events.push(event)
      for (const w of waiters) {
        if (!w.match(event)) continue
        waiters.delete(w)
        w.resolve(event)
      }
      listener?.(event)
    }),
    (o) => o.close(),
  )
  /** The first event (seen already or to come) that matches; rejects after EVENT_TIMEOUT_MS. */
  function next(match: (e: TcpUserTimeoutEvent) => boolean, what: string): Promise<TcpUserTimeoutEvent> {
    const seen = events.find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (e: TcpUserTimeoutEvent) => {
          clearTimeout(timer)
          resolve(e)
        },
      }
      const timer = setTimeout(() => {
        waiters.delete(waiter)
        reject(new Error(`no ${what} event within ${EVENT_TIMEOUT_MS} ms`))
      }, EVENT_TIMEOUT_MS)
      waiters.add(waiter)
    })
  }
  return { observer, events, next }
}

const bindOf = (socket: net.Socket, ms: number) => (e: TcpUserTimeoutEvent) =>
  e.type === 'bind' && e.socket === socket && e.ms === ms

function connect(t: Teardown, port: number, seconds?: number): net.Socket {
  const dial = () => net.connect(port, '127.0.0.1')
  const socket = seconds === undefined ? dial() : withTimeout(seconds, dial)
  socket.on('error', () => {})
  return t.defer(socket, (s) => s.destroy())
}

async function closeAndWait(socket: net.Socket): Promise<void> {
  const closed = once(socket, 'close')
  socket.destroy()
  await closed
}

describe('observe()', () => {
  it('turns a bind into a plain event: ms, direction, peer; the socket reachable but not serialised', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    const { next } = observed(t)
    const client = connect(t, port, 2)
    const event = await next(bindOf(client, 2000), 'bind')
    expect(getUserTimeout(client)).toBe(2000)
    expect({ ...event }).toEqual({ type: 'bind', ms: 2000, direction: 'outbound', peer: `127.0.0.1:${port}` })
    expect(JSON.parse(JSON.stringify(event))).toEqual({
      type: 'bind',
      ms: 2000,
      direction: 'outbound',
      peer: `127.0.0.1:${port}`,
    })
    expect(Object.keys(event)).not.toContain('socket')
    expect(event.socket).toBe(client)
  })

  it('inForce() counts the bounds open sockets hold: up on a bind, moved on a rebind, down on an unbind and on close', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    const { observer, next } = observed(t)
    expect(observer.inForce()).toEqual({})

    const a = connect(t, port, 2)
    const b = connect(t, port, 3)
    const c = connect(t, port, 3)
    await Promise.all([
      next(bindOf(a, 2000), 'bind a'),
      next(bindOf(b, 3000), 'bind b'),
      next(bindOf(c, 3000), 'bind c'),
    ])
    expect([getUserTimeout(a), getUserTimeout(b), getUserTimeout(c)]).toEqual([2000, 3000, 3000])
    expect(observer.inForce()).toEqual({ 2000: 1, 3000: 2 })

    setUserTimeout(c, 4000) // an explicit rebind: the socket moves to its new bound
    expect(getUserTimeout(c)).toBe(4000)
    expect(observer.inForce()).toEqual({ 2000: 1, 3000: 1, 4000: 1 })

    setUserTimeout(b, 0) // back to the system default: no bound in force
    expect(getUserTimeout(b)).toBe(0)
    expect(observer.inForce()).toEqual({ 2000: 1, 4000: 1 })

    await closeAndWait(a)
    expect(observer.inForce()).toEqual({ 4000: 1 })
    await closeAndWait(c)
    await closeAndWait(b) // unbound already: nothing to take away
    expect(observer.inForce()).toEqual({})
  })

  it('inbound: a hardened server reports its accepted sockets, held while they are open', async (ctx) => {
    const t = perTest(ctx)
    const accepted: net.Socket[] = []
    const server = net.createServer((s) => {
      accepted.push(s)
      s.on('error', () => {})
    })
    hardenServer(server, { userTimeoutSeconds: 5 })
    const { port } = await listen(t, server)
    const { observer, next } = observed(t)
    const client = connect(t, port)
    await once(client, 'connect')
    const event = await next((e) => e.type === 'bind' && e.direction === 'inbound', 'inbound bind')
    expect(getUserTimeout(event.socket!)).toBe(5000)
    expect(event.peer).toBe(`127.0.0.1:${client.localPort}`)
    expect(observer.inForce()).toEqual({ 5000: 1 })
    await closeAndWait(event.socket!)
    expect(observer.inForce()).toEqual({})
  })

  it('a real ETIMEDOUT (write-side wedge) becomes a timeout event with the peer and the bound; the socket leaves inForce', async (ctx) => {
    const t = perTest(ctx)
    const srv = await startWedgeServer(t)
    const { observer, next } = observed(t)
    const timedOutBefore = stats().timedOut
    const client = srv.track(withTimeout(1, () => net.connect(srv.port, srv.host)))
    const watch = watchSocket(client)
    await wedge(client)
    expect(getUserTimeout(client)).toBe(1000)
    expect(observer.inForce()).toEqual({ 1000: 1 })

    const event = await next((e) => e.type === 'timeout' && e.socket === client, 'timeout')
    expect(watch.error?.error.code).toBe('ETIMEDOUT')
    expect(JSON.parse(JSON.stringify(event))).toEqual({
      type: 'timeout',
      ms: 1000,
      direction: 'outbound',
      peer: `${srv.host}:${srv.port}`,
      code: 'ETIMEDOUT',
    })
    await watch.closed()
    expect(stats().timedOut).toBe(timedOutBefore + 1)
    expect(observer.inForce()).toEqual({})
  })

  it('an error the library kept from the application: code and message, the error itself not enumerable', async (ctx) => {
    const t = perTest(ctx)
    const { next } = observed(t)
    const policy = createPolicy({
      seconds: () => {
        throw new Error('bug in the callback')
      },
      workerTimeoutSeconds: 30,
    })
    expect(policy.resolve({})?.ms).toBe(25000) // the request goes on with the default
    const event = await next((e) => e.type === 'error', 'error')
    expect(JSON.parse(JSON.stringify(event))).toEqual({
      type: 'error',
      code: 'TUT_ERR_INVALID_OPTION',
      message: expect.stringMatching(/callback threw \(bug in the callback\)/),
    })
    expect(event.socket).toBeNull()
    expect(event.error).toBeInstanceOf(Error)
  })

  it("an error on a socket: the peer is the one its message carries, never read from the socket's state", async (ctx) => {
    const t = perTest(ctx)
    const { next } = observed(t)
    // Closed, as a socket whose bind failed often is: its own remoteAddress is gone.
    const socket = new net.Socket()
    const error = Object.assign(new Error('setsockopt(TCP_USER_TIMEOUT) failed: EBADF'), { errnoName: 'EBADF' })
    dc.channel(CHANNEL_ERROR).publish({ socket, error, remoteAddress: '10.0.0.7', remotePort: 5432 })
    const event = await next((e) => e.type === 'error' && e.socket === socket, 'error')
    expect({ ...event }).toEqual({ type: 'error', peer: '10.0.0.7:5432', code: 'EBADF', message: error.message })
    expect(event.error).toBe(error)
  })

  it('close() unsubscribes: no more events, nothing tracked, the channels without subscribers again', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    const channels = [CHANNEL_BIND, CHANNEL_TIMEOUT, CHANNEL_ERROR].map((name) => dc.channel(name))
    expect(channels.map((c) => c.hasSubscribers)).toEqual([false, false, false])
    const { observer, events, next } = observed(t)
    expect(channels.map((c) => c.hasSubscribers)).toEqual([true, true, true])
    const before = connect(t, port, 2)
    await next(bindOf(before, 2000), 'bind')
    expect(observer.inForce()).toEqual({ 2000: 1 })

    observer.close()
    observer.close() // idempotent
    expect(observer.open).toBe(false)
    expect(channels.map((c) => c.hasSubscribers)).toEqual([false, false, false])
    expect(observer.inForce()).toEqual({})
    const seen = events.length
    const after = connect(t, port, 3)
    await once(after, 'connect')
    expect(getUserTimeout(after)).toBe(3000) // bound all the same, just not observed
    await closeAndWait(before)
    expect(events.length).toBe(seen)
    expect(observer.inForce()).toEqual({})
  })

  it('a throwing listener is harmless: the bind happens, one coded warning per observer, other observers still served', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    const { warnings } = captureWarnings(t) // expected: asserted below, not printed
    let calls = 0
    t.defer(
      observe(() => {
        calls++
        throw new Error('listener bug')
      }),
      (o) => o.close(),
    )
    const { next } = observed(t)

    const a = connect(t, port, 2)
    const b = connect(t, port, 3)
    await Promise.all([next(bindOf(a, 2000), 'bind a'), next(bindOf(b, 3000), 'bind b')])
    expect([getUserTimeout(a), getUserTimeout(b)]).toEqual([2000, 3000])
    expect(calls).toBe(2)
    // emitWarning emits on the next tick: one turn of the loop and it is there.
    await new Promise((resolve) => setImmediate(resolve))
    const ours = warnings.filter((w) => w.code === 'TUT_WARN_LISTENER_THREW')
    expect(ours).toHaveLength(1)
    expect(ours[0].message).toMatch(/an observe\(\) listener threw \(Error: listener bug\)/)
  })

  it('a listener that is not a function is a coded configuration error', () => {
    expect(() => observe('log' as never)).toThrow(
      expect.objectContaining({
        code: 'TUT_ERR_INVALID_ARG',
        message: expect.stringMatching(/listener must be a function or omitted, received "log"/),
      }),
    )
  })
})
