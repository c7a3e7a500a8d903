// Cost counted in instructions, not seconds (a `pnpm bench` member). Each
// scenario runs under `valgrind --tool=callgrind` with `node --predictable
// --single-threaded`, once with N1 and once with N2 units of work; the cost
// of a unit is (I2 − I1) / (N2 − N1). The same program repeats to well under
// one percent, where wall-clock rounds spread ±30 %.
//
// What is counted is steady state. Both runs first do the same long warm-up
// with callgrind's instrumentation off (valgrind runs it many times faster),
// with a full GC halfway through it: the JIT tiers up, and re-optimizes what
// that GC deoptimized, before counting starts (with a short, counted
// warm-up, TurboFan compiling inside the runs was most of the figure, and
// differed between variants). Then `callgrind_control --instr=on` switches
// counting on, the units run, and a full GC at the end counts their garbage
// whole. The few optimizing compiles that still fall inside a run, at points
// that differ between variants, are the warm-up's tail: their instructions
// are taken out (compiled()). Every variant of a server scenario gets the
// same request bytes. The load (requests, connections, peers) comes from this process,
// outside valgrind. Each figure is the median of the repeats.
//
//   node instructions.mjs               full: every scenario, 3 repeats (--repeats <n>: another count)
//   node instructions.mjs --quick       CI smoke: one scenario, one repeat, small N
//   node instructions.mjs --only adapter --merge     re-counts those scenarios into the last full run's results
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { once } from 'node:events'
import http from 'node:http'
import http2 from 'node:http2'
import net from 'node:net'
import { createInterface } from 'node:readline'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { FRAMEWORKS } from '@tcp-user-timeout/test-utils/apps'
import { BENCH_DIR, QUICK, resultPath, skip, writeResult } from './lib/result.mjs'
import { fmt, pct, summarize } from './lib/stats.mjs'
import { table } from './lib/table.mjs'

const TARGET = join(BENCH_DIR, 'instructions', 'target.mjs')
// For looking into one figure (none of these writes the results):
//   --only <scenario prefix>[,<prefix>...], --variants a,b (and the baseline), --warm <n>
//   --keep <dir>: keep each run's callgrind.out (for diff.mjs, callgrind_annotate), the target's stdout (.log)
//     and, with --node-flags='--perf-basic-prof', V8's names for its JIT code (.map, which diff.mjs reads)
//   --node-flags='<flags>': extra flags for the target's node, e.g. '--trace-gc --trace-opt --trace-deopt'
const { values: cli } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    only: { type: 'string' },
    repeats: { type: 'string' },
    keep: { type: 'string' },
    warm: { type: 'string' },
    variants: { type: 'string' },
    'node-flags': { type: 'string' },
    merge: { type: 'boolean' },
  },
})
const NODE_FLAGS = cli['node-flags']?.split(' ').filter(Boolean) ?? []
// A look into one figure (--only, --keep, ...) runs once: a kept output is named by scenario, variant and N only.
const DIAGNOSTIC =
  ['keep', 'warm', 'variants', 'node-flags'].some((k) => cli[k] !== undefined) || (cli.only !== undefined && !cli.merge)
if (cli.merge && (cli.only === undefined || DIAGNOSTIC || QUICK)) {
  console.error(
    "instructions: --merge re-counts the --only scenarios, in full, into the last full run's results: " +
      'give --only <scenario prefix>, and none of --keep, --warm, --variants, --node-flags, --quick',
  )
  process.exit(2)
}
const REPEATS = cli.repeats !== undefined ? Number(cli.repeats) : QUICK || DIAGNOSTIC ? 1 : 3
const PARALLEL = 2
// A run of 25,000 Express requests on Node 22 (about 530,000 instructions each) takes over 10 minutes
// under callgrind when it shares the machine.
const RUN_TIMEOUT_MS = 40 * 60_000
const HEADER = { 'x-request-timeout-s': '10' }

