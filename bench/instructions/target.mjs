// The program bench/instructions.mjs runs under callgrind, once with N1 and
// once with N2 units of work: the difference in instructions over N2 − N1 is
// the cost of one unit, startup and teardown cancelled out.
//
//   node --expose-gc target.mjs <scenario> <variant> <units> <peer port> <warm-up units>
//
// Server scenarios print {"port":N} and serve until a line on stdin; the
// load (warm-up included) comes from the driver, outside valgrind. Client
// scenarios do the warm-up units, then theirs, against the driver's peer at
// <peer port>, and exit: both runs pay the same warm-up (the JIT's tiering
// up), so the difference is steady-state cost. Only the variants that use
// the library import it.
import { AsyncLocalStorage } from 'node:async_hooks'
import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import { createInterface } from 'node:readline'
import { startApp } from '../http/apps.mjs'

const [scenario, variant, unitsArg, peerArg, warmArg] = process.argv.slice(2)
const units = Number(unitsArg)
const warm = Number(warmArg)
const peer = Number(peerArg)
const core = ['loaded', 'bound', 'scoped', 'hardened', 'ours', 'ours-header'].includes(variant) ? await import('@tcp-user-timeout/core') : undefined
const als = new AsyncLocalStorage()
const store = Object.freeze({ ms: 25_000, exempt: undefined })

/**
 * Serves the driver: `gc` (after its warm-up) collects everything and
 * answers `ok`; `done` collects again, closes and exits. Both runs end with a
 * full collection of what their units left, so garbage is counted whole, not
 * as whichever major GCs happened to fall inside the run.
 */
async function serveUntilTold(server, close) {
  // Slow under valgrind, and paused by full GCs: no idle timeout may close the driver's pooled socket.
  server.keepAliveTimeout = 0
  const port = server.address().port
  process.stdout.write(`${JSON.stringify({ port })}\n`)
  for await (const line of createInterface({ input: process.stdin })) {
    globalThis.gc()
    if (line === 'gc') process.stdout.write('ok\n')
    else break
  }
  await close()
  process.exit(0)
}

/** The client scenarios' loop: warm-up units, a full collection, the units, a full collection. */
async function loop(unit) {
  for (let i = 0; i < warm; i++) await unit()
  globalThis.gc()
  for (let i = 0; i < units; i++) await unit()
  globalThis.gc()
}

const scenarios = {
  // Per request of each adapter: none | als | ours | ours-header (the client sends a deadline header).
  async adapter(framework) {
    const options = variant === 'ours-header' ? { seconds: 25, header: 'x-request-timeout-s' } : { seconds: 25 }
    const app = await startApp(framework, variant === 'ours-header' ? 'ours' : variant, 'hello world', options)
    await serveUntilTold(app.server, app.close)
  },

  // Per request that opens a socket (to the driver's sink) kept until the response closed: als | ours (the lifetime rule).
  async lifetime() {
    const respond = async () => {
      const socket = net.connect(peer, '127.0.0.1')
      await once(socket, 'connect')
      return socket
    }
    const { default: express } = await import('express')
    const app = express()
    if (variant === 'als') app.use(function alsMiddleware(_req, _res, next) { als.run(store, next) })
    else app.use((await import('@tcp-user-timeout/express')).tcpUserTimeout({ seconds: 25 }))
    app.get('/', async (_req, res) => {
      const socket = await respond()
      res.on('close', () => socket.destroy())
      res.send('ok')
    })
    const server = app.listen(0, '127.0.0.1')
    await once(server, 'listening')
    await serveUntilTold(server, () => new Promise((r) => server.close(r)))
  },

  // Per new outbound connection: none | loaded (imported, outside any scope) | bound (inside withTimeout).
  async connect() {
    const open = () => {
      const socket = net.connect(peer, '127.0.0.1')
      return once(socket, 'connect').then(() => socket)
    }
    await loop(async () => {
      const socket = variant === 'bound' ? await core.withTimeout(25, open) : await open()
      socket.destroy()
      await once(socket, 'close')
    })
  },

  // Per keep-alive exchange over one pooled socket: none | als | scoped.
  async 'keepalive-http'() {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const get = () =>
      new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: peer, path: '/', agent }, (res) => res.resume().on('end', resolve)).on('error', reject)
      })
    await exchanges(get)
    agent.destroy()
  },

  async 'keepalive-fetch'() {
    const origin = `http://127.0.0.1:${peer}/`
    await exchanges(async () => (await fetch(origin)).arrayBuffer())
  },

  // Per accepted connection of a server: none | hardened.
  async hardened() {
    // Answers a byte on accept: the driver closes only what was accepted.
    const server = net.createServer((socket) => socket.on('error', () => {}).end('x'))
    if (variant === 'hardened') core.hardenServer(server, {})
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    await serveUntilTold(server, () => new Promise((r) => server.close(r)))
  },
}

async function exchanges(exchange) {
  await loop(async () => {
    if (variant === 'scoped') await core.withTimeout(25, exchange)
    else if (variant === 'als') await als.run(store, exchange)
    else await exchange()
  })
}

const [name, arg] = scenario.split(':')
if (scenarios[name] === undefined) throw new Error(`unknown scenario ${scenario}`)
await scenarios[name](arg)
