// One sample of bench/connections.mjs, in a process of its own: whether the
// library is loaded at all is the thing measured (core installs its hooks at
// import), so a variant cannot share a process with another.
//
// Usage: node connections-worker.mjs <line> <variant> <port> <warmup> <batch> [concurrency]
//   line     connect | tcp | fetch | http-keepalive
//   variant  none | loaded | exempt | bound (connect, tcp);  none | als | scoped (fetch, http-keepalive)
// Prints one JSON line: { nsPerOp, cpuNsPerOp, ops, stats?, check?, bindNs? } (stats/check when core is loaded,
// bindNs, the wall time of one setsockopt through the library, when bound).
import http from 'node:http'
import net from 'node:net'
import dc from 'node:diagnostics_channel'
import { AsyncLocalStorage } from 'node:async_hooks'

const [line, variant, portArg, warmupArg, batchArg, concurrencyArg] = process.argv.slice(2)
const port = Number(portArg)
const warmup = Number(warmupArg)
const batch = Number(batchArg)
const concurrency = Number(concurrencyArg ?? 1)
const URL_ = `http://127.0.0.1:${port}/`
const SECONDS = 25
const MS = SECONDS * 1000

const core = variant === 'none' || variant === 'als' ? null : await import('@tcp-user-timeout/core')
if (core && !core.support().supported) fail(`core unsupported: ${core.support().reason}`)
const scoped = variant === 'bound' || variant === 'scoped'
// The same scope as `bound`, with the server's host exempt: everything but the bind.
const EXEMPT = { exemptHosts: ['127.0.0.1'] }
// Every op of a scoped variant runs in its own scope, as each request of a
// web app would; `als` wraps it the same way in a bare AsyncLocalStorage
// without the library: on Node 20, entering any AsyncLocalStorage turns on
// async_hooks for the process, a cost of the mechanism rather than of this
// library's code.
const als = variant === 'als' ? new AsyncLocalStorage() : null
const STORE = Object.freeze({ ms: MS })
const wrap = scoped
  ? (op) => () => core.withTimeout(SECONDS, op)
  : variant === 'exempt'
    ? (op) => () => core.withTimeout(SECONDS, op, EXEMPT)
    : als
      ? (op) => () => als.run(STORE, op)
      : (op) => op

function fail(why) {
  process.stdout.write(`${JSON.stringify({ error: why })}\n`)
  process.exit(1)
}

// Wall time is the figure asked for; this process's CPU time (user + system,
// all threads) is reported next to it because, on a shared machine, wall
// time also holds the waits for a CPU, for us and for the server.
function timer() {
  const wall = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  return {
    per(ops) {
      const c = process.cpuUsage(cpu)
      return {
        nsPerOp: Number(process.hrtime.bigint() - wall) / ops,
        cpuNsPerOp: ((c.user + c.system) * 1000) / ops,
        ops,
      }
    },
  }
}

// ---- per new connection: connect + one request + close ----------------------

// agent: false gives every request a fresh non-keep-alive Agent
// ("Connection: close"): the server closes after the response, so the
// TIME_WAIT sockets pile up on the server side, not on our ephemeral ports.
// Resolves once the socket is closed, so the close is part of the op.
function connectOnce(onResponse) {
  return new Promise((resolve, reject) => {
    const req = http.get(URL_, { agent: false }, (res) => {
      onResponse?.(res.socket)
      res.resume()
    })
    req.once('error', reject)
    req.once('socket', (socket) => socket.once('close', resolve))
  })
}

// A TCP connection and nothing else: connect, then close with a reset, so
// that no TIME_WAIT socket holds one of our ephemeral ports for a minute.
function tcpOnce(onConnect) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('error', reject)
    socket.once('connect', () => {
      onConnect?.(socket)
      socket.resetAndDestroy()
    })
    socket.once('close', resolve)
  })
}

