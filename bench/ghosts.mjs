// What finding dead clients costs an idle server, and how fast each way finds
// them: (a) an application heartbeat (PING every 5 s, drop after 2 missed,
// i.e. within 15 s of the last PONG) against (b) hardenServer with keep-alive
// idle 5 s, interval 5 s, count 2 (user timeout 15 s: same bound, same
// 5 s proof-of-life period). For each N: a fresh network namespace, a server
// process and a client process holding N idle connections over its `lo`;
// CPU and context switches of the server are read from /proc over an idle
// window; then `lo` goes down and we time until the server holds nothing.
//
//   node bench/ghosts.mjs           N = 1,000 and 10,000, 60 s windows
//   node bench/ghosts.mjs --quick   N = 200, 10 s window
//   add --svg-only to redraw the chart from the saved JSON without measuring
//
// Needs root (namespaces); prints SKIP and exits 0 otherwise.
import os from 'node:os'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { support } from '@tcp-user-timeout/core'
import {
  canUseNetns,
  cleanupNetns,
  cleanupOnSignals,
  createNetns,
  ip,
  loCounters,
} from '@tcp-user-timeout/test-utils/netns'
import { nodeInNetns } from './lib/child.mjs'
import { delta, round, snapshot } from './ghosts/proc.mjs'
import { fmt, renderSvg } from './ghosts/svg.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const SERVER = join(HERE, 'ghosts', 'server.mjs')
const CLIENT = join(HERE, 'ghosts', 'client.mjs')
const QUICK = process.argv.includes('--quick')
const CONFIG = QUICK ? { sizes: [200], windowSeconds: 10 } : { sizes: [1000, 10_000], windowSeconds: 60 }
const VARIANTS = ['heartbeat', 'harden']
// Past the connect burst and the GC V8 runs once the process turns idle
// (its memory reducer, ~8 s later), which would land in one variant's window
// and not the other's.
const SETTLE_MS = 10_000
// Both variants promise 15 s; four times that tells "late" from "never".
const RECLAIM_BOUND_MS = 60_000
const CONNECT_BOUND_MS = 120_000
const ASK_MS = 10_000
// Descriptors per child beyond its N sockets (stdio, epoll, V8, libuv).
const FD_HEADROOM = 1024

const out = QUICK
  ? { json: join(HERE, 'results', 'ghosts.quick.json'), svg: join(HERE, 'results', 'ghosts.quick.svg') }
  : { json: join(HERE, 'results', 'ghosts.json'), svg: join(HERE, 'ghosts.svg') }

function writeSvg(result) {
  const { machine: m, config: c } = result
  const footer =
    `${result.command} · ${result.date.slice(0, 10)} · ${m.nproc} CPUs, ` +
    `Linux ${m.kernel}, node ${m.node} · one run per bar, ${c.windowSeconds} s window`
  writeFileSync(out.svg, renderSvg(result.runs, { windowSeconds: c.windowSeconds, footer }))
}

if (process.argv.includes('--svg-only')) {
  writeSvg(JSON.parse(readFileSync(out.json, 'utf8')))
  console.log(`wrote ${out.svg} from ${out.json}`)
  process.exit(0)
}

const netns = canUseNetns()
const unavailable = !netns.ok
  ? netns.reason
  : support().supported
    ? null
    : `socket options unsupported: ${support().reason}`
if (unavailable) {
  console.log(`SKIP ghosts bench: ${unavailable}`)
  process.exit(0)
}

const signals = cleanupOnSignals()

const wallNow = () => performance.timeOrigin + performance.now()

