// The measured process: a plain net server holding idle connections, with
// one of two ways to find clients that vanished.
//   heartbeat: the application writes PING every 5 s and drops a connection
//              that left two PINGs in a row unanswered;
//   harden:    no application traffic; hardenServer() makes the kernel probe.
// Usage: node server.mjs heartbeat|harden <expectedConnections>
// JSON lines: events on stdout, commands on stdin ({ cmd: 'mark' | 'cut' | 'report' }).
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { createInterface } from 'node:readline'

const [variant, expectedArg] = process.argv.slice(2)
const expected = Number(expectedArg)
if (variant !== 'heartbeat' && variant !== 'harden')
  throw new Error(`variant must be heartbeat or harden, got ${variant}`)

const PING_EVERY_MS = 5000
// Two missed PINGs: a peer last heard from just after PING k is dropped at
// tick k+3, 15 s later — the same bound as keep-alive idle 5 + 2 probes x 5.
const MAX_MISSED = 2

const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`)
const wallNow = () => performance.timeOrigin + performance.now()

// Only variant (b) loads the library: (a) is what an application without it runs.
const core = variant === 'harden' ? await import('@tcp-user-timeout/core') : null

const live = new Set()
const errorCodes = {}
let cut = null // { at: wall ms of the cut, closes: ms after it of each close }
let firstSocket = null
let acceptedTotal = 0

const server = net.createServer((socket) => {
  acceptedTotal++
  firstSocket ??= socket
  const conn = { socket, missed: 0 }
  live.add(conn)
  // (a) any byte from the client is a PONG; (b) the client never sends.
  socket.on('data', () => {
    conn.missed = 0
  })
  socket.on('error', (error) => {
    errorCodes[error.code ?? error.message] = (errorCodes[error.code ?? error.message] ?? 0) + 1
  })
  socket.on('close', () => {
    live.delete(conn)
    if (cut !== null) {
      cut.closes.push(wallNow() - cut.at)
      // After the other 'close' listeners: hardenServer's, which counts
      // stats().reaped, was added after ours.
      if (live.size === 0) setImmediate(emitReclaimed)
    }
  })
  if (acceptedTotal === expected) emit({ event: 'accepted', count: live.size })
})

if (core !== null) {
  // Equivalent to the heartbeat: first probe after 5 s of silence, then every
  // 5 s; the user timeout defaults to 5 + 5 * 2 = 15 s.
  core.hardenServer(server, { keepAlive: { idleSeconds: 5, intervalSeconds: 5, count: 2 } })
} else {
  const PING = Buffer.from('P')
  // One timer for all connections: a timer per connection would cost N timer
  // wakeups instead of one per period.
  setInterval(() => {
    for (const conn of live) {
      if (conn.missed >= MAX_MISSED) {
        conn.socket.destroy()
        continue
      }
      conn.missed++
      conn.socket.write(PING)
    }
  }, PING_EVERY_MS)
}

function emitReclaimed() {
  const closes = cut.closes.sort((a, b) => a - b)
  const q = (p) =>
    closes.length ? Math.round(closes[Math.min(closes.length - 1, Math.floor(p * closes.length))]) : null
  emit({
    event: 'reclaimed',
    closed: closes.length,
    remaining: live.size,
    firstMs: q(0),
    p50Ms: q(0.5),
    lastMs: closes.length ? Math.round(closes[closes.length - 1]) : null,
    errorCodes,
    stats: core?.stats() ?? null,
  })
}

function uvMetrics() {
  // Node >= 20.18 / 22.8: loop iterations and events, read without a syscall.
  const m = performance.nodeTiming.uvMetricsInfo
  return m ? { loopCount: m.loopCount, events: m.events } : null
}

server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
  emit({ event: 'listening', port: server.address().port, pid: process.pid })
})

createInterface({ input: process.stdin }).on('line', (line) => {
  const msg = JSON.parse(line)
  if (msg.cmd === 'mark') {
    const probes = core && firstSocket ? core.getKeepAliveProbes(firstSocket) : null
    const userTimeoutMs = core && firstSocket ? core.getUserTimeout(firstSocket) : null
    emit({
      event: 'mark',
      connections: live.size,
      cpu: process.cpuUsage(),
      uv: uvMetrics(),
      stats: core?.stats() ?? null,
      probes,
      userTimeoutMs,
      errorCodes,
    })
  } else if (msg.cmd === 'cut') {
    cut = { at: msg.at, closes: [] }
    if (live.size === 0) emitReclaimed()
  } else if (msg.cmd === 'report') {
    emitReclaimed()
    emit({ event: 'report' })
  }
})
// The parent is gone (or done): leave, whatever is open.
process.stdin.on('end', () => process.exit(0))
