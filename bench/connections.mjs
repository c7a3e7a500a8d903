// What the library costs an HTTP client, per new connection and per pooled
// keep-alive exchange. Each sample is a child process (net/connections-worker.mjs)
// running one variant: "without the library" must mean core was never
// imported, since importing it installs the hooks. The children of a line
// alternate round by round, and ratios are taken per round.
//
// The loopback HTTP server (node:http on 127.0.0.1, "hello") lives in this
// process, which only waits for the children while they run; every variant
// of every line talks to the same server.
//
//   node bench/connections.mjs           9 rounds, ~1–2 s per sample
//   node bench/connections.mjs --quick   3 rounds, small batches (CI smoke)
import http from 'node:http'
import { execFile, execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { alternate, fmt, fmtSummary, pct, ratios, share, summarize } from './lib/stats.mjs'
import { table, targetsTable } from './lib/table.mjs'
import { BENCH_DIR, QUICK, benchCommand, commandBlock, machine, resultPath, skip, writeResult } from './lib/result.mjs'

const WORKER = join(BENCH_DIR, 'net', 'connections-worker.mjs')
const ROUNDS = QUICK ? 3 : 9
const SCALE = QUICK ? 1 / 10 : 1
// Batches sized for ~1.5 s per sample on the 2-CPU machine this was written
// on (~500 µs per new connection, 100–400 µs per exchange); warm-up ~10%.
// `als` (a bare AsyncLocalStorage.run per exchange, library not loaded)
// tells the mechanism's cost on this Node from the library's own.
const KEEPALIVE = ['none', 'scoped', 'als']
const ALL_LINES = [
  {
    id: 'connect',
    what: 'new connection: connect + GET + close (agent: false)',
    concurrency: 1,
    batch: 3000,
    variants: ['none', 'loaded', 'exempt', 'bound'],
  },
  {
    // The harshest denominator for the bind: a connection that carries nothing.
    id: 'tcp',
    what: 'new connection: TCP connect + close (reset), no request',
    concurrency: 1,
    batch: 6000,
    variants: ['none', 'loaded', 'exempt', 'bound'],
  },
  {
    id: 'fetch',
    what: 'keep-alive exchange: fetch (global dispatcher)',
    concurrency: 1,
    batch: 4000,
    variants: KEEPALIVE,
  },
  {
    id: 'http-keepalive',
    what: 'keep-alive exchange: http.get, Agent({ keepAlive, maxSockets: 1 })',
    concurrency: 1,
    batch: 6000,
    variants: KEEPALIVE,
  },
  { id: 'fetch', what: 'keep-alive exchange: fetch, 8 in flight', concurrency: 8, batch: 5000, variants: KEEPALIVE },
  {
    id: 'http-keepalive',
    what: 'keep-alive exchange: http.get, Agent({ keepAlive, maxSockets: 4 }), 8 in flight',
    concurrency: 8,
    batch: 10000,
    variants: KEEPALIVE,
  },
]
// Quick: the sequential lines only, a tenth of the batch (CI smoke, < 25 s).
const LINES = ALL_LINES.filter((l) => !QUICK || l.concurrency === 1).map((l) => {
  const batch = Math.round(l.batch * SCALE)
  return { ...l, baseline: 'none', batch, warmup: Math.round(batch * 0.1) }
})
const CHILD_LIMIT_MS = 60_000

const VARIANT_MEANS = {
  none: 'plain node, library not loaded',
  loaded: 'core imported, requests outside any scope (hooks only)',
  exempt:
    'core imported, each connection inside withTimeout(25, …, { exemptHosts: [the server] }): ' +
    'the same scope and hooks as bound, no bind',
  bound: 'core imported, each connection inside withTimeout(25, …): one setsockopt each',
  scoped: 'core imported, pool warmed and every exchange made inside withTimeout(25, …)',
  als:
    'library not loaded, every exchange inside a bare ' +
    'AsyncLocalStorage.run (what any per-request context costs on this Node)',
}

/** Runs the lines, each variant a child process per sample, rounds alternating; returns the lines with their runs. */
async function measure() {
  // Asked of a child: this process runs the server, and should not have the
  // library's hooks installed in it.
  const support = JSON.parse(
    execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('@tcp-user-timeout/core'); console.log(JSON.stringify(m.support()))",
      ],
      { cwd: BENCH_DIR, encoding: 'utf8', timeout: CHILD_LIMIT_MS },
    ),
  )
  if (!support.supported) skip('connections', `socket options unsupported: ${support.reason}`)

  const server = http.createServer((req, res) => res.end('hello'))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()

  let child
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      child?.kill('SIGKILL')
      process.exit(130)
    })
  }

  function sample(line, variant) {
    return new Promise((resolve, reject) => {
      const args = [
        WORKER,
        line.id,
        variant,
        String(port),
        String(line.warmup),
        String(line.batch),
        String(line.concurrency),
      ]
      child = execFile(
        process.execPath,
        args,
        { cwd: BENCH_DIR, timeout: CHILD_LIMIT_MS, killSignal: 'SIGKILL' },
        (error, stdout, stderr) => {
          child = undefined
          let parsed
          try {
            parsed = JSON.parse(stdout.trim().split('\n').pop())
          } catch {
            // reported below with stderr
          }
          if (error || !parsed || parsed.error) {
            reject(new Error(`${line.id}/${variant}: ${parsed?.error ?? error?.message ?? 'no result'}\n${stderr}`))
          } else resolve(parsed)
        },
      )
    })
  }

  console.log(
    `connections bench (${QUICK ? 'quick' : 'full'}): ${ROUNDS} rounds, one child process per sample; ` +
      `server in the orchestrator on 127.0.0.1:${port}; ${machine().nproc} CPUs, node ${process.version}`,
  )

  const results = []
  try {
    for (const line of LINES) {
      console.log(
        `- ${line.what}: ${line.variants.join(' / ')}, ${line.batch} ops per sample (+${line.warmup} warm-up)`,
      )
      const runs = await alternate(
        ROUNDS,
        Object.fromEntries(line.variants.map((v) => [v, () => sample(line, v)])),
        (name, s) => process.stdout.write(`  ${name} ${fmt(s.nsPerOp / 1000, 1)} µs`),
      )
      process.stdout.write('\n')
      results.push({ ...line, runs })
    }
  } finally {
    server.close()
    server.closeAllConnections()
  }
  return results
}