async function runOne(n, variant) {
  const ns = await createNetns('bench')
  try {
    const server = nodeInNetns(ns, SERVER, [variant, String(n)], n + FD_HEADROOM)
    const { port } = await server.next('listening', ASK_MS)
    const client = nodeInNetns(ns, CLIENT, [String(port), String(n)], n + FD_HEADROOM)
    const connected = await client.next('connected', CONNECT_BOUND_MS)
    if (connected.count !== n) {
      throw new Error(
        `client connected ${connected.count} of ${n} (${connected.failed} ` +
          `failed: ${JSON.stringify(connected.errorCodes)})`,
      )
    }
    await server.next('accepted', ASK_MS)
    await sleep(SETTLE_MS)

    // Marks (which wake the server) before the first and after the last
    // /proc read, so the window itself holds no wakeup of ours.
    const m0 = await server.ask('mark', ASK_MS)
    await client.ask('mark', ASK_MS)
    const lo0 = await loCounters(ns)
    const s0 = snapshot(server.pid)
    const k0 = snapshot(client.pid)
    await sleep(CONFIG.windowSeconds * 1000)
    const s1 = snapshot(server.pid)
    const k1 = snapshot(client.pid)
    const lo1 = await loCounters(ns)
    const m1 = await server.ask('mark', ASK_MS)
    await client.ask('mark', ASK_MS)

    const from = server.events.length
    const cutAt = wallNow()
    await ip(['-n', ns, 'link', 'set', 'lo', 'down'])
    const cutTookMs = wallNow() - cutAt
    // The clock starts before `ip` runs: the times below are upper bounds by a few ms.
    server.send({ cmd: 'cut', at: cutAt })
    let reclaimed
    try {
      reclaimed = await server.next('reclaimed', RECLAIM_BOUND_MS, from)
    } catch {
      const at = server.events.length
      await server.ask('report', ASK_MS)
      reclaimed = { ...server.events.slice(at).find((e) => e.event === 'reclaimed'), timedOut: true }
    }

    const windowSeconds = (s1.at - s0.at) / 1000
    return {
      n,
      variant,
      windowSeconds: round(windowSeconds, 3),
      connectMs: connected.ms,
      server: delta(s0, s1),
      serverCpuUsageSeconds: round((m1.cpu.user + m1.cpu.system - m0.cpu.user - m0.cpu.system) / 1e6, 4),
      eventLoop:
        m0.uv && m1.uv ? { iterations: m1.uv.loopCount - m0.uv.loopCount, events: m1.uv.events - m0.uv.events } : null,
      client: delta(k0, k1),
      loPackets: lo0.packets !== null && lo1.packets !== null ? lo1.packets - lo0.packets : null,
      loDropped: lo0.dropped !== null && lo1.dropped !== null ? lo1.dropped - lo0.dropped : null,
      connectionsAtStart: m0.connections,
      connectionsAtCut: m1.connections,
      // Closed while the network was fine: a false positive of the detector.
      falseCloses: n - m1.connections,
      hardened: m1.stats?.hardened ?? null,
      probesReadBack: m1.probes ?? null,
      userTimeoutMsReadBack: m1.userTimeoutMs ?? null,
      reclaim: {
        boundMs: RECLAIM_BOUND_MS,
        cutTookMs: round(cutTookMs, 1),
        closed: reclaimed.closed,
        remaining: reclaimed.remaining,
        firstMs: reclaimed.firstMs,
        p50Ms: reclaimed.p50Ms,
        lastMs: reclaimed.remaining === 0 ? reclaimed.lastMs : null,
        timedOut: reclaimed.timedOut ?? false,
        errorCodes: reclaimed.errorCodes,
        reaped: reclaimed.stats?.reaped ?? null,
      },
    }
  } finally {
    // Children first (a namespace with live processes outlives `ip netns del`), then the namespace.
    await cleanupNetns()
  }
}

function row(r) {
  const ctx = r.server.allCtxVoluntary + r.server.allCtxNonvoluntary
  const rec = r.reclaim
  const reclaimAll =
    rec.remaining === 0 ? `${(rec.lastMs / 1000).toFixed(1)} s` : `>${rec.boundMs / 1000} s (${rec.remaining} left)`
  return [
    r.n.toLocaleString('en-US'),
    r.variant === 'heartbeat' ? '(a) heartbeat' : '(b) hardenServer',
    r.server.cpuSeconds.toFixed(2),
    r.serverCpuUsageSeconds.toFixed(3),
    ctx.toLocaleString('en-US'),
    r.eventLoop ? r.eventLoop.iterations.toLocaleString('en-US') : '–',
    r.loPackets === null ? '–' : r.loPackets.toLocaleString('en-US'),
    r.loDropped === null ? '–' : r.loDropped.toLocaleString('en-US'),
    r.client.cpuSeconds.toFixed(2),
    `${(rec.firstMs / 1000).toFixed(1)} s`,
    reclaimAll,
    rec.reaped === null ? '–' : rec.reaped.toLocaleString('en-US'),
  ]
}

