// Whether the middleware leaks per request: 1,000,000 requests through each
// adapter (ours), each making an outbound http.get through a keep-alive
// http.Agent (maxSockets 16) to an upstream hello server, so every request's
// scope binds the pooled socket it is given. http.get rather than fetch: the
// pool is node:http's own, its size is the Agent's maxSockets, and the
// setsockopt count can be held against it. The server runs with --expose-gc
// and reports memory after global.gc() at each checkpoint: after a warm-up of
// 5% of the requests, then after every further 10% (25% in --quick). Between checkpoints
// autocannon (own process) sends a fixed `amount`; the upstream has its own
// process too, so neither's heap or sockets are in the figures.
//
//   node bench/memory.mjs           1,000,000 requests per adapter (+50,000 warm-up)
//   node bench/memory.mjs --quick   20,000 (+1,000)
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { fmt } from './lib/stats.mjs'
import { QUICK, commandBlock, printTargets, writeResult } from './lib/result.mjs'
import { runMain, spawnChild, teardownOnSignals } from './http/children.mjs'
import { FRAMEWORKS } from '@tcp-user-timeout/test-utils/apps'
import { commandFor } from './http/command.mjs'

const HERE = join(dirname(fileURLToPath(import.meta.url)), 'http')
// --requests N / --only <framework> / --variant none|als: a partial run while
// developing (no result written), e.g. the frameworks' own drift without ours.
const { values: cli } = parseArgs({
  strict: false,
  options: { requests: { type: 'string' }, only: { type: 'string' }, variant: { type: 'string' } },
})
const VARIANT = cli.variant ?? 'ours'
const REQUESTS = cli.requests ? Number(cli.requests) : QUICK ? 20_000 : 1_000_000
const ADAPTERS = cli.only ? [cli.only] : FRAMEWORKS
const CONFIG = {
  requests: REQUESTS,
  warmupRequests: REQUESTS * 0.05,
  // autocannon ends an `amount` run on a whole second, so each step costs at
  // least one: the quick run takes fewer steps.
  checkpoints: QUICK ? 4 : 10,
  // More clients than pooled sockets, so requests also queue for a socket
  // (the scope is then carried by the queued request, not the caller).
  connections: 32,
  pipelining: 1,
  maxSockets: 16,
  outbound: 'http.get through a keep-alive http.Agent({ maxSockets: 16 })',
  seconds: 25,
}
const START_MS = 15_000
const ASK_MS = 60_000
// Bounded, generously: a chunk at 500 req/s would be very slow on any machine.
const amountMs = (amount) => 30_000 + (amount / 500) * 1000

teardownOnSignals()

async function measureAdapter(load, upstreamPort, framework) {
  const server = spawnChild(join(HERE, 'server.mjs'), [framework, VARIANT, '--upstream', String(upstreamPort)], {
    nodeArgs: ['--expose-gc'],
  })
  try {
    const { port } = await server.next('listening', START_MS)
    const url = `http://127.0.0.1:${port}/`
    const checkpoints = []
    let sent = 0
    const send = async (amount) => {
      const run = await load.ask('run', amountMs(amount), { url, connections: CONFIG.connections, amount })
      if (run.errors || run.timeouts || run.non2xx) {
        throw new Error(
          `${framework}: ${run.errors} errors, ${run.timeouts} ` +
            `timeouts, ${run.non2xx} non-2xx in ${run.requests} requests`,
        )
      }
      sent += run.requests
      return run
    }
    const checkpoint = async (label, run) => {
      const { event, ...memory } = await server.ask('memory', ASK_MS)
      // autocannon ends an `amount` run on a whole second: its duration is no throughput figure.
      checkpoints.push({ label, requests: sent, loadSeconds: run?.seconds, ...memory })
      const s = memory.stats ?? { setsockoptCalls: '–', bound: '–' }
      console.error(
        `  ${framework.padEnd(7)} ${label.padEnd(7)} ${fmt(sent).padStart(9)} ` +
          `req  heap ${mb(memory.heapUsed)}  rss ${mb(memory.rss)}  ` +
          `ext ${mb(memory.external)}  resources ${memory.resources} ` +
          ` setsockopt ${s.setsockoptCalls}  bound ${s.bound}`,
      )
    }
    await checkpoint('start')
    await checkpoint('warm-up', await send(CONFIG.warmupRequests))
    const chunk = CONFIG.requests / CONFIG.checkpoints
    for (let i = 1; i <= CONFIG.checkpoints; i++)
      await checkpoint(`${Math.round((i * 100) / CONFIG.checkpoints)}%`, await send(chunk))
    return analyse(checkpoints)
  } finally {
    await server.close()
  }
}

