// `pnpm bench` (full: writes results/*.json and the tables of BENCHMARKS.md)
// and `pnpm bench:quick` (the CI smoke: same benches, small sizes, under two
// minutes, results/*.quick.json, BENCHMARKS.md untouched). The benches run
// one after another, each in its own process, so none measures another's load.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { BENCH_DIR, QUICK, resultPath } from './lib/result.mjs'

// [result name, script, node major to run it on (undefined: this one)]
const FULL = [
  ['ffi', 'ffi.mjs'],
  ['connections', 'connections.mjs'],
  ['connections-node24', 'connections.mjs', 24],
  ['precision', 'precision.mjs'],
  [`adapters-node${process.versions.node.split('.')[0]}`, 'adapters.mjs'],
  ['adapters-node24', 'adapters.mjs', 24],
  ['memory', 'memory.mjs'],
  ['lifetime', 'lifetime.mjs'],
  [`instructions-node${process.versions.node.split('.')[0]}`, 'instructions.mjs'],
  ['instructions-node22', 'instructions.mjs', 22],
  ['instructions-node24', 'instructions.mjs', 24],
  ['instructions-node26', 'instructions.mjs', 26],
]
const BENCHES = QUICK ? FULL.filter(([, , major]) => major === undefined) : FULL
const LIMIT_MS = QUICK ? 60_000 : 30 * 60_000

function nodeBinary(major) {
  if (major === undefined || String(major) === process.versions.node.split('.')[0]) return process.execPath
  const script = join(BENCH_DIR, '..', 'scripts', 'node-bin.sh')
  return execFileSync('bash', [script, String(major)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim()
}

function runOne(node, script) {
  return new Promise((resolve) => {
    const args = [join(BENCH_DIR, script), ...(QUICK ? ['--quick'] : [])]
    const child = spawn(node, args, { stdio: 'inherit', cwd: BENCH_DIR })
    const timer = setTimeout(() => {
      console.error(`bench: ${script} ran past ${LIMIT_MS / 1000} s, killing it`)
      child.kill('SIGINT')
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
    }, LIMIT_MS)
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve(code ?? signal)
    })
  })
}

let stopping = false
process.once('SIGINT', () => {
  stopping = true // the child got the same SIGINT from the terminal and tears itself down
})

const started = Date.now()
const outcomes = []
for (const [name, script, major] of BENCHES) {
  if (stopping) break
  const node = nodeBinary(major)
  console.log(`\n=== ${name}: ${script}${major ? ` on node ${major}` : ''} ===`)
  const before = Date.now()
  const exit = await runOne(node, script)
  const path = resultPath(name)
  const fresh = existsSync(path) && statSync(path).mtimeMs >= before
  outcomes.push({
    name,
    exit,
    result: fresh ? JSON.parse(readFileSync(path, 'utf8')) : undefined,
    seconds: (Date.now() - before) / 1000,
  })
}

console.log(`\n=== ${QUICK ? 'quick' : 'full'} run: ${((Date.now() - started) / 1000).toFixed(0)} s ===`)
let failed = false
for (const { name, exit, result, seconds } of outcomes) {
  if (exit !== 0) failed = true
  // In CI (root, every tool installed) a bench that wrote no result skipped: that hides a broken bench.
  if (exit === 0 && result === undefined && process.env.CI) failed = true
  const status = exit !== 0 ? `FAILED (${exit})` : result === undefined ? 'skipped (no result)' : 'ok'
  console.log(`${name}: ${status}, ${seconds.toFixed(0)} s`)
  for (const t of result?.targets ?? []) {
    const mark =
      t.met === true ? 'met' : t.met === false ? 'MISSED' : t.met === 'unresolved' ? 'unresolved' : 'not measured'
    console.log(`  ${mark}: ${t.what}: ${t.measured} (target ${t.target})`)
  }
}

if (!QUICK && !failed && !stopping) {
  execFileSync(process.execPath, [join(BENCH_DIR, 'report.mjs')], { stdio: 'inherit' })
}
// A missed target is a finding for BENCHMARKS.md, not a crash; a bench that failed is.
process.exit(failed || stopping ? 1 : 0)
