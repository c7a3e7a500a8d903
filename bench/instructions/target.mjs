// The program bench/instructions.mjs runs under callgrind, once with N1 and
// once with N2 units of work: the difference in instructions over N2 − N1 is
// the cost of one unit, startup and teardown cancelled out.
//
//   node --expose-gc target.mjs <scenario> <variant> <units> <peer port> <warm-up units>
//
// Both runs first do the same warm-up, with callgrind's instrumentation off
// (valgrind runs it many times faster), long enough for the JIT to finish
// tiering up: the count covers steady state only. Server scenarios print
// {"port":N}, and the driver sends the warm-up and the units from outside
// valgrind; client scenarios make their units against the driver's peer at
// <peer port>. Only the variants that use the library import it.
import { AsyncLocalStorage } from 'node:async_hooks'
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import { createRequire } from 'node:module'
import { createInterface } from 'node:readline'
import { startApp } from '../http/variants.mjs'

const [scenario, variant, unitsArg, peerArg, warmArg] = process.argv.slice(2)
const units = Number(unitsArg)
const warm = Number(warmArg)
const peer = Number(peerArg)
const core = ['loaded', 'bound', 'scoped', 'hardened', 'ours', 'ours-header'].includes(variant)
  ? await import('@tcp-user-timeout/core')
  : undefined
const als = new AsyncLocalStorage()
const store = Object.freeze({ ms: 25_000, exempt: undefined })

/**
 * A full collection halfway through the warm-up: it leaves little garbage
 * for the units, and the optimized code it discards (code that embeds
 * objects the collection freed) is compiled again in the second half, not
 * while instructions are counted.
 */
function halfway() {
  globalThis.gc()
  process.stdout.write('collected\n')
}

/**
 * Serves the driver: half its warm-up, `gc` on stdin, the other half; the
 * driver then switches counting on (callgrind_control: nothing happens in
 * here), sends its units over the same connection, and `done`. Nothing new
 * may happen at the start of the units: a first event of a new kind (a
 * stdin line, a new connection) deoptimizes hot code, which then runs
 * unoptimized for a part of the units that differs between variants.
 */
async function serveUntilTold(server, close) {
  // Slow under valgrind, and paused by full GCs: no idle timeout may close the driver's pooled socket,
  // and no request timeout the connection of a request that a loaded machine starved.
  server.keepAliveTimeout = 0
  server.requestTimeout = 0
  server.headersTimeout = 0
  const port = server.address().port
  const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
  process.stdout.write(`${JSON.stringify({ port })}\n`)
  await stdin.next() // gc
  halfway()
  await stdin.next() // done
  globalThis.gc()
  await close()
  process.exit(0)
}

/**
 * The client scenarios' loop: the warm-up units around halfway(), then
 * counting is switched on from here, synchronously (no event), the units, a
 * full collection.
 */
async function loop(unit) {
  for (let i = 0; i < warm; i++) {
    if (i === warm >> 1) halfway()
    await unit()
  }
  execFileSync('callgrind_control', ['--instr=on', String(process.pid)], { stdio: 'ignore' })
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

  // Per request that opens a socket (to the driver's sink) kept until the
  // response closed: als | ours (the lifetime rule).
  async lifetime() {
    const respond = async (_req, res) => {
      const socket = net.connect(peer, '127.0.0.1')
      await once(socket, 'connect')
      res.on('close', () => socket.destroy())
      return 'ok'
    }
    const app = await startApp('express', variant, respond)
    await serveUntilTold(app.server, app.close)
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
        http
          .get({ host: '127.0.0.1', port: peer, path: '/', agent }, (res) => res.resume().on('end', resolve))
          .on('error', reject)
      })
    await exchanges(get)
    agent.destroy()
  },

  async 'keepalive-fetch'() {
    const origin = `http://127.0.0.1:${peer}/`
    await exchanges(async () => (await fetch(origin)).arrayBuffer())
  },

  // Per stream over one shared HTTP/2 session: none | als | scoped. In each,
  // one more stream of the same kind is held open all along, as on a busy
  // connection: the scoped one keeps the connection's bound where it is, so
  // what is counted is the multiplexed rule's bookkeeping per stream. (A
  // connection whose only stream comes and goes moves 0 → 25 s → 0: two
  // setsockopt, the 'ffi' scenario's cost each.)
  async 'http2-stream'() {
    const { connect } = await import('node:http2')
    const session = connect(`http://127.0.0.1:${peer}`)
    await once(session, 'connect')
    const request = (path) => {
      const stream = session.request({ ':path': path })
      stream.resume()
      return stream
    }
    const held = await scoped(() => request('/hold'))
    await exchanges(() =>
      once(
        request('/').on('error', () => {}),
        'end',
      ),
    )
    held.close()
    session.close()
  },

  // Per setsockopt(TCP_USER_TIMEOUT) call on a connected socket, by call shape:
  // empty (the loop alone) | wrapped (ffi-rs's JavaScript load, the shape
  // before) | raw (the binary's own load, reused params: the core's shape) |
  // api (setUserTimeout(fd, ms): validation, counters and the raw call).
  async ffi() {
    const ffiRs = createRequire(createRequire(import.meta.url).resolve('@tcp-user-timeout/core'))('ffi-rs')
    const { DataType } = ffiRs
    const api = await import('@tcp-user-timeout/core')
    api.support() // the core loads ffi-rs, opens libc and prepares its calls
    const file = Object.keys(createRequire(import.meta.url).cache).find((f) => /ffi-rs\..+\.node$/.test(f))
    const raw = createRequire(import.meta.url)(file)
    ffiRs.open({ library: 'bench:libc', path: '' })
    const [pointer] = ffiRs.createPointer({ paramsType: [DataType.I32], paramsValue: [0] })
    const value = ffiRs.createExternalBuffer(pointer, 4)
    const args = [0, 6 /* IPPROTO_TCP */, 18 /* TCP_USER_TIMEOUT */, pointer, 4]
    const params = {
      library: 'bench:libc',
      funcName: 'setsockopt',
      retType: DataType.I32,
      paramsType: [DataType.I32, DataType.I32, DataType.I32, DataType.External, DataType.I32],
      paramsValue: args,
      freeResultMemory: false,
    }
    const socket = net.connect(peer, '127.0.0.1')
    await once(socket, 'connect')
    const fd = socket._handle.fd
    args[0] = fd
    const calls = {
      empty: () => 0,
      wrapped: () => ffiRs.load(params),
      raw: () => raw.load(params),
      api: (ms) => (api.setUserTimeout(fd, ms) ? 0 : -1),
    }
    const call = calls[variant]
    let ms = 1000
    await loop(() => {
      ms = ms === 60_000 ? 1000 : ms + 1
      value.writeInt32LE(ms, 0)
      if (call(ms) !== 0) throw new Error(`setsockopt failed (${variant})`)
    })
    socket.destroy()
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
  await loop(() => scoped(exchange))
}

/** `work` in the variant's scope: the library's, a bare AsyncLocalStorage's, or none. */
function scoped(work) {
  if (variant === 'scoped') return core.withTimeout(25, work)
  if (variant === 'als') return als.run(store, work)
  return work()
}

const [name, arg] = scenario.split(':')
if (scenarios[name] === undefined) throw new Error(`unknown scenario ${scenario}`)
await scenarios[name](arg)
process.exit(0)