function analyse(checkpoints) {
  const warm = checkpoints.find((c) => c.label === 'warm-up')
  const end = checkpoints.at(-1)
  const after = checkpoints.filter((c) => c.requests >= warm.requests)
  const requests = end.requests - warm.requests
  const half = after[Math.floor(after.length / 2)]
  return {
    checkpoints,
    requestsAfterWarmup: requests,
    warmup: pick(warm),
    end: pick(end),
    heapGrowthPerRequest: (end.heapUsed - warm.heapUsed) / requests,
    heapSlopePerRequest: slope(after.map((c) => [c.requests, c.heapUsed])),
    rssGrowthPerRequest: (end.rss - warm.rss) / requests,
    rssSecondHalf: {
      min: Math.min(...after.filter((c) => c.requests >= half.requests).map((c) => c.rss)),
      max: Math.max(...after.filter((c) => c.requests >= half.requests).map((c) => c.rss)),
    },
    rssEndOverMid: end.rss / half.rss,
    maxHeapAfterGc: Math.max(...checkpoints.map((c) => c.heapUsed)),
    peakHeapUnderLoad: Math.max(...checkpoints.map((c) => c.peakHeapUsed)),
    peakRssUnderLoad: Math.max(...checkpoints.map((c) => c.peakRss)),
  }
}

function pick(c) {
  return {
    requests: c.requests,
    heapUsed: c.heapUsed,
    rss: c.rss,
    external: c.external,
    resources: c.resources,
    setsockoptCalls: c.stats?.setsockoptCalls,
    bound: c.stats?.bound,
    pool: c.pool,
  }
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  const sxy = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0)
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0)
  return sxx === 0 ? 0 : sxy / sxx
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(2)} MB`
const bpr = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)} B`