const lineKey = (r) => `${r.id}${r.concurrency > 1 ? `-c${r.concurrency}` : ''}`
// Node 20 is the figure of record; other versions are written beside it.
const MAJOR = Number(process.versions.node.split('.')[0])
const NAME = MAJOR === 20 ? 'connections' : `connections-node${MAJOR}`
// `--summarize`: the summaries, tables and targets again from the samples of the last full
// run (results/<name>.json), measuring nothing: for a change in how they are read.
const saved = process.argv.includes('--summarize') ? JSON.parse(readFileSync(resultPath(NAME), 'utf8')) : undefined
const results =
  saved === undefined
    ? await measure()
    : LINES.map((l) => ({ ...l, runs: saved.raw.find((r) => r.key === lineKey(l)).runs }))

// ---- checks, summaries, targets ---------------------------------------------

const perOp = (runs, field) => summarize(runs.map((x) => x[field] / 1000))
const ratioOf = (r, v, field) =>
  ratios(
    r.runs[v].map((x) => x[field]),
    r.runs[r.baseline].map((x) => x[field]),
  )
const sum = (xs) => xs.reduce((a, b) => a + b, 0)
const isConnect = (r) => r.id === 'connect' || r.id === 'tcp'

/**
 * What share of a bound connection the bind is, per round, three ways: the
 * client CPU the bind adds, 1 − exempt/bound on the client's CPU time per
 * connection (`exempt` enters the same scope, with the server's host
 * exempt: everything but the bind; the figure judged), the same on wall
 * time (as noisy as two wall times), and the setsockopt timed alone, hot,
 * in the same process right after its batch (bindNs: a floor, with the
 * caches warm that a connection's flow leaves cold).
 */
function bindShare(r) {
  const bound = r.runs.bound
  const exempt = r.runs.exempt
  return {
    cpu: summarize(bound.map((x, i) => 1 - exempt[i].cpuNsPerOp / x.cpuNsPerOp)),
    cpuUs: summarize(bound.map((x, i) => (x.cpuNsPerOp - exempt[i].cpuNsPerOp) / 1000)),
    wall: summarize(bound.map((x, i) => 1 - exempt[i].nsPerOp / x.nsPerOp)),
    timedAlone: summarize(bound.map((x) => x.bindNs / x.nsPerOp)),
    bindUs: summarize(bound.map((x) => x.bindNs / 1000)),
  }
}

function checksOf(r) {
  const out = {}
  for (const v of r.variants) {
    const runs = r.runs[v]
    if (!runs[0].stats) continue
    out[v] = {
      setsockoptCalls: runs.map((x) => x.stats.setsockoptCalls),
      bound: runs.map((x) => x.stats.bound),
      errors: runs.map((x) => x.stats.errors),
      readBackMs: [...new Set(runs.flatMap((x) => x.check.readBackMs))],
      expectedMs: runs[0].check.expectedMs,
      ...(isConnect(r)
        ? {}
        : {
            warmupSetsockoptCalls: runs.map((x) => x.check.warmupStats.setsockoptCalls),
            pooledSockets: runs.map((x) => x.check.pooledSockets),
            closedDuringRun: runs.map((x) => x.check.closedDuringRun),
          }),
    }
  }
  return out
}

