// ns per setUserTimeout-equivalent call on a connected loopback socket, from
// the C floor through a N-API addon, koffi and ffi-rs to the core's public
// API, plus the core's memory over many calls (issue 5, item 1).
//   node bench/ffi.mjs [--quick]
import net from 'node:net'
import { once } from 'node:events'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { getUserTimeout, support } from '@tcp-user-timeout/core'
import { alternate, fmt, fmtSummary, ratios, summarize } from './lib/stats.mjs'
import { commandBlock, machine, QUICK, skip, writeResult } from './lib/result.mjs'
import { makeVariants } from './ffi/variants.mjs'

const ROUNDS = QUICK ? 3 : 9
const CALLS = QUICK ? 30_000 : 200_000
const C_CALLS = CALLS * 10 // the C loop is ~20× cheaper: keep its samples long enough to time
const WARMUP_CALLS = Math.min(CALLS, 20_000)
const MEMORY_CALLS = QUICK ? 200_000 : 2_000_000
const LEAK_CALLS = 200_000
const MEMORY_WARMUP_CALLS = 250_000 // see ffi/memory.mjs
const LEAK_WARMUP_CALLS = 50_000 // the reference's leak needs no settled JIT to show
const BASE = 5000

// From the issue: core ≤ 4,000 ns where the C loop took ~190 ns and the
// hand-made ffi-rs fast path ~3,750 ns.
const ISSUE = { coreNs: 4000, cLoopNs: 190, ffiRsFastNs: 3750 }
const MAX_VS_C_LOOP = ISSUE.coreNs / ISSUE.cLoopNs
const MAX_VS_FFI_RS_FAST = ISSUE.coreNs / ISSUE.ffiRsFastNs
const MAX_GROWTH_BYTES_PER_CALL = 1

if (!support().supported) skip('ffi', support().reason)
const MACHINE = machine() // the load average before this bench's own load

const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1')
await once(server, 'listening')
const socket = net.connect(server.address().port, '127.0.0.1')
await once(socket, 'connect')

const all = await makeVariants(socket)
const active = all.filter((v) => !v.skipped)
for (const v of all) if (v.skipped) console.log(`skip ${v.name}: ${v.skipped}`)

// A bench that silently times a no-op is worthless: each variant must leave
// a distinctive value on the socket, read back with getsockopt.
function expectValue(name, want) {
  const got = getUserTimeout(socket)
  if (got !== want) throw new Error(`${name}: the socket holds ${got} ms after the run, expected ${want}`)
}
active.forEach((v, k) => {
  if (v.reads) {
    v.run(1)
    return
  }
  const distinctive = 7001 + k * 2
  v.run(1, distinctive)
  expectValue(v.name, distinctive)
})

const callsOf = (v) => (v.floor ? C_CALLS : CALLS)
for (const v of active) v.run(v.floor ? WARMUP_CALLS * 10 : WARMUP_CALLS, BASE)

console.log(`${ROUNDS} rounds × ${fmt(CALLS)} calls per variant (C loop ${fmt(C_CALLS)}), order rotating per round`)
const cpuSamples = Object.fromEntries(active.map((v) => [v.name, []]))
const samples = await alternate(
  ROUNDS,
  Object.fromEntries(
    active.map((v) => [
      v.name,
      () => {
        const calls = callsOf(v)
        const { ns, cpuNs } = v.run(calls, BASE)
        if (!v.reads) expectValue(v.name, BASE + ((calls - 1) & 1))
        cpuSamples[v.name].push(cpuNs)
        return ns
      },
    ]),
  ),
  (name, ns, r) =>
    console.log(
      `  round ${r + 1} ${name.padEnd(12)} ${fmt(ns).padStart(7)} ns  (CPU ${fmt(cpuSamples[name].at(-1))} ns)`,
    ),
)
socket.destroy()
server.close()

const has = (name) => samples[name] !== undefined
const variants = Object.fromEntries(
  all.map((v) => {
    if (v.skipped) return [v.name, { what: v.what, skipped: v.skipped }]
    return [
      v.name,
      {
        what: v.what,
        calls: callsOf(v),
        samples: samples[v.name],
        ns: summarize(samples[v.name]),
        cpuSamples: cpuSamples[v.name],
        cpuNs: summarize(cpuSamples[v.name]),
        vsCLoop: has('c-loop') ? ratios(samples[v.name], samples['c-loop']) : null,
      },
    ]
  }),
)
const coreVsFast = has('core') && has('ffi-rs-fast') ? ratios(samples.core, samples['ffi-rs-fast']) : null

