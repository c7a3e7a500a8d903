// Fills the generated parts of BENCHMARKS.md from the results of the last
// full run (results/<name>.json): the part between `<!-- bench:NAME -->` and
// `<!-- /bench:NAME -->` becomes that bench's tables, and `bench:targets`
// the list of targets. The prose around them is written by hand, after
// reading the figures.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { BENCH_DIR } from './lib/result.mjs'

const FILE = join(BENCH_DIR, '..', 'BENCHMARKS.md')
const MARKER = /<!-- bench:([\w-]+) -->\n[\s\S]*?<!-- \/bench:\1 -->/g

function load(name) {
  const path = join(BENCH_DIR, 'results', `${name}.json`)
  return existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : undefined
}

function provenance(r) {
  const m = r.machine
  return (
    `_Measured ${r.date.slice(0, 16).replace('T', ' ')} UTC by \`${r.command}\`: ${m.nproc} CPUs (${m.cpu}), ` +
    `Linux ${m.kernel}, Node ${m.node}, load average ${m.loadavgAtStart.join(' / ')} at the start._`
  )
}

function targetsTable(names) {
  const lines = ['| bench | what | target | measured | |', '|---|---|---|---|---|']
  for (const name of names) {
    for (const t of load(name)?.targets ?? []) {
      const mark =
        t.met === true
          ? 'met'
          : t.met === false
            ? '**missed**'
            : t.met === 'unresolved'
              ? 'unresolved (the measured column says why)'
              : t.met === 'said'
                ? 'said, not judged'
                : 'not measured'
      lines.push(`| ${name} | ${t.what} | ${t.target} | ${t.measured} | ${mark} |`)
    }
  }
  return lines.join('\n')
}

const text = readFileSync(FILE, 'utf8')
const names = [...text.matchAll(MARKER)].map((m) => m[1]).filter((n) => n !== 'targets')
const missing = []
const out = text.replace(MARKER, (whole, name) => {
  const body =
    name === 'targets'
      ? targetsTable(names)
      : (() => {
          const r = load(name)
          if (r === undefined) {
            missing.push(name)
            return undefined
          }
          return `${r.markdown.trim()}\n\n${provenance(r)}`
        })()
  return body === undefined ? whole : `<!-- bench:${name} -->\n${body}\n<!-- /bench:${name} -->`
})
writeFileSync(FILE, out)
console.log(
  `report: updated ${FILE}${missing.length ? `; no full result for ${missing.join(', ')} (left as it was)` : ''}`,
)