const summary = results.map((r) => {
  const others = r.variants.filter((v) => v !== r.baseline)
  return {
    key: lineKey(r),
    what: r.what,
    concurrency: r.concurrency,
    batch: r.batch,
    warmup: r.warmup,
    usPerOp: Object.fromEntries(r.variants.map((v) => [v, perOp(r.runs[v], 'nsPerOp')])),
    perSecond: Object.fromEntries(r.variants.map((v) => [v, summarize(r.runs[v].map((x) => 1e9 / x.nsPerOp))])),
    bindShare: isConnect(r) ? bindShare(r) : undefined,
    cpuUsPerOp: Object.fromEntries(r.variants.map((v) => [v, perOp(r.runs[v], 'cpuNsPerOp')])),
    ratioVsNone: Object.fromEntries(others.map((v) => [v, ratioOf(r, v, 'nsPerOp')])),
    cpuRatioVsNone: Object.fromEntries(others.map((v) => [v, ratioOf(r, v, 'cpuNsPerOp')])),
    checks: checksOf(r),
  }
})

const ratioText = (x) => `${x.median.toFixed(3)} (${pct(x.median)}; rounds ${x.min.toFixed(3)}–${x.max.toFixed(3)})`
const targets = []
const shareText = (x) =>
  `${share(x.cpu.median, 1)} of its client CPU (rounds ${share(x.cpu.min, 1)}–${share(x.cpu.max, 1)}; ` +
  `${fmt(x.cpuUs.median, 1)} µs); wall ${share(x.wall.median, 1)}; the call alone, hot: ` +
  `${fmt(x.bindUs.median, 1)} µs, ${share(x.timedAlone.median, 2)}`
for (const s of summary) {
  if (s.key === 'tcp') {
    targets.push({
      what: "new TCP connection, nothing sent: the bind's share (bound against exempt, per round)",
      target: 'said, not judged',
      measured: shareText(s.bindShare),
      met: 'said',
    })
  } else if (s.key === 'connect') {
    targets.push({
      what: "new connection (connect + GET + close): the bind's share of its client CPU (bound against exempt)",
      target: '≤ 3%',
      measured: shareText(s.bindShare),
      met: s.bindShare.cpu.median <= 0.03,
    })
    const c = s.checks.bound
    const ratio = s.ratioVsNone.bound
    targets.push({
      what: 'new connection: bound vs none, µs per connection (per-round ratio, median)',
      target: '≤ 1.10',
      measured: ratioText(ratio),
      met: ratio.median <= 1.1,
    })
    targets.push({
      what: 'new connection: bound sockets hold 25000 ms, one setsockopt per connection',
      target: `setsockoptCalls = ${s.batch} per sample, read back 25000`,
      measured:
        `setsockoptCalls ${[...new Set(c.setsockoptCalls)].join('/')} ` +
        `per sample, read back ${c.readBackMs.join('/')} ms`,
      met: c.setsockoptCalls.every((n) => n === s.batch) && c.readBackMs.length === 1 && c.readBackMs[0] === 25000,
    })
  } else {
    const c = s.checks.scoped
    const ratio = s.ratioVsNone.scoped
    const short = s.what.replace(/^keep-alive exchange: /, '')
    targets.push({
      what: `keep-alive, ${short}: scoped vs none, µs per exchange (per-round ratio, median)`,
      target: '≤ 1.02',
      measured: ratioText(ratio),
      met: ratio.median <= 1.02,
    })
    const calls = sum(c.setsockoptCalls)
    targets.push({
      what: `keep-alive, ${short}: setsockopt calls while measuring (steady state)`,
      target: '0',
      measured:
        `${calls} in ${s.batch * ROUNDS} exchanges; pool bound at ` +
        `warm-up (${[...new Set(c.warmupSetsockoptCalls)].join('/')} calls), ` +
        `read back ${c.readBackMs.join('/')} ms after`,
      met: calls === 0 && c.readBackMs.length === 1 && c.readBackMs[0] === 25000,
    })
  }
}

// ---- output -------------------------------------------------------------------