const HEAD = [
  'N',
  'variant',
  'server CPU s',
  'cpuUsage s',
  'ctx switches',
  'loop iters',
  'lo packets',
  'lo drops',
  'client CPU s',
  'first closed',
  'all reclaimed',
  'reaped',
]

function table(rows) {
  const widths = HEAD.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`
  return [line(HEAD), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n')
}

const machine = {
  nproc: os.availableParallelism?.() ?? os.cpus().length,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  kernel: os.release(),
  node: process.version,
  loadavgAtStart: os.loadavg().map((x) => round(x, 2)),
}
/** "1.23 s after the cut", or "NO, 3 left after 10 s". */
const reclaimed = (reclaim) =>
  reclaim.remaining === 0
    ? `${(reclaim.lastMs / 1000).toFixed(2)} s after the cut`
    : `NO, ${reclaim.remaining} left after ${RECLAIM_BOUND_MS / 1000} s`

const date = new Date().toISOString()
console.log(
  `ghosts bench (${QUICK ? 'quick' : 'full'}): ` +
    `N = ${CONFIG.sizes.join(', ')}, ${CONFIG.windowSeconds} s idle windows; ` +
    `${machine.nproc} CPUs (${machine.cpu}), Linux ${machine.kernel}, node ${machine.node}`,
)

const runs = []
try {
  // A and B alternate so that drift of a shared machine hits both alike.
  for (const n of CONFIG.sizes) {
    for (const variant of VARIANTS) {
      if (signals.stopping) break
      console.log(
        `- N = ${n}, ${variant}: connecting, ${SETTLE_MS / 1000} s settle, ${CONFIG.windowSeconds} s window, cut...`,
      )
      const r = await runOne(n, variant)
      runs.push(r)
      console.log(
        `  server CPU ${fmt(r.server.cpuSeconds)} ` +
          `s, ${r.server.allCtxVoluntary + r.server.allCtxNonvoluntary} ctx switches; ` +
          (r.falseCloses > 0 ? `${r.falseCloses} closed BEFORE the cut (false positives); ` : '') +
          `all ${n} reclaimed: ${reclaimed(r.reclaim)}`,
      )
    }
  }
} catch (error) {
  if (signals.stopping) await new Promise(() => {}) // the children died of our own signal handler
  console.error(`ghosts bench failed: ${error.stack ?? error}`)
  await cleanupNetns()
  process.exit(1)
}
if (signals.stopping) await new Promise(() => {}) // the signal handler exits after teardown

console.log()
console.log(table(runs.map(row)))
console.log()
console.log(
  'server CPU s: utime+stime of all threads (/proc/<pid>/stat, ' +
    '1/CLK_TCK s resolution); cpuUsage s: the same from getrusage (µs);\n' +
    'ctx switches: voluntary + involuntary, all threads (/proc/<pid>/task/*/status); ' +
    'loop iters: event-loop iterations (libuv metrics, V8 tasks included);\n' +
    'lo packets / drops: segments of both ends in the window, and those lost to the receive backlog;\n' +
    'first closed / all reclaimed: after `ip link set lo down`; reaped: stats().reaped.',
)

const result = {
  bench: 'ghosts',
  mode: QUICK ? 'quick' : 'full',
  command: QUICK ? 'node bench/ghosts.mjs --quick' : 'node bench/ghosts.mjs',
  date,
  machine,
  config: {
    sizes: CONFIG.sizes,
    windowSeconds: CONFIG.windowSeconds,
    settleMs: SETTLE_MS,
    reclaimBoundMs: RECLAIM_BOUND_MS,
    heartbeat: { pingEveryMs: 5000, dropAfterMissed: 2, detectionBoundMs: 15000 },
    harden: {
      keepAlive: { idleSeconds: 5, intervalSeconds: 5, count: 2 },
      userTimeoutMs: 15000,
      detectionBoundMs: 15000,
    },
  },
  runs,
}
mkdirSync(dirname(out.json), { recursive: true })
writeFileSync(out.json, `${JSON.stringify(result, null, 2)}\n`)
writeSvg(result)
console.log(`wrote ${out.json} and ${out.svg}`)