// Memory, each kind in its own process so that the leak reference cannot
// show up in the core's figures.
const METRICS = ['rss', 'heapUsed', 'external', 'arrayBuffers']
function memoryRun(kind, calls, warmup = MEMORY_WARMUP_CALLS) {
  const script = fileURLToPath(new URL('./ffi/memory.mjs', import.meta.url))
  const out = execFileSync(process.execPath, ['--expose-gc', script, kind, String(warmup), String(calls)], {
    encoding: 'utf8',
  })
  const run = JSON.parse(out.trim().split('\n').pop())
  const { samples } = run
  const perCall = (from, to) => Object.fromEntries(METRICS.map((k) => [k, (to[k] - from[k]) / (to.after - from.after)]))
  const parts = samples.slice(1).map((to, i) => perCall(samples[i], to))
  const halfway = samples[samples.length >> 1]
  return {
    ...run,
    // As asked in the issue: what accumulated over the second half, well
    // after warm-up (JIT, pools, lazily made state).
    halfwayToEndPerCall: perCall(halfway, samples.at(-1)),
    // What the target is judged on: the median over the parts. A leak grows
    // in every part; a one-off step (RSS moves in whole 2 MiB malloc heaps,
    // heapUsed swings by ±180 KB between samples whatever the call count)
    // lands in one part or cancels out, and would otherwise read as a leak
    // of a few B/call over 100,000 calls.
    medianPartPerCall: Object.fromEntries(METRICS.map((k) => [k, summarize(parts.map((p) => p[k])).median])),
    rssGrewInParts: parts.filter((p) => p.rss > 0).length,
    parts: parts.length,
  }
}
console.log(
  `memory: ${fmt(MEMORY_CALLS)} core calls after ${fmt(MEMORY_WARMUP_CALLS)} ` +
    `uncounted, ${fmt(LEAK_CALLS)} leaking ffi-rs calls (reference) after ${fmt(LEAK_WARMUP_CALLS)}`,
)
const memory = {
  core: memoryRun('core', MEMORY_CALLS),
  leakReference: memoryRun('leak', LEAK_CALLS, LEAK_WARMUP_CALLS),
}
const worstGrowth = (m) => Math.max(m.medianPartPerCall.rss, m.medianPartPerCall.heapUsed, m.medianPartPerCall.external)
memory.core.worstGrowthPerCall = worstGrowth(memory.core)
memory.leakReference.worstGrowthPerCall = worstGrowth(memory.leakReference)

const median = (name) => variants[name]?.ns?.median ?? null
const coreMedian = median('core')
const coreVsCLoop = variants.core?.vsCLoop ?? null
const targets = [
  {
    what: 'core setUserTimeout, ns per call (median over rounds)',
    target: `≤ ${fmt(ISSUE.coreNs)} ns`,
    measured: coreMedian === null ? null : `${fmt(coreMedian)} ns`,
    met: coreMedian === null ? null : coreMedian <= ISSUE.coreNs,
  },
  {
    what:
      `core vs the C loop, median of per-round ratios (${fmt(ISSUE.coreNs)} ` +
      `ns scaled by the issue's ${ISSUE.cLoopNs} ns C loop)`,
    target: `≤ ${fmt(MAX_VS_C_LOOP, 2)}× c-loop`,
    measured:
      coreVsCLoop === null
        ? null
        : `${fmt(coreVsCLoop.median, 2)}× (rounds ${fmt(coreVsCLoop.min, 2)}–${fmt(coreVsCLoop.max, 2)})`,
    met: coreVsCLoop === null ? null : coreVsCLoop.median <= MAX_VS_C_LOOP,
  },
  {
    what: 'core vs ffi-rs-fast, median of per-round ratios (the core’s own overhead)',
    target:
      `≤ ${fmt(MAX_VS_FFI_RS_FAST, 2)}× ffi-rs-fast ` + `(${fmt(ISSUE.coreNs)}/${fmt(ISSUE.ffiRsFastNs)} in the issue)`,
    measured:
      coreVsFast === null
        ? null
        : `${fmt(coreVsFast.median, 2)}× (rounds ${fmt(coreVsFast.min, 2)}–${fmt(coreVsFast.max, 2)})`,
    met: coreVsFast === null ? null : coreVsFast.median <= MAX_VS_FFI_RS_FAST,
  },
  {
    what:
      `memory growth over ${fmt(MEMORY_CALLS)} core calls after ${fmt(MEMORY_WARMUP_CALLS)} warm-up calls, ` +
      `bytes per call: median over ${memory.core.parts} equal parts, worst of rss, heapUsed, external`,
    target: `< ${MAX_GROWTH_BYTES_PER_CALL} byte/call`,
    measured: `${fmt(memory.core.worstGrowthPerCall, 3)} B/call`,
    met: memory.core.worstGrowthPerCall < MAX_GROWTH_BYTES_PER_CALL,
  },
]

