// Every bench writes one JSON file: results/<name>.json for a full run,
// results/<name>.quick.json for the CI smoke (git-ignored). report.mjs turns
// the full ones into the tables of BENCHMARKS.md.
import os from 'node:os'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const BENCH_DIR = dirname(dirname(fileURLToPath(import.meta.url)))
export const QUICK = process.argv.includes('--quick')

export function machine() {
  return {
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    kernel: os.release(),
    node: process.version,
    loadavgAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }
}

export function resultPath(name, quick = QUICK) {
  return join(BENCH_DIR, 'results', `${name}${quick ? '.quick' : ''}.json`)
}

/**
 * Writes the result of bench `name`. `targets` is a list of
 * { what, target, measured, met } (met: true, false, 'unresolved' (within the scatter), or null when not
 * measured here), so the report and the runner can tell what was missed.
 */
export function writeResult(name, data) {
  const path = resultPath(name)
  const result = {
    bench: name,
    mode: QUICK ? 'quick' : 'full',
    command: benchCommand(name),
    date: new Date().toISOString(),
    machine: machine(),
    ...data,
  }
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`)
  console.log(`wrote ${path}`)
  return result
}

/** The command line that reran bench `name` on the `node` of PATH. */
export function benchCommand(name) {
  return `node bench/${name}.mjs${QUICK ? ' --quick' : ''}`
}

/** The start of a result's markdown: `command` in a sh block, then a blank line. */
export function commandBlock(command) {
  return `\`\`\`sh\n${command}\n\`\`\`\n`
}

/** Prints the targets, one a line: met, MISS, or – (not measured here). */
export function printTargets(targets) {
  for (const t of targets)
    console.log(
      `${t.met === true ? 'met ' : t.met === false ? 'MISS' : '  – '}  ${t.what}: ${t.measured} (target ${t.target})`,
    )
}

/** Prints a bench's skip reason in the form CI greps for, and exits 0. */
export function skip(name, why) {
  console.log(`SKIP ${name} bench: ${why}`)
  process.exit(0)
}