/**
 * The wall time of one bind alone, timed in the same process right after the
 * batch: setUserTimeout on one connected socket's fd, `calls` times, the
 * value alternating so that every call is a setsockopt.
 */
async function timeBinds(calls) {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const fd = socket._handle.fd
  for (let i = 0; i < calls >> 3; i++) core.setUserTimeout(fd, MS + (i & 1))
  const start = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) core.setUserTimeout(fd, MS + (i & 1))
  const ns = Number(process.hrtime.bigint() - start) / calls
  socket.destroy()
  return ns
}

async function runConnect() {
  // The first connection of each phase is read back while in flight: a
  // getsockopt on every op would be part of the measured cost.
  const readBacks = []
  const readBack = (socket) => readBacks.push(core.getUserTimeout(socket))
  const once = line === 'tcp' ? tcpOnce : connectOnce
  const op = wrap(() => once())
  const first = wrap(() => once(core ? readBack : undefined))

  await first()
  for (let i = 1; i < warmup; i++) await op()
  core?.resetStats()
  const t = timer()
  await first()
  for (let i = 1; i < batch; i++) await op()
  const per = t.per(batch)
  const stats = core?.stats()
  return {
    ...per,
    ops: batch,
    stats,
    check: core ? { readBackMs: readBacks, expectedMs: scoped ? MS : 0 } : undefined,
    bindNs: scoped ? await timeBinds(batch) : undefined,
  }
}

// ---- per keep-alive exchange over pooled sockets ------------------------------

// `seen` (warm-up only) collects the sockets that carried exchanges, to read
// their bound back at the end; fetch hides its socket, so undici's channel
// gives it.
let seen = null
const onSendHeaders = ({ socket }) => seen?.add(socket)

async function fetchOnce() {
  const res = await fetch(URL_)
  await res.arrayBuffer()
}

// maxSockets below the concurrency makes requests queue, so a queued request
// gets its socket in another request's context: the capture path is measured too.
function makeHttpOnce() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Math.min(concurrency, 4) })
  return () =>
    new Promise((resolve, reject) => {
      const req = http.get(URL_, { agent }, (res) => {
        seen?.add(res.socket)
        res.on('end', resolve)
        res.resume()
      })
      req.once('error', reject)
    })
}

async function runLoop(op, n) {
  let next = 0
  const worker = async () => {
    while (next < n) {
      next++
      await op()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

async function runKeepAlive() {
  const op = wrap(line === 'fetch' ? fetchOnce : makeHttpOnce())

  // The pool is warmed inside scopes in `scoped`, so its sockets are opened by
  // a scope and bound to 25 s: the measured exchanges then rebind them to the
  // value they already hold, which must cost no syscall.
  if (core) {
    seen = new Set()
    if (line === 'fetch') dc.subscribe('undici:client:sendHeaders', onSendHeaders)
  }
  await runLoop(op, warmup)
  const sockets = seen ?? new Set()
  if (core && line === 'fetch') dc.unsubscribe('undici:client:sendHeaders', onSendHeaders)
  seen = null
  const warmupStats = core?.stats()
  core?.resetStats()

  const t = timer()
  await runLoop(op, batch)
  const per = t.per(batch)
  const measuredStats = core?.stats()
  const open = [...sockets].filter((s) => !s.destroyed)
  return {
    ...per,
    stats: measuredStats,
    check: core
      ? {
          warmupStats,
          pooledSockets: sockets.size,
          // Read after the measured phase: still bound, by the warm-up's one setsockopt each.
          readBackMs: open.map((s) => core.getUserTimeout(s)),
          closedDuringRun: sockets.size - open.length,
          expectedMs: scoped ? MS : 0,
        }
      : undefined,
  }
}

try {
  const result = line === 'connect' || line === 'tcp' ? await runConnect() : await runKeepAlive()
  process.stdout.write(`${JSON.stringify({ line, variant, concurrency, ...result })}\n`)
  process.exit(0)
} catch (error) {
  fail(String(error?.stack ?? error))
}
