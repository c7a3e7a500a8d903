// What the middleware costs a hello world, per framework: requests/s of
// GET / and the server's CPU time per request, with no middleware (none),
// with a bare AsyncLocalStorage.run (als, the floor any per-request scope
// pays) and with tcpUserTimeout({ seconds: 25 }) (ours). Each server runs in
// its own process on this node binary, autocannon in another, on separate
// CPUs where there are two; this process only coordinates. The three servers
// of a framework stay up; every sample is a discarded warm-up run then a
// measured run, the variants alternating in an order that rotates each
// round, and ratios are taken per round before their median.
//
//   node bench/adapters.mjs                       7 rounds × 5 s per variant (~7 min)
//   node bench/adapters.mjs --quick               2 rounds × 1 s, no per-sample warm-up (~30 s)
//   "$(scripts/node-bin.sh 24)" bench/adapters.mjs   the same on Node 24
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { alternate, fmt, fmtSummary, pct, ratios, summarize } from './lib/stats.mjs'
import { QUICK, commandBlock, printTargets, writeResult } from './lib/result.mjs'
import { runMain, separateCpus, spawnChild, teardownOnSignals } from './http/children.mjs'
import { FRAMEWORKS } from '@tcp-user-timeout/test-utils/apps'
import { VARIANTS } from './http/variants.mjs'
import { commandFor, NODE_MAJOR } from './http/command.mjs'

const HERE = join(dirname(fileURLToPath(import.meta.url)), 'http')
const CONFIG = {
  connections: 10,
  pipelining: 1,
  // A fresh server needs seconds of load before the JIT settles (fastify on
  // this machine: ~4k req/s in its first second, ~20k by its fourth), hence
  // one longer warm-up per server, the same for each variant, and a short one
  // before every sample so that none is measured right after an idle spell.
  // autocannon counts whole seconds.
  ...(QUICK
    ? { rounds: 2, seconds: 1, firstWarmupSeconds: 1, warmupSeconds: 0 }
    : { rounds: 7, seconds: 5, firstWarmupSeconds: 3, warmupSeconds: 1 }),
}
const START_MS = 15_000
const ASK_MS = 5_000
const runMs = (seconds) => seconds * 1000 + 15_000
const CPUS = separateCpus()

teardownOnSignals()

async function measureFramework(load, framework) {
  const servers = {}
  try {
    for (const variant of VARIANTS)
      servers[variant] = { server: spawnChild(join(HERE, 'server.mjs'), [framework, variant], { cpu: CPUS?.server }) }
    for (const variant of VARIANTS)
      Object.assign(servers[variant], await servers[variant].server.next('listening', START_MS))
    const url = (variant) => `http://127.0.0.1:${servers[variant].port}/`
    const warm = (variant, duration) =>
      duration > 0 && load.ask('run', runMs(duration), { url: url(variant), connections: CONFIG.connections, duration })
    for (const variant of VARIANTS) await warm(variant, CONFIG.firstWarmupSeconds)
    const sample = (variant) => async () => {
      await warm(variant, CONFIG.warmupSeconds)
      const server = servers[variant].server
      const before = await server.ask('cpu', ASK_MS)
      const run = await load.ask('run', runMs(CONFIG.seconds), {
        url: url(variant),
        connections: CONFIG.connections,
        duration: CONFIG.seconds,
      })
      const after = await server.ask('cpu', ASK_MS)
      if (run.errors || run.timeouts || run.non2xx) {
        throw new Error(
          `${framework}/${variant}: ${run.errors} errors, ${run.timeouts} ` +
            `timeouts, ${run.non2xx} non-2xx in ${run.requests} requests`,
        )
      }
      return { rps: run.rps, cpuUs: (after.cpuUs - before.cpuUs) / run.requests }
    }
    const samples = await alternate(
      CONFIG.rounds,
      Object.fromEntries(VARIANTS.map((v) => [v, sample(v)])),
      (variant, value, round) =>
        console.error(
          `  ${framework} round ${round + 1}/${CONFIG.rounds} ${variant.padEnd(4)} ${fmt(value.rps)} ` +
            `req/s, ${fmt(value.cpuUs, 2)} CPU µs/request`,
        ),
    )
    const rps = Object.fromEntries(VARIANTS.map((v) => [v, samples[v].map((x) => x.rps)]))
    const cpu = Object.fromEntries(VARIANTS.map((v) => [v, samples[v].map((x) => x.cpuUs)]))
    const { stats } = await servers.ours.server.ask('stats', ASK_MS)
    return {
      rps,
      cpu,
      summary: Object.fromEntries(VARIANTS.map((v) => [v, summarize(rps[v])])),
      cpuSummary: Object.fromEntries(VARIANTS.map((v) => [v, summarize(cpu[v])])),
      ratios: {
        alsOverNone: ratios(rps.als, rps.none),
        oursOverNone: ratios(rps.ours, rps.none),
        oursOverAls: ratios(rps.ours, rps.als),
      },
      // CPU per request: lower is better, so these are ours' extra cost as a ratio.
      cpuRatios: {
        alsOverNone: ratios(cpu.als, cpu.none),
        oursOverNone: ratios(cpu.ours, cpu.none),
        oursOverAls: ratios(cpu.ours, cpu.als),
      },
      oursStats: stats,
    }
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.server.close()))
  }
}

