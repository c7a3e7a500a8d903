/**
 * A socket reconnected with `socket.connect()` after 'close' is a new
 * connection (a new fd, holding 0): it is bound again by the rules, read
 * back from the kernel each time.
 */
import { once } from 'node:events'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { getUserTimeout, setGlobalDefault, setUserTimeout, stats, withTimeout } from '@tcp-user-timeout/core'
import { connected, perTest, startTcpSink, type Teardown } from '@tcp-user-timeout/test-utils'
import { startWedgeServer, watchSocket, wedge } from './helpers/wedge.js'

function socket(t: Teardown): net.Socket {
  return t.defer(new net.Socket(), (s) => s.destroy())
}

/** Closes the connection, then connects the same Socket object again; resolves at the new 'connect'. */
async function reconnect(
  s: net.Socket,
  port: number,
  within: <R>(fn: () => R) => R = (fn) => fn(),
): Promise<net.Socket> {
  s.destroy()
  await once(s, 'close')
  expect(getUserTimeout(s), 'a closed socket has no fd to read').toBeUndefined()
  within(() => s.connect(port, '127.0.0.1'))
  return connected(s)
}

describe('socket.connect() again after close', () => {
  it('first connected in withTimeout(5): 5000; reconnected in withTimeout(7): 7000; reconnected outside any scope: 0', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    const s = socket(t)
    await withTimeout(5, () => connected(s.connect(port, '127.0.0.1')))
    expect(getUserTimeout(s)).toBe(5000)
    await reconnect(s, port, (fn) => withTimeout(7, fn))
    expect(getUserTimeout(s)).toBe(7000)
    await reconnect(s, port)
    expect(getUserTimeout(s)).toBe(0)
  })

  it('an explicit setUserTimeout(9000) stays pinned across a reconnect, even one made inside withTimeout(3)', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    const s = socket(t)
    await connected(s.connect(port, '127.0.0.1'))
    expect(setUserTimeout(s, 9000)).toBe(true)
    await reconnect(s, port, (fn) => withTimeout(3, fn))
    expect(getUserTimeout(s)).toBe(9000)
  })

  it('a boot socket under a global default of 30 s holds 30000 after a reconnect; one made in a scope takes the scope', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    setGlobalDefault(30)
    t.add(() => setGlobalDefault(null))
    const s = socket(t)
    await connected(s.connect(port, '127.0.0.1'))
    expect(getUserTimeout(s)).toBe(30000)
    await reconnect(s, port)
    expect(getUserTimeout(s)).toBe(30000)
    await reconnect(s, port, (fn) => withTimeout(4, fn))
    expect(getUserTimeout(s)).toBe(4000)
  })

  it('a reconnect that wedges is closed by the kernel with ETIMEDOUT and counted, like a first connection', async (ctx) => {
    const t = perTest(ctx)
    const srv = await startWedgeServer(t)
    const s = srv.track(socket(t))
    await withTimeout(1.5, () => connected(s.connect(srv.port, srv.host)))
    s.destroy()
    await once(s, 'close')
    const timedOutBefore = stats().timedOut
    withTimeout(1.5, () => s.connect(srv.port, srv.host))
    const watch = watchSocket(s)
    await wedge(s)
    expect(getUserTimeout(s)).toBe(1500)
    const failure = await watch.within(5000)
    expect(failure?.error.code, 'no ETIMEDOUT within 5 s of the wedge').toBe('ETIMEDOUT')
    await watch.closed()
    expect(stats().timedOut).toBe(timedOutBefore + 1)
  })
})