function tables(adapters) {
  const head = [
    'adapter',
    'heap warm-up',
    'heap end',
    'heap/request',
    'heap slope/request',
    'max heap (after GC)',
    'peak heap (load)',
    'RSS warm-up',
    'RSS end',
    'RSS 2nd half',
    'setsockopt warm-up → end',
    'bound',
    'resources warm-up → end',
  ]
  const rows = Object.keys(adapters).map((f) => {
    const a = adapters[f]
    return [
      f,
      mb(a.warmup.heapUsed),
      mb(a.end.heapUsed),
      bpr(a.heapGrowthPerRequest),
      bpr(a.heapSlopePerRequest),
      mb(a.maxHeapAfterGc),
      mb(a.peakHeapUnderLoad),
      mb(a.warmup.rss),
      mb(a.end.rss),
      `${mb(a.rssSecondHalf.min)}–${mb(a.rssSecondHalf.max)}`,
      `${a.warmup.setsockoptCalls} → ${a.end.setsockoptCalls}`,
      String(a.end.bound),
      `${a.warmup.resources} → ${a.end.resources}`,
    ]
  })
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  const text = [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n')
  const md = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n')
  return { text, md }
}

async function main() {
  console.error(
    `memory bench, node ${process.version}, ${QUICK ? 'quick' : 'full'}: ${fmt(CONFIG.requests)} ` +
      `requests (+${fmt(CONFIG.warmupRequests)} warm-up) per adapter, ${CONFIG.connections} connections`,
  )
  const upstream = spawnChild(join(HERE, 'upstream.mjs'))
  const load = spawnChild(join(HERE, 'load.mjs'))
  const { port: upstreamPort } = await upstream.next('listening', START_MS)
  await load.next('ready', START_MS)
  const adapters = {}
  for (const framework of ADAPTERS) adapters[framework] = await measureAdapter(load, upstreamPort, framework)

  const targets = []
  for (const f of ADAPTERS) {
    const a = adapters[f]
    // 20,000 requests cannot resolve 1 B/request (a 0.1 MB wobble of the heap
    // is 5 B/request, and JIT and inline caches still fill in after 1,000
    // requests): the quick run only catches a per-request leak of a scope or
    // listener, which would be hundreds of bytes.
    targets.push({
      what: `${f}: heap growth after warm-up, (end − warm-up) / requests`,
      target: '< 1 B/request (full run)',
      measured: round3(a.heapGrowthPerRequest),
      met: QUICK ? null : a.heapGrowthPerRequest < 1,
    })
    if (QUICK) {
      targets.push({
        what: `${f}: heap growth after warm-up, quick smoke`,
        target: '< 100 B/request',
        measured: round3(a.heapGrowthPerRequest),
        met: a.heapGrowthPerRequest < 100,
      })
    }
    targets.push({
      // Per pooled socket, not per request: bound when a request opens it, put back when that
      // request ends (the lifetime rule), bound again by the next exchange; then steady.
      what:
        `${f}: setsockopt calls at the end (per pool socket: bound at open, put back at its ` +
        `opener's end, bound again by the next exchange; the value is the same every request)`,
      target: `≤ ${3 * CONFIG.maxSockets}`,
      measured: a.end.setsockoptCalls,
      met: a.end.setsockoptCalls <= 3 * CONFIG.maxSockets,
    })
    targets.push({
      what: `${f}: RSS at the end against mid-run (after 50% of the requests)`,
      target: 'within ±5% (full run)',
      measured: round3(a.rssEndOverMid),
      met: QUICK ? null : Math.abs(a.rssEndOverMid - 1) <= 0.05,
    })
  }

  const { text, md } = tables(adapters)
  console.log(`\nafter global.gc(); per request: over the ${fmt(CONFIG.requests)} requests after warm-up`)
  console.log(text)
  printTargets(targets)

  const command = commandFor('memory.mjs')
  const markdown = [
    commandBlock(command),
    `Node ${process.version}. Per adapter (\`tcpUserTimeout({ seconds: ${CONFIG.seconds} ` +
      `})\`): ${fmt(CONFIG.warmupRequests)} warm-up requests, then ` +
      `${fmt(CONFIG.requests)} in ${CONFIG.checkpoints} steps; each request makes ` +
      `one outbound call (${CONFIG.outbound}) to an upstream in its own process. ` +
      `Load: autocannon (${CONFIG.connections} connections, ` +
      `pipelining ${CONFIG.pipelining}, \`amount\` per step) in its own process. ` +
      'Memory read in the server after `global.gc()` (`--expose-gc`) ' +
      'at each checkpoint; heap/request: (end − warm-up) / requests; ' +
      'slope: least-squares over the checkpoints after warm-up; peak heap (load): ' +
      'highest `heapUsed` sampled every 500 ms under load, without forcing a GC; ' +
      'resources: `process.getActiveResourcesInfo().length` (load connections closed).',
    '',
    md,
  ].join('\n')
  if (cli.requests || cli.only || cli.variant) console.log('--requests/--only: a partial run, no result written')
  else writeResult('memory', { command, config: CONFIG, adapters, targets, markdown })
}

function round3(x) {
  return Math.round(x * 1000) / 1000
}

await runMain(main)