try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
} catch {
  skip('instructions', 'valgrind is not installed (scripts/setup.sh installs it as root)')
}

/**
 * [scenario, variants, the variant each is compared with, what each variant does at least (`contains`: the
 * work of that other variant, and more), [N1, N2], how the driver makes one unit].
 * `server`: the target serves, the driver sends units; `client`: the target makes units against a peer.
 */
const FULL = [
  ...FRAMEWORKS.map((fw) => ({
    scenario: `adapter:${fw}`,
    unit: 'request',
    variants: ['none', 'als', 'ours', 'ours-header'],
    baseline: 'als',
    contains: { als: 'none', ours: 'als', 'ours-header': 'ours' },
    warm: 20000,
    n: [5000, 25000],
    server: 'requests',
  })),
  {
    scenario: 'connect',
    unit: 'new connection',
    variants: ['none', 'loaded', 'bound'],
    baseline: 'loaded',
    contains: { loaded: 'none', bound: 'loaded' },
    warm: 20000,
    n: [5000, 25000],
    peer: 'sink',
  },
  {
    scenario: 'keepalive-http',
    unit: 'keep-alive exchange',
    variants: ['none', 'als', 'scoped'],
    baseline: 'als',
    contains: { als: 'none', scoped: 'als' },
    warm: 20000,
    n: [5000, 25000],
    peer: 'http',
  },
  {
    scenario: 'keepalive-fetch',
    unit: 'keep-alive exchange',
    variants: ['none', 'als', 'scoped'],
    baseline: 'als',
    contains: { als: 'none', scoped: 'als' },
    warm: 20000,
    n: [5000, 25000],
    peer: 'http',
  },
  {
    scenario: 'http2-stream',
    unit: 'stream on a shared HTTP/2 session',
    variants: ['none', 'als', 'scoped'],
    baseline: 'als',
    contains: { als: 'none', scoped: 'als' },
    warm: 20000,
    n: [5000, 25000],
    peer: 'http2',
  },
  {
    scenario: 'ffi',
    unit: 'setsockopt call',
    variants: ['empty', 'wrapped', 'raw', 'api'],
    baseline: 'wrapped',
    contains: { raw: 'empty', wrapped: 'raw', api: 'raw' },
    warm: 20000,
    n: [2000, 12000],
    peer: 'sink',
  },
  {
    scenario: 'hardened',
    unit: 'accepted connection',
    variants: ['none', 'hardened'],
    baseline: 'none',
    contains: { hardened: 'none' },
    warm: 20000,
    n: [5000, 25000],
    server: 'connections',
  },
  {
    scenario: 'lifetime',
    unit: 'request opening a socket',
    variants: ['als', 'ours'],
    baseline: 'als',
    contains: { ours: 'als' },
    warm: 20000,
    n: [5000, 25000],
    server: 'requests',
    peer: 'sink',
  },
]
const WARM = cli.warm === undefined ? undefined : Number(cli.warm)
const SCENARIOS = (
  QUICK
    ? [
        { ...FULL.find((s) => s.scenario === 'connect'), variants: ['loaded', 'bound'], warm: 1000, n: [50, 250] },
        { ...FULL.find((s) => s.scenario === 'ffi'), variants: ['wrapped', 'api'], warm: 1000, n: [200, 1000] },
      ]
    : FULL.filter((s) => cli.only === undefined || cli.only.split(',').some((prefix) => s.scenario.startsWith(prefix)))
)
  .map((s) => (WARM === undefined ? s : { ...s, warm: WARM }))
  .map((s) =>
    cli.variants === undefined
      ? s
      : { ...s, variants: s.variants.filter((v) => v === s.baseline || cli.variants.split(',').includes(v)) },
  )

/**
 * A peer in this process: a sink that reads and discards, or an HTTP/1.1 or h2c server
 * answering 'ok' (and holding /hold open).
 */
