// Where the middleware's time goes: one server per framework and variant,
// loaded by autocannon (own process); after a warm-up, V8's CPU profiler (the
// one --cpu-prof runs, started through node:inspector so that the profile
// covers only the measured run, not startup and JIT warm-up) samples it; the
// profile's samples attributed to the nearest JavaScript frame outside
// Node's internals (node:*), so that AsyncLocalStorage.run or Reflect.apply
// called by the middleware count as the middleware's. One exception: a
// req.emit that ours wraps (to run request events in the scope) is Node's own
// work that would happen anyway, so node:events emit under ours' wrapper
// counts as "req.emit (wrapped)", not as ours.
//
//   node bench/http/profile.mjs [--seconds 5] [--keep] [framework ...]
//
// Prints, per framework and variant: busy CPU µs per request, the
// middleware's µs per request (ours: packages/*/dist; als: the bench's
// alsMiddleware), GC's share, and ours' top frames. Diagnostic only: it
// writes no result file (profiles stay in a temp dir with --keep). The
// profiler samples on wall time: its own cost, and CPU contention on a
// shared machine, inflate every µs figure; the shares are steadier.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { runMain, spawnChild, teardownOnSignals } from './children.mjs'
import { FRAMEWORKS } from '@tcp-user-timeout/test-utils/apps'
import { VARIANTS } from './variants.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seconds: { type: 'string', default: '5' }, keep: { type: 'boolean', default: false } },
})
const SECONDS = Number(values.seconds)
const WARMUP_SECONDS = 3
const CONNECTIONS = 10
const INTERVAL_US = 250
const frameworks = positionals.length > 0 ? positionals : FRAMEWORKS

teardownOnSignals()

function category(frame, below) {
  const { url, functionName } = frame.callFrame
  // The app fixture's wiring and the route it calls (checked first: its path may hold '@tcp-user-timeout').
  if (url.includes('/test-utils/apps/') || url.endsWith('/bench/http/variants.mjs'))
    return functionName === 'alsMiddleware' ? 'als' : 'route'
  if (/\/packages\/[^/]+\/dist\//.test(url) || url.includes('@tcp-user-timeout')) {
    return below.some((f) => f.callFrame.functionName === 'emit' && f.callFrame.url === 'node:events')
      ? 'req.emit (wrapped)'
      : 'ours'
  }
  const pkg = url.match(/.*node_modules\/(@[^/]+\/[^/]+|[^/]+)\//)
  if (pkg) return `pkg:${pkg[1].replace(/^\.pnpm\/.*$/, 'pnpm')}`
  return `js:${basename(url)}`
}

function analyse(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n)
  const isUser = (n) => n.callFrame.url !== '' && !n.callFrame.url.startsWith('node:')
  const memo = new Map()
  const attribute = (node) => {
    let cached = memo.get(node.id)
    if (cached) return cached
    const below = []
    let cur = node
    while (cur && !isUser(cur)) {
      below.push(cur)
      cur = parent.get(cur.id)
    }
    const name = node.callFrame.functionName
    cached = cur
      ? { cat: category(cur, below), frame: cur }
      : { cat: name.startsWith('(') ? name : 'node internals', frame: node }
    memo.set(node.id, cached)
    return cached
  }
  const totals = {}
  const oursFrames = {}
  const oursSelf = {}
  let all = 0
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0
    all += dt
    const node = byId.get(id)
    const { cat, frame } = attribute(node)
    totals[cat] = (totals[cat] ?? 0) + dt
    if (cat === 'ours') {
      const key = `${frame.callFrame.functionName || '(anonymous)'} ${frame.callFrame.url.replace(/^.*\/packages\//, '')}:${frame.callFrame.lineNumber + 1}`
      oursFrames[key] = (oursFrames[key] ?? 0) + dt
      // Strict self time: the sample is in ours' own code, not in a builtin it called.
      if (frame === node) oursSelf[key] = (oursSelf[key] ?? 0) + dt
    }
  })
  return { all, totals, oursFrames, oursSelf }
}

async function profileOne(load, framework, variant, dir) {
  const server = spawnChild(join(HERE, 'server.mjs'), [framework, variant])
  try {
    const { port } = await server.next('listening', 15_000)
    const url = `http://127.0.0.1:${port}/`
    await load.ask('run', WARMUP_SECONDS * 1000 + 15_000, { url, connections: CONNECTIONS, duration: WARMUP_SECONDS })
    const path = join(dir, `${framework}-${variant}.cpuprofile`)
    await server.ask('profileStart', 10_000, { intervalUs: INTERVAL_US })
    const run = await load.ask('run', SECONDS * 1000 + 15_000, { url, connections: CONNECTIONS, duration: SECONDS })
    await server.ask('profileStop', 30_000, { path })
    return { run, requests: run.requests, path, ...analyse(JSON.parse(readFileSync(path, 'utf8'))) }
  } finally {
    await server.close()
  }
}

// timeDeltas are in µs.
const us = (total, n) => (total / n).toFixed(2)

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'tut-profile-'))
  const load = spawnChild(join(HERE, 'load.mjs'))
  await load.next('ready', 15_000)
  try {
    for (const framework of frameworks) {
      console.log(
        `\n${framework} (${WARMUP_SECONDS} s warm-up, then ${SECONDS} s profiled ` +
          `at ${INTERVAL_US} µs, ${CONNECTIONS} connections, node ${process.version})`,
      )
      for (const variant of VARIANTS) report(variant, await profileOne(load, framework, variant, dir))
    }
  } finally {
    await load.close()
    if (values.keep) console.log(`\nprofiles kept in ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  }
}

function report(variant, r) {
  const t = r.totals
  const idle = t['(idle)'] ?? 0
  const busy = r.all - idle
  const n = r.requests
  const mw = variant === 'ours' ? (t.ours ?? 0) : variant === 'als' ? (t.als ?? 0) : 0
  const top = Object.entries(t)
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
  console.log(
    `  ${variant.padEnd(4)} ${n} requests profiled, busy ${us(busy, n)} µs/req, ` +
      `middleware ${us(mw, n)} µs/req (${((mw / busy) * 100).toFixed(2)}% of busy), ` +
      `GC ${(((t['(garbage collector)'] ?? 0) / busy) * 100).toFixed(1)}%` +
      (t['req.emit (wrapped)'] ? `, req.emit under ours' wrapper ${us(t['req.emit (wrapped)'], n)} µs/req` : ''),
  )
  console.log(`       by part: ${top.map(([k, v]) => `${k} ${((v / busy) * 100).toFixed(1)}%`).join(', ')}`)
  if (variant === 'ours') {
    for (const [k, v] of Object.entries(r.oursFrames)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)) {
      console.log(`       ${us(v, n).padStart(6)} µs/req (self ${us(r.oursSelf[k] ?? 0, n)})  ${k}`)
    }
  }
}

await runMain(main)
