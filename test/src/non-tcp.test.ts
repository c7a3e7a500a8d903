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
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CHANNEL_BIND, CHANNEL_ERROR, hardenServer, setGlobalDefault, stats, withTimeout } from '@tcp-user-timeout/core'
import { connected } from './helpers/servers.js'

const dir = mkdtempSync(join(tmpdir(), 'tut-ipc-'))
let n = 0
const servers: net.Server[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))))
  rmSync(dir, { recursive: true, force: true })
})

async function listenOnPath<S extends net.Server>(server: S): Promise<string> {
  const path = join(dir, `s${n++}.sock`)
  server.listen(path)
  await once(server, 'listening')
  servers.push(server)
  return path
}

/** Counts setsockopt calls, errors and channel messages while a case runs. */
let published: unknown[] = []
const onMessage = (m: unknown) => published.push(m)
let before: ReturnType<typeof stats>
beforeEach(() => {
  published = []
  dc.subscribe(CHANNEL_BIND, onMessage)
  dc.subscribe(CHANNEL_ERROR, onMessage)
  setGlobalDefault(30)
  before = stats()
})
afterEach(() => {
  dc.unsubscribe(CHANNEL_BIND, onMessage)
  dc.unsubscribe(CHANNEL_ERROR, onMessage)
  setGlobalDefault(null)
})

function expectUntouched(): void {
  const after = stats()
  expect({ calls: after.setsockoptCalls - before.setsockoptCalls, errors: after.errors - before.errors, hardened: after.hardened - before.hardened }).toEqual({ calls: 0, errors: 0, hardened: 0 })
  expect(published).toEqual([])
}

const hello = () => http.createServer((req, res) => res.end(`ok ${req.url}`))

describe('no syscall, no error, no message', () => {
  it('10 node:http exchanges over a unix socket (socketPath, keep-alive agent), inside scopes', async () => {
    const socketPath = await listenOnPath(hello())
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 })
    try {
      const bodies = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          withTimeout(i + 1, () =>
            new Promise<string>((resolve, reject) => {
              http.get({ socketPath, path: `/${i}`, agent }, (res) => {
                let body = ''
                res.on('data', (c) => (body += c)).on('end', () => resolve(body))
              }).on('error', reject)
            }),
          ),
        ),
      )
      expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `ok /${i}`))
      expectUntouched()
    } finally {
      agent.destroy()
    }
  })

  it('10 undici exchanges over a unix socket (connect.socketPath), inside scopes', async () => {
    const socketPath = await listenOnPath(hello())
    const dispatcher = new Agent({ connect: { socketPath }, connections: 2 })
    try {
      const bodies = await Promise.all(
        Array.from({ length: 10 }, (_, i) => withTimeout(i + 1, async () => (await request(`http://localhost/${i}`, { dispatcher })).body.text())),
      )
      expect(bodies).toEqual(Array.from({ length: 10 }, (_, i) => `ok /${i}`))
      expectUntouched()
    } finally {
      await dispatcher.close()
    }
  })

  it('a raw unix-socket client: net.connect(path) and new net.Socket().connect({ path }) inside a scope', async () => {
    const path = await listenOnPath(net.createServer((s) => s.end()))
    const a = withTimeout(5, () => net.connect(path))
    const b = withTimeout(5, () => new net.Socket().connect({ path }))
    await Promise.all([connected(a), connected(b)])
    a.destroy()
    b.destroy()
    expectUntouched()
  })

  it('hardenServer on a server listening on a path: its connections are left alone', async () => {
    const server = http.createServer((_req, res) => res.end('ok'))
    const undo = hardenServer(server, { userTimeoutSeconds: 10 })
    const socketPath = await listenOnPath(server)
    for (let i = 0; i < 3; i++) {
      const body = await new Promise<string>((resolve, reject) => {
        http.get({ socketPath, path: '/', agent: false }, (res) => {
          let text = ''
          res.on('data', (c) => (text += c)).on('end', () => resolve(text))
        }).on('error', reject)
      })
      expect(body).toBe('ok')
    }
    undo()
    expectUntouched()
  })

  it('UDP: a dgram socket sending inside a scope', async () => {
    const receiver = dgram.createSocket('udp4')
    receiver.bind(0, '127.0.0.1')
    await once(receiver, 'listening')
    const sender = dgram.createSocket('udp4')
    try {
      const got = once(receiver, 'message')
      withTimeout(5, () => sender.send('ping', receiver.address().port, '127.0.0.1'))
      const [message] = await got
      expect(String(message)).toBe('ping')
      expectUntouched()
    } finally {
      sender.close()
      receiver.close()
    }
  })
})