async function startPeer(kind) {
  const sockets = new Set()
  const server =
    kind === 'http'
      ? http.createServer((_req, res) => res.end('ok'))
      : kind === 'http2'
        ? http2.createServer((req, res) => (req.url === '/hold' ? res.writeHead(200).flushHeaders() : res.end('ok')))
        : net.createServer((s) => s.on('error', () => {}).resume())
  // The target runs slowly under valgrind, and pauses for full GCs: no idle timeout may close its pooled socket.
  server.keepAliveTimeout = 0
  server.on('connection', (s) => {
    sockets.add(s)
    s.once('close', () => sockets.delete(s))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: server.address().port,
    close: () => {
      for (const s of sockets) s.destroy()
      return new Promise((r) => server.close(r))
    },
  }
}

/**
 * Sends `n` units to a target server: sequential GETs over `agent`'s one keep-alive connection, or connections (each
 * closed once the server has accepted it and answered).
 */
async function drive(kind, port, n, agent) {
  if (kind === 'connections') {
    for (let i = 0; i < n; i++) {
      const socket = net.connect(port, '127.0.0.1')
      socket.resume()
      await once(socket, 'end')
      socket.destroy()
      await once(socket, 'close')
    }
    return
  }
  // Every variant gets the same request bytes: only ours-header reads the header.
  for (let i = 0; i < n; i++) {
    await new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent, headers: HEADER }, (res) => res.resume().on('end', resolve))
        .on('error', reject)
    })
  }
}

/** Instructions of one run of the target with `n` units. */
async function count(spec, variant, n) {
  const peer = spec.peer === undefined ? undefined : await startPeer(spec.peer)
  const warm = spec.server === undefined ? spec.warm : 0 // a server's warm-up comes from here
  const out = join(cli.keep ?? SCRATCH, `${spec.scenario.replace(':', '-')}.${variant}.${n}.out`)
  const args = [
    '--tool=callgrind',
    '--instr-atstart=no',
    '--smc-check=all-non-file',
    `--callgrind-out-file=${out}`,
    process.execPath,
    '--predictable',
    '--single-threaded',
    '--expose-gc',
    ...NODE_FLAGS,
    TARGET,
    spec.scenario,
    variant,
    String(n),
    String(peer?.port ?? 0),
    String(warm),
  ]
  const child = spawn('valgrind', args, { cwd: BENCH_DIR, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS)
  const log = []
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  // The protocol's next line; anything else the target prints (--node-flags '--trace-gc') is logged.
  const expect = async (prefix) => {
    for (let line = await lines.next(); !line.done; line = await lines.next()) {
      if (line.value.startsWith(prefix)) return line.value
      log.push(line.value)
    }
    throw new Error(`${spec.scenario} ${variant} ${n}: the target exited before printing ${prefix}`)
  }
  const closed = once(child, 'close')
  try {
    if (spec.server !== undefined) {
      const { port } = JSON.parse(await expect('{"port"'))
      // One keep-alive connection for the warm-up and the units (target.mjs, serveUntilTold()).
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      try {
        await drive(spec.server, port, spec.warm >> 1, agent)
        child.stdin.write('gc\n')
        await expect('collected')
        await drive(spec.server, port, spec.warm - (spec.warm >> 1), agent)
        await instrument(child.pid)
        await drive(spec.server, port, n, agent)
      } catch (error) {
        // The connection failed: say how the target ended, if it did.
        const ended = await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000, null))])
        const how = ended === null ? 'still running' : `exit ${ended[0] ?? ended[1]}`
        throw new Error(
          `${spec.scenario} ${variant} ${n}: ${error.message}; the target: ${how}\n${stderr.slice(-2000)}`,
          { cause: error },
        )
      } finally {
        agent.destroy()
      }
      child.stdin.write('done\n')
    }
    for (let line = await lines.next(); !line.done; line = await lines.next()) log.push(line.value)
    const [code, signal] = await closed
    if (cli.keep !== undefined) {
      writeFileSync(out.replace(/\.out$/, '.log'), `${log.join('\n')}\n`)
      // With --node-flags='--perf-basic-prof', V8 names its JIT code in
      // /tmp/perf-<pid>.map: diff.mjs reads it beside the .out.
      if (existsSync(`/tmp/perf-${child.pid}.map`))
        renameSync(`/tmp/perf-${child.pid}.map`, out.replace(/\.out$/, '.map'))
    }
    const collected = /Collected : (\d+)/.exec(stderr)
    if (code !== 0 || collected === null)
      throw new Error(`${spec.scenario} ${variant} ${n}: exit ${code ?? signal}\n${stderr.slice(-2000)}`)
    const parts = breakdown(out)
    if (cli.keep === undefined) rmSync(out)
    return { ...parts, instructions: Number(collected[1]) - parts.compiling }
  } finally {
    clearTimeout(timer)
    child.kill('SIGKILL')
    await peer?.close()
  }
}