const fmtRatio = (s) => `${pct(s.median)} (${pct(s.min)} … ${pct(s.max)})`

function tables(frameworks) {
  const head = [
    'framework',
    'none req/s',
    'als req/s',
    'ours req/s',
    'als/none',
    'ours/none',
    'ours/als',
    'setsockopt (ours)',
  ]
  const rows = FRAMEWORKS.map((f) => {
    const r = frameworks[f]
    return [
      f,
      ...VARIANTS.map((v) => fmtSummary(r.summary[v])),
      fmtRatio(r.ratios.alsOverNone),
      fmtRatio(r.ratios.oursOverNone),
      fmtRatio(r.ratios.oursOverAls),
      String(r.oursStats?.setsockoptCalls ?? '–'),
    ]
  })
  const cpuHead = [
    'framework',
    'none CPU µs/req',
    'als CPU µs/req',
    'ours CPU µs/req',
    'als/none',
    'ours/none',
    'ours/als',
  ]
  const cpuRows = FRAMEWORKS.map((f) => {
    const r = frameworks[f]
    return [
      f,
      ...VARIANTS.map((v) => fmtSummary(r.cpuSummary[v], 2)),
      fmtRatio(r.cpuRatios.alsOverNone),
      fmtRatio(r.cpuRatios.oursOverNone),
      fmtRatio(r.cpuRatios.oursOverAls),
    ]
  })
  const a = render(head, rows)
  const b = render(cpuHead, cpuRows)
  return {
    text: `${a.text}\n\n${b.text}`,
    md:
      `${a.md}\n\nServer CPU time per request (user + system, ` +
      `all threads of the server process, over the same runs):\n\n${b.md}`,
  }
}

function render(head, rows) {
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
    `adapters bench, node ${process.version}, ${QUICK ? 'quick' : 'full'}: ${CONFIG.rounds} ` +
      `rounds × ${CONFIG.seconds} s per variant, ${CONFIG.connections} connections`,
  )
  const load = spawnChild(join(HERE, 'load.mjs'), [], { cpu: CPUS?.load })
  await load.next('ready', START_MS)
  const frameworks = {}
  for (const framework of FRAMEWORKS) frameworks[framework] = await measureFramework(load, framework)
  await load.close()

  const targets = []
  for (const f of FRAMEWORKS) {
    const r = frameworks[f]
    // Judged on CPU per request: requests/s of two processes sharing two
    // CPUs swing by ±20% between rounds here, CPU per request by a few %.
    targets.push({
      what:
        `${f}: ours/als server CPU per request, median of per-round ` +
        `ratios (req/s ratio: ${round4(r.ratios.oursOverAls.median)})`,
      target: '≤ 1.01',
      measured: round4(r.cpuRatios.oursOverAls.median),
      met: r.cpuRatios.oursOverAls.median <= 1.01,
    })
  }
  for (const f of FRAMEWORKS) {
    const r = frameworks[f]
    const onNode = NODE_MAJOR >= 24 ? '' : ' (the target is for Node 24)'
    targets.push({
      what:
        `${f}: ours/none server CPU per request, median of per-round ratios ` +
        `(req/s ratio: ${round4(r.ratios.oursOverNone.median)})${onNode}`,
      target: '≤ 1.03 on Node 24',
      measured: round4(r.cpuRatios.oursOverNone.median),
      met: NODE_MAJOR >= 24 ? r.cpuRatios.oursOverNone.median <= 1.03 : null,
    })
  }
  for (const f of FRAMEWORKS) {
    const calls = frameworks[f].oursStats?.setsockoptCalls
    targets.push({
      what: `${f}: setsockopt calls in the ours server (a hello world opens no outbound socket)`,
      target: '0',
      measured: calls,
      met: calls === 0,
    })
  }

  const { text, md } = tables(frameworks)
  console.log(`\nreq/s: median (min–max) of ${CONFIG.rounds} rounds; ratios: median (min … max) of per-round ratios`)
  console.log(text)
  printTargets(targets)

  const command = commandFor('adapters.mjs')
  const markdown = [
    commandBlock(command),
    `Node ${process.version}. Requests/s of \`GET /\` → \`hello world\`; ` +
      `each server in its own process, autocannon in ` +
      `another${CPUS ? ` (server on CPU ${CPUS.server}, autocannon on CPU ${CPUS.load}, by taskset)` : ''} ` +
      `(${CONFIG.connections} connections, pipelining ${CONFIG.pipelining}). ` +
      `Each server warmed for ${CONFIG.firstWarmupSeconds} s, then ` +
      `${CONFIG.rounds} rounds × ${CONFIG.seconds} s per ` +
      `variant${CONFIG.warmupSeconds > 0 ? `, each after a discarded ${CONFIG.warmupSeconds} s run` : ''}, ` +
      `the order rotating each round. ` +
      'req/s: median (min–max); ratios: median (min … max) of the per-round ratios. ' +
      '`als`: a bare `AsyncLocalStorage.run` middleware; `ours`: `tcpUserTimeout({ seconds: ' +
      '25 })`; setsockopt: `stats().setsockoptCalls` of the ours server at the end.',
    '',
    md,
  ].join('\n')
  writeResult(`adapters-node${NODE_MAJOR}`, { command, config: CONFIG, frameworks, targets, markdown })
}

function round4(x) {
  return Math.round(x * 10_000) / 10_000
}

await runMain(main)
