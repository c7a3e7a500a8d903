/**
 * Only TCP sockets are touched. HTTP over a unix socket (node:http
 * `socketPath`, undici's `connect.socketPath`), a raw unix-socket client, a
 * hardened server listening on a path, and UDP make no setsockopt call,
 * count no error and publish nothing, inside scopes and under a global
 * default alike.
 */
import dc from 'node:diagnostics_channel'
import dgram from 'node:dgram'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { describe, expect, it } from 'vitest'
import { CHANNEL_BIND, CHANNEL_ERROR, hardenServer, setGlobalDefault, stats, withTimeout } from '@tcp-user-timeout/core'
import { connected, perSuite, perTest, type Teardown } from '@tcp-user-timeout/test-utils'

const dir = perSuite().defer(mkdtempSync(join(tmpdir(), 'tut-ipc-')), (d) =>
  rmSync(d, { recursive: true, force: true }),
)
let n = 0

/** Listens on a unix socket path of its own; closed with `t`. */
async function listenOnPath<S extends net.Server>(t: Teardown, server: S): Promise<string> {
  const path = join(dir, `s${n++}.sock`)
  server.listen(path)
  await once(server, 'listening')
  t.defer(server, (s) => new Promise((resolve) => s.close(resolve)))
  return path
}

/**
 * From now until the end of the test, under a global default of 30 s,
 * counts setsockopt calls, errors and channel messages; the returned check
 * expects none.
 */
function untouched(t: Teardown): () => void {
  const published: unknown[] = []
  const onMessage = (m: unknown) => published.push(m)
  dc.subscribe(CHANNEL_BIND, onMessage)
  dc.subscribe(CHANNEL_ERROR, onMessage)
  setGlobalDefault(30)
  t.add(() => {
    dc.unsubscribe(CHANNEL_BIND, onMessage)
    dc.unsubscribe(CHANNEL_ERROR, onMessage)
    setGlobalDefault(null)
  })
  const before = stats()
  return () => {
    const after = stats()
    expect({
      calls: after.setsockoptCalls - before.setsockoptCalls,
      errors: after.errors - before.errors,
      hardened: after.hardened - before.hardened,
    }).toEqual({ calls: 0, errors: 0, hardened: 0 })
    expect(published).toEqual([])
  }
}

const hello = () => http.createServer((req, res) => res.end(`ok ${req.url}`))

describe('no syscall, no error, no message', () => {
  it('10 node:http exchanges over a unix socket (socketPath, keep-alive agent), inside scopes', async (ctx) => {
    const t = perTest(ctx)
    const expectUntouched = untouched(t)
    const socketPath = await listenOnPath(t, hello())
    const agent = t.defer(new http.Agent({ keepAlive: true, maxSockets: 2 }), (a) => a.destroy())
    const bodies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        withTimeout(
          i + 1,
          () =>
            new Promise<string>((resolve, reject) => {
              http
                .get({ socketPath, path: `/${i}`, agent }, (res) => {
                  let body = ''
                  res.on('data', (c) => (body += String(c))).on('end', () => resolve(body))
                })
                .on('error', reject)
            }),
        ),
      ),
    )
    expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `ok /${i}`))
    expectUntouched()
  })

  it('10 undici exchanges over a unix socket (connect.socketPath), inside scopes', async (ctx) => {
    const t = perTest(ctx)
    const expectUntouched = untouched(t)
    const socketPath = await listenOnPath(t, hello())
    const dispatcher = t.defer(new Agent({ connect: { socketPath }, connections: 2 }), (d) => d.close())
    const bodies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        withTimeout(i + 1, async () => (await request(`http://localhost/${i}`, { dispatcher })).body.text()),
      ),
    )
    expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `ok /${i}`))
    expectUntouched()
  })

  it('a raw unix-socket client: net.connect(path) and new net.Socket().connect({ path }) inside a scope', async (ctx) => {
    const t = perTest(ctx)
    const expectUntouched = untouched(t)
    const path = await listenOnPath(
      t,
      net.createServer((s) => s.end()),
    )
    const destroy = (socket: net.Socket) => socket.destroy()
    const a = t.defer(
      withTimeout(5, () => net.connect(path)),
      destroy,
    )
    const b = t.defer(
      withTimeout(5, () => new net.Socket().connect({ path })),
      destroy,
    )
    await Promise.all([connected(a), connected(b)])
    expectUntouched()
  })

  it('hardenServer on a server listening on a path: its connections are left alone', async (ctx) => {
    const t = perTest(ctx)
    const expectUntouched = untouched(t)
    const server = http.createServer((_req, res) => res.end('ok'))
    const undo = hardenServer(server, { userTimeoutSeconds: 10 })
    const socketPath = await listenOnPath(t, server)
    for (let i = 0; i < 3; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get({ socketPath, path: '/', agent: false }, (res) => {
            let text = ''
            res.on('data', (c) => (text += String(c))).on('end', () => resolve(text))
          })
          .on('error', reject)
      })
      expect(body).toBe('ok')
    }
    undo()
    expectUntouched()
  })

  it('UDP: a dgram socket sending inside a scope', async (ctx) => {
    const t = perTest(ctx)
    const expectUntouched = untouched(t)
    const close = (socket: dgram.Socket) => socket.close()
    const receiver = t.defer(dgram.createSocket('udp4'), close)
    receiver.bind(0, '127.0.0.1')
    await once(receiver, 'listening')
    const sender = t.defer(dgram.createSocket('udp4'), close)
    const got = once(receiver, 'message')
    withTimeout(5, () => sender.send('ping', receiver.address().port, '127.0.0.1'))
    const [message] = await got
    expect(String(message)).toBe('ping')
    expectUntouched()
  })
})