// Callgrind's outputs, read for the compiling they counted, then removed (--keep keeps them).
const SCRATCH = mkdtempSync(join(tmpdir(), 'tut-instructions-'))
process.on('exit', () => rmSync(SCRATCH, { recursive: true, force: true }))

/**
 * What one run's callgrind output holds besides the units' own work, from
 * the inclusive cost of V8's entry points:
 *
 * - `compiling`: optimizing (Maglev, TurboFan, on-stack replacement). A long
 *   warm-up leaves a few such compiles for the units, at points that differ
 *   between variants (a few million instructions each, thousands per unit);
 *   they are the warm-up's tail, not the units' cost, and are taken out.
 * - `gc`: every collection (Heap::CollectGarbage), which stays in: users pay it.
 * - `major`: one full collection, the forced one after the units
 *   (PreciseCollectAllGarbage), and `naturalMajors`, how many more V8 made
 *   on its own while the units ran. Where there are any, whether one more
 *   falls inside the longer run or not moves a figure by `major` over the
 *   units between the two runs: that is the figure's resolution.
 */
function breakdown(file) {
  const text = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  })
  const found = { compiling: 0, gc: 0, forced: 0, markCompact: 0 }
  const patterns = [
    ['compiling', /^v8::internal::Compiler::CompileOptimized(OSR)?\(/],
    ['gc', /^v8::internal::Heap::CollectGarbage\(v8/],
    ['forced', /^v8::internal::Heap::PreciseCollectAllGarbage\(/],
    ['markCompact', /^v8::internal::Heap::MarkCompact\(\)/],
  ]
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+)\s+\([^)]*\)\s+\S*?:(\S.*)$/.exec(line)
    if (m === null) continue
    const [key] = patterns.find(([, re]) => re.test(m[2])) ?? []
    // The first match is the outermost (a name can recur in its own callees' lines).
    if (key !== undefined && found[key] === 0) found[key] = Number(m[1].replaceAll(',', ''))
  }
  const naturalMajors = found.forced > 0 ? Math.max(0, Math.round(found.markCompact / found.forced) - 1) : 0
  return { compiling: found.compiling, gc: found.gc, major: found.forced, naturalMajors }
}

/** Switches callgrind's instrumentation on in the target (through vgdb); resolves once it is on. */
async function instrument(pid) {
  const child = spawn('callgrind_control', ['--instr=on', String(pid)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d) => (output += d))
  const [code] = await once(child, 'close')
  if (code !== 0 || !output.includes('OK'))
    throw new Error(`callgrind_control --instr=on ${pid}: exit ${code}: ${output}`)
}

/** Runs the jobs `PARALLEL` at a time (valgrind is single-threaded; the machine has two CPUs). */
async function inParallel(jobs) {
  const results = new Array(jobs.length)
  let next = 0
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < jobs.length) {
        const i = next++
        results[i] = await jobs[i]()
      }
    }),
  )
  return results
}