// ---- output ----
const ratioText = (s, digits = 1) =>
  s ? `${fmt(s.median, digits)}× (${fmt(s.min, digits)}–${fmt(s.max, digits)})` : '–'
const rows = all.map((v) => {
  const r = variants[v.name]
  if (r.skipped) return [v.name, r.what, `skipped: ${r.skipped}`, '–', '–']
  return [v.name, r.what, fmtSummary(r.ns), ratioText(r.vsCLoop), fmt(r.cpuNs.median)]
})
const memRow = (label, m) => [
  label,
  `${fmt(m.calls)} (+${fmt(m.warmup)} warm-up)`,
  ...METRICS.map((k) => `${fmt(m.medianPartPerCall[k], 2)} (${fmt(m.halfwayToEndPerCall[k], 2)})`),
  `${m.rssGrewInParts}/${m.parts}`,
  fmt((m.samples.at(-1).rss - m.start.rss) / 1024 / 1024, 1),
]
const memRows = [
  memRow('core setUserTimeout', memory.core),
  memRow('ffi-rs createPointer per call, never freed (leak reference)', memory.leakReference),
]

function textTable(header, body) {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => String(row[i]).length)))
  const line = (row) => row.map((c, i) => String(c).padEnd(widths[i])).join('  ')
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')
}
const mdTable = (header, body) =>
  [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => ' --- |').join('')}`,
    ...body.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n')

const HEAD = [
  'variant',
  'what it is',
  'ns per call median (min–max)',
  '× C loop (median, min–max per round)',
  'CPU ns per call (median)',
]
const MEM_HEAD = [
  'calls of',
  'calls',
  ...METRICS.map((k) => `${k} B/call`),
  'parts where rss grew',
  'rss growth incl. warm-up, MiB',
]
const MEM_NOTE =
  `B/call: median over ${memory.core.parts} equal parts of the counted ` +
  `calls (in brackets: halfway to end), after uncounted warm-up calls`
const m = MACHINE
const overhead = coreVsFast
  ? `core / ffi-rs-fast per round: ${ratioText(coreVsFast, 2)} — the core's own cost on top of the ffi-rs call`
  : 'core / ffi-rs-fast: not measured'

console.log()
console.log(textTable(HEAD, rows))
console.log(overhead)
console.log()
console.log(textTable(MEM_HEAD, memRows))
console.log(`(${MEM_NOTE}; each sample after global.gc())`)
console.log()
for (const t of targets) {
  const measured = typeof t.measured === 'number' ? fmt(t.measured, t.measured < 100 ? 2 : 0) : '–'
  console.log(`${t.met === null ? 'n/a ' : t.met ? 'met ' : 'MISS'}  ${t.what}: ${measured} (target ${t.target})`)
}

const markdown = [
  commandBlock(
    `node bench/ffi.mjs            # ${QUICK ? 'this run: --quick' : 'this run'}; ` +
      `\`pnpm bench\` runs it with the others`,
  ),
  `${ROUNDS} rounds × ${fmt(CALLS)} calls per variant (C loop: ${fmt(C_CALLS)}), ` +
    `order rotating per round, on one connected loopback socket; ` +
    `values alternate ${BASE}/${BASE + 1} so every call is a real setsockopt. ${m.cpu}, ${m.nproc} CPUs, ` +
    `Linux ${m.kernel}, Node ${m.node}, load average ${m.loadavgAtStart[0]} at ` +
    `start (wall time well above CPU time means other processes had the CPUs).`,
  '',
  mdTable(
    HEAD,
    rows.map(([name, ...rest]) => [`\`${name}\``, ...rest]),
  ),
  '',
  overhead.replace('core / ffi-rs-fast', '`core` / `ffi-rs-fast`') + '.',
  '',
  `Memory (\`node --expose-gc\`, one process per row; \`global.gc()\` and a turn of the event loop, ` +
    `for N-API finalizers, before each sample). ${MEM_NOTE}; a leak grows in every part:`,
  '',
  mdTable(MEM_HEAD, memRows),
].join('\n')

writeResult('ffi', {
  machine: MACHINE,
  config: {
    rounds: ROUNDS,
    calls: CALLS,
    cLoopCalls: C_CALLS,
    warmupCalls: WARMUP_CALLS,
    memoryCalls: MEMORY_CALLS,
    memoryWarmupCalls: MEMORY_WARMUP_CALLS,
    leakCalls: LEAK_CALLS,
    leakWarmupCalls: LEAK_WARMUP_CALLS,
    values: [BASE, BASE + 1],
    issue: ISSUE,
  },
  variants,
  coreVsFfiRsFast: coreVsFast,
  memory,
  targets,
  markdown,
})
