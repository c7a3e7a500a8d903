/**
 * How client sockets are found on each Node version (CI runs this file on 20,
 * 22 and 24). Every version: the prototype wrapper binds a socket connected
 * in a scope, exactly once. Node 22.17+: a connect() that reaches Node's own
 * function past the wrapper is still caught, through `net.client.socket`;
 * before 22.17 Node does not publish it for such a socket, and it stays
 * unbound (docs/limits.md: "How client sockets are found").
 */
import dc from 'node:diagnostics_channel'
import net from 'node:net'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import {
  CHANNEL_BIND,
  getUserTimeout,
  install,
  installed,
  stats,
  uninstall,
  withTimeout,
  type BindMessage,
} from '@tcp-user-timeout/core'
import { perTest, startTcpSink, type Teardown } from '@tcp-user-timeout/test-utils'

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
const connectPublishes = major > 22 || (major === 22 && minor >= 17)

/** Node's own Socket.prototype.connect, as code holding a reference from before the import would have it. */
type Connect = (this: net.Socket, port: number, host: string) => net.Socket

function nodesOwnConnect(): Connect {
  expect(installed()).toBe(true)
  uninstall()
  const own = net.Socket.prototype.connect as Connect
  install()
  expect(net.Socket.prototype.connect).not.toBe(own)
  return own
}

/** Binds published for `socket` while `fn` runs and the socket connects; the socket is destroyed with `t`. */
async function bindsOf(t: Teardown, fn: () => net.Socket): Promise<{ socket: net.Socket; binds: number[] }> {
  const seen: BindMessage[] = []
  const listener = (message: unknown) => seen.push(message as BindMessage)
  dc.subscribe(CHANNEL_BIND, listener)
  try {
    const socket = t.defer(fn(), (s) => s.destroy())
    await once(socket, 'connect')
    return { socket, binds: seen.filter((m) => m.socket === socket).map((m) => m.ms) }
  } finally {
    dc.unsubscribe(CHANNEL_BIND, listener)
  }
}

describe(`client sockets on Node ${process.version}`, () => {
  it('new Socket().connect() through the wrapper, in a scope: bound once', async (ctx) => {
    const t = perTest(ctx)
    const { port } = await startTcpSink(t)
    const before = stats().setsockoptCalls
    const { socket, binds } = await bindsOf(t, () => withTimeout(4, () => new net.Socket().connect(port, '127.0.0.1')))
    expect(getUserTimeout(socket)).toBe(4000)
    expect(binds).toEqual([4000])
    expect(stats().setsockoptCalls - before).toBe(1)
  })

  it(
    connectPublishes
      ? "Node's own connect(), past the wrapper, in a scope: caught by net.client.socket and bound once"
      : "Node's own connect(), past the wrapper, in a scope: not published before 22.17, left unbound",
    async (ctx) => {
      const t = perTest(ctx)
      const own = nodesOwnConnect()
      const { port } = await startTcpSink(t)
      const { socket, binds } = await bindsOf(t, () =>
        withTimeout(3, () => own.call(new net.Socket(), port, '127.0.0.1')),
      )
      expect(getUserTimeout(socket)).toBe(connectPublishes ? 3000 : 0)
      expect(binds).toEqual(connectPublishes ? [3000] : [])
    },
  )

  it("Node's own connect() outside any scope: a boot socket, left at 0", async (ctx) => {
    const t = perTest(ctx)
    const own = nodesOwnConnect()
    const { port } = await startTcpSink(t)
    const { socket, binds } = await bindsOf(t, () => own.call(new net.Socket(), port, '127.0.0.1'))
    expect(getUserTimeout(socket)).toBe(0)
    expect(binds).toEqual([])
  })
})