const started = Date.now()
const jobs = []
for (const spec of SCENARIOS) {
  for (const variant of spec.variants) {
    for (let r = 0; r < REPEATS; r++) {
      for (const n of spec.n) jobs.push({ spec, variant, r, n, run: () => count(spec, variant, n) })
    }
  }
}
const counted = await inParallel(jobs.map((j) => j.run))
jobs.forEach((j, i) => Object.assign(j, counted[i]))

// One program repeats to within 0.1 % (0.5 % with a major GC inside): closer than this, two figures are equal.
const SCATTER = 0.005

const rows = []
for (const spec of SCENARIOS) {
  const [n1, n2] = spec.n
  const per = {}
  for (const variant of spec.variants) {
    const runs = Array.from({ length: REPEATS }, (_, r) => {
      const at = (n) => jobs.find((j) => j.spec === spec && j.variant === variant && j.r === r && j.n === n)
      return [at(n1), at(n2)]
    })
    const perUnit = (key) => summarize(runs.map(([a, b]) => (b[key] - a[key]) / (n2 - n1)))
    // A major GC more or less inside the longer run, where V8 makes some on its own, in instructions per unit.
    const quantum = Math.max(...runs.flat().map((j) => (j.naturalMajors > 0 ? j.major / (n2 - n1) : 0)))
    per[variant] = { total: perUnit('instructions'), gc: perUnit('gc').median, quantum }
  }
  const base = per[spec.baseline]
  for (const variant of spec.variants) {
    const { total, gc, quantum } = per[variant]
    const contained = spec.contains?.[variant]
    rows.push({
      scenario: spec.scenario,
      unit: spec.unit,
      variant,
      perUnit: total.median,
      min: total.min,
      max: total.max,
      gcPerUnit: gc,
      repeats: REPEATS,
      vsBaseline: variant === spec.baseline ? null : total.median / base.total.median,
      baseline: spec.baseline,
      resolution: variant === spec.baseline ? null : Math.max(quantum, base.quantum) / base.total.median,
      // A variant that does all another one does, and more, counted below it: the method is measured, not the code.
      belowContained:
        contained === undefined || per[contained] === undefined
          ? null
          : total.median < per[contained].total.median * (1 - SCATTER) - Math.max(quantum, per[contained].quantum)
            ? contained
            : null,
    })
  }
}

/** The comparison with the baseline, as the tables say it: a percent, or why there is none. */
function verdict(r) {
  if (r.vsBaseline === null) return 'baseline'
  const vs = `${pct(r.vsBaseline, 2)} vs \`${r.baseline}\``
  if (r.belowContained !== null && r.belowContained !== undefined)
    return `${vs}: unresolved, below \`${r.belowContained}\`, whose work it does too`
  if (r.resolution > 0 && Math.abs(r.vsBaseline - 1) < r.resolution)
    return `${vs}: unresolved, one major GC is ±${(r.resolution * 100).toFixed(2)}%`
  return vs
}

const node = process.versions.node.split('.')[0]
const RESULT = `instructions-node${node}`
const onlyFlags = cli.only === undefined ? '' : ` --only ${cli.only} --merge`
const repeatsFlag = REPEATS === 3 ? '' : ` --repeats ${REPEATS}`
const runCommand = `node bench/instructions.mjs${onlyFlags}${repeatsFlag}`
let command = `${runCommand} (Node ${node})`
if (cli.merge) {
  // The other scenarios' rows stay those of the last full run, in FULL's order.
  const path = resultPath(RESULT)
  if (!existsSync(path)) {
    console.error(`instructions: --merge needs a full run's ${path}; run \`node bench/instructions.mjs\` first`)
    process.exit(2)
  }
  const last = JSON.parse(readFileSync(path, 'utf8'))
  const fresh = new Set(SCENARIOS.map((s) => s.scenario))
  const merged = FULL.flatMap((s) =>
    (fresh.has(s.scenario) ? rows : last.rows)
      .filter((r) => r.scenario === s.scenario)
      .map((r) => ({ repeats: last.repeats, ...r })),
  )
  rows.splice(0, rows.length, ...merged)
  // The footnote quotes this as one code span: no backquotes inside.
  command =
    `${last.command} at ${last.date.slice(0, 16).replace('T', ' ')} UTC; ` +
    `its ${[...fresh].join(', ')} rows: ${runCommand}`
}
console.log(
  `instructions (node ${process.version}, ${REPEATS} ` +
    `repeat${REPEATS > 1 ? 's' : ''}, ${((Date.now() - started) / 1000).toFixed(0)} s):`,
)
for (const r of rows) {
  const range = (r.repeats ?? REPEATS) > 1 ? ` (${fmt(r.min)}–${fmt(r.max)})` : ''
  console.log(
    `  ${r.scenario.padEnd(16)} ${r.variant.padEnd(12)} ${fmt(r.perUnit).padStart(10)}${range} ` +
      `per ${r.unit} (GC ${fmt(r.gcPerUnit)})${r.vsBaseline === null ? '' : `  ${verdict(r).replaceAll('`', '')}`}`,
  )
}