const ratioCell = (x) => (x ? `${fmtSummary(x, 3)} (${pct(x.median)})` : '–')
const connects = summary.filter((s) => s.key === 'connect' || s.key === 'tcp')
const connectTable = table(
  [
    'connection',
    'variant',
    'connections/s',
    'µs per connection',
    'ratio vs `none`',
    'client CPU µs per connection',
    'setsockopt per sample',
  ],
  connects.flatMap((c) =>
    Object.keys(c.usPerOp).map((v) => [
      c.key === 'tcp' ? 'TCP connect + close' : 'connect + GET + close',
      `\`${v}\``,
      fmtSummary(c.perSecond[v], 0),
      fmtSummary(c.usPerOp[v], 1),
      ratioCell(c.ratioVsNone[v]),
      fmtSummary(c.cpuUsPerOp[v], 1),
      c.checks[v] ? [...new Set(c.checks[v].setsockoptCalls)].join('/') : '–',
    ]),
  ),
)
const shares = (x, digits) => `${share(x.median, digits)} (${share(x.min, digits)}–${share(x.max, digits)})`
const shareTable = table(
  ['connection', 'client CPU the bind adds', 'share of the CPU', 'share of the wall time', 'the call alone, hot'],
  connects.map((c) => [
    c.key === 'tcp' ? 'TCP connect + close' : 'connect + GET + close',
    `${fmtSummary(c.bindShare.cpuUs, 1)} µs`,
    shares(c.bindShare.cpu, 1),
    shares(c.bindShare.wall, 1),
    `${fmtSummary(c.bindShare.bindUs, 1)} µs (${shares(c.bindShare.timedAlone, 2)})`,
  ]),
)
const keepAlive = summary.filter((s) => s.bindShare === undefined)
const keepAliveTable = table(
  [
    'exchange',
    'in flight',
    'variant',
    'µs per exchange',
    'ratio vs `none`',
    'client CPU µs per exchange',
    'CPU ratio vs `none`',
    'setsockopt (measured)',
  ],
  keepAlive.flatMap((s) =>
    Object.keys(s.usPerOp).map((v) => [
      s.what.replace(/^keep-alive exchange: /, '').replace(/, 8 in flight$/, ''),
      String(s.concurrency),
      `\`${v}\``,
      fmtSummary(s.usPerOp[v], 1),
      ratioCell(s.ratioVsNone[v]),
      fmtSummary(s.cpuUsPerOp[v], 1),
      ratioCell(s.cpuRatioVsNone[v]),
      s.checks[v] ? String(sum(s.checks[v].setsockoptCalls)) : '–',
    ]),
  ),
)
const targetsMarkdown = targetsTable(targets)

console.log()
console.log(connectTable)
console.log()
console.log(shareTable)
console.log()
console.log(keepAliveTable)
console.log()
console.log(targetsMarkdown)

const command = benchCommand('connections')
const markdown = `${commandBlock(command)}
${ROUNDS} rounds. Each sample is a fresh child process running one variant (\`none\` and \`als\` never import the
library): a warm-up, then a timed batch, sequential unless said otherwise. The variants of a line alternate, in an
order rotating each round, and ratios are taken per round against that round's \`none\`; cells are median (min–max)
over the rounds. "Client CPU" is the child's own user + system time over the batch, less exposed than wall time to
waiting for a CPU on a shared machine. Server: \`node:http\` on 127.0.0.1 in the orchestrating process, answering
\`hello\`, the same for every variant. Bound: 25 s.

Variants: ${Object.entries(VARIANT_MEANS)
  .map(([k, v]) => `\`${k}\`: ${v}`)
  .join('; ')}.

**Per new connection**: connect + one GET + close (\`agent: false\`), and a TCP connection that carries nothing
(connect, then a reset), ${connects.map((c) => `${c.batch} per sample after ${c.warmup} warm-up`).join(' and ')}.
Connections per second are one connection at a time.

${connectTable}

**The bind's share of a new connection**: \`bound\` against \`exempt\` of the same round, which enters the same
scope with the server's host exempt, so that all it lacks is the bind (one \`setsockopt\` through ffi-rs, and its
bookkeeping). The share is 1 − exempt/bound per round, on the client's CPU time per connection and on its wall
time. Each \`bound\` sample also times the call alone, right after its batch, in the same process:
\`setUserTimeout(fd, ms)\` on one connected socket, the value alternating so that every call is a \`setsockopt\`; hot in
a loop, it is a floor for what the same call costs inside a connection's flow.

${shareTable}

**Per keep-alive exchange** over a pool warmed first (inside scopes for \`scoped\`, so its sockets are bound once
there); batches ${keepAlive.map((s) => `${s.batch}`).join(' / ')}. \`setsockopt (measured)\`:
\`stats().setsockoptCalls\` summed over the timed phases of all rounds.

${keepAliveTable}

${targetsMarkdown}
`

writeResult(NAME, {
  // A summary again keeps the measured run's date, machine and command.
  ...(saved === undefined ? {} : { date: saved.date, machine: saved.machine, command: saved.command }),
  config: {
    rounds: ROUNDS,
    server: 'node:http in the orchestrating process, 127.0.0.1, res.end("hello")',
    boundSeconds: 25,
    lines: LINES.map(({ id, what, concurrency, batch, warmup, variants }) => ({
      id,
      what,
      concurrency,
      batch,
      warmup,
      variants,
    })),
    variants: VARIANT_MEANS,
  },
  summary,
  raw: results.map((r) => ({ key: lineKey(r), runs: r.runs })),
  targets,
  markdown,
})
