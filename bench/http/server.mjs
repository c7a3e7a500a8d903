// One app under load, in its own process so that neither the load generator
// nor the orchestrator shares its event loop or heap.
//
//   node server.mjs <framework> <variant>                   GET / → 'hello world'
//   node server.mjs <framework> <variant> --upstream <port> GET / → the body of GET / on the upstream
//
// Prints {"event":"listening","port":N}, then answers JSON-line commands:
// stats (the core's counters, ours only), cpu (process CPU µs), memory (after global.gc(), when
// started with --expose-gc), profileStart / profileStop (V8's CPU profiler,
// the one --cpu-prof runs, over just the measured window), quit.
import http from 'node:http'
import { Session } from 'node:inspector/promises'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startApp } from './variants.mjs'
import { serveCommands } from './children.mjs'

const { positionals, values } = parseArgs({ allowPositionals: true, options: { upstream: { type: 'string' } } })
const [framework, variant] = positionals

let respond = 'hello world'
let agent
if (values.upstream !== undefined) {
  // A pool as an app would keep one: keep-alive, bounded. Every request's
  // scope binds the pooled socket it is given, so the memory bench sees
  // whether scopes or listeners pile up on long-lived sockets.
  agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
  const options = { host: '127.0.0.1', port: Number(values.upstream), path: '/', agent }
  respond = () =>
    new Promise((resolve, reject) => {
      http
        .get(options, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (d) => (body += d))
          res.on('end', () => resolve(body))
          res.on('error', reject)
        })
        .on('error', reject)
    })
}

const app = await startApp(framework, variant, respond)
const core = variant === 'ours' ? await import('@tcp-user-timeout/core') : undefined

// Peaks between checkpoints, without forcing a GC: what the process really held under load.
let peak = { heapUsed: 0, rss: 0 }
const sampler = setInterval(() => {
  const m = process.memoryUsage()
  peak = { heapUsed: Math.max(peak.heapUsed, m.heapUsed), rss: Math.max(peak.rss, m.rss) }
}, 500)
sampler.unref()

function poolSockets() {
  if (agent === undefined) return undefined
  const count = (table) => Object.values(table).reduce((n, list) => n + list.length, 0)
  return { busy: count(agent.sockets), free: count(agent.freeSockets), queued: count(agent.requests) }
}

let profiler
const send = serveCommands({
  stats: () => ({ stats: core?.stats() ?? null }),
  // CPU time of this process (all threads), in µs: per request, it moves far
  // less with a busy machine than requests per second do.
  cpu: () => {
    const { user, system } = process.cpuUsage()
    return { cpuUs: user + system }
  },
  memory: () => {
    if (typeof global.gc !== 'function') throw new Error('start the server with --expose-gc')
    // Twice: the first pass may only queue finalizers (FinalizationRegistry, weak maps) for the second.
    global.gc()
    global.gc()
    const { heapUsed, heapTotal, rss, external, arrayBuffers } = process.memoryUsage()
    const resources = process.getActiveResourcesInfo()
    const byType = {}
    for (const r of resources) byType[r] = (byType[r] ?? 0) + 1
    const reply = {
      heapUsed,
      heapTotal,
      rss,
      external,
      arrayBuffers,
      peakHeapUsed: peak.heapUsed,
      peakRss: peak.rss,
      resources: resources.length,
      resourcesByType: byType,
      pool: poolSockets(),
      stats: core?.stats() ?? null,
    }
    peak = { heapUsed: 0, rss: 0 }
    return reply
  },
  profileStart: async ({ intervalUs }) => {
    profiler = new Session()
    profiler.connect()
    await profiler.post('Profiler.enable')
    await profiler.post('Profiler.setSamplingInterval', { interval: intervalUs })
    await profiler.post('Profiler.start')
    return {}
  },
  profileStop: async ({ path }) => {
    const { profile } = await profiler.post('Profiler.stop')
    profiler.disconnect()
    writeFileSync(path, JSON.stringify(profile))
    return { path }
  },
  quit: async () => {
    agent?.destroy()
    await Promise.race([app.close(), new Promise((r) => setTimeout(r, 2000))])
    process.exit(0)
  },
})
send({ event: 'listening', port: app.port, pid: process.pid, node: process.version })