const rowOf = (scenario, variant) => rows.find((r) => r.scenario === scenario && r.variant === variant)
const target = (what, scenario, variant, limit) => {
  const r = rowOf(scenario, variant)
  if (r === undefined) return { what, target: `≤ ${pct(limit, 0)}`, measured: 'not measured', met: null }
  const said = verdict(r)
  return {
    what,
    target: `≤ ${pct(limit, 0)}`,
    measured: said.replaceAll('`', ''),
    met: said.includes('unresolved') ? 'unresolved' : r.vsBaseline <= limit,
  }
}
/**
 * A bound connection costs its one setsockopt (the `ffi` scenario's `api`
 * call) and a little bookkeeping over a loaded one: more than a tenth over
 * that call is a second call, or work that should not be there.
 */
const oneCall = () => {
  const bound = rowOf('connect', 'bound')
  const loaded = rowOf('connect', 'loaded')
  const call = rowOf('ffi', 'api')
  const what = 'a new bound connection: bound − loaded, in setsockopt calls (ffi api)'
  if (bound === undefined || loaded === undefined || call === undefined)
    return { what, target: '≤ 1.10', measured: 'not measured', met: null }
  const calls = (bound.perUnit - loaded.perUnit) / call.perUnit
  return {
    what,
    target: '≤ 1.10',
    measured: `${calls.toFixed(2)} (${fmt(bound.perUnit - loaded.perUnit)} instructions, a call ${fmt(call.perUnit)})`,
    met: calls <= 1.1,
  }
}
const targets = QUICK
  ? [oneCall()]
  : [
      ...FRAMEWORKS.flatMap((fw) => [
        target(`${fw}: ours vs als, per request`, `adapter:${fw}`, 'ours', 1.01),
        target(`${fw}: ours with a header budget vs als, per request`, `adapter:${fw}`, 'ours-header', 1.01),
      ]),
      oneCall(),
      target('a scoped keep-alive exchange (http.get) vs als', 'keepalive-http', 'scoped', 1.01),
      target('a scoped keep-alive exchange (fetch) vs als', 'keepalive-fetch', 'scoped', 1.01),
      target('a scoped stream on a shared HTTP/2 session vs als', 'http2-stream', 'scoped', 1.01),
    ]

const markdown = table(
  ['scenario', 'variant', 'instructions per unit (median)', 'of which GC', 'min–max', 'vs'],
  rows.map((r) => [
    `${r.scenario} (per ${r.unit})`,
    `\`${r.variant}\``,
    fmt(r.perUnit),
    r.gcPerUnit === undefined ? '–' : fmt(r.gcPerUnit),
    (r.repeats ?? REPEATS) > 1 ? `${fmt(r.min)}–${fmt(r.max)}` : '–',
    verdict(r),
  ]),
)
if (!DIAGNOSTIC)
  writeResult(RESULT, { command, repeats: REPEATS, rows, targets, markdown, seconds: (Date.now() - started) / 1000 })
