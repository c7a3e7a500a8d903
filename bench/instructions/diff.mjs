// Where a variant's instructions go, per unit of work, against another:
// reads four callgrind outputs kept by `instructions.mjs --keep <dir>` (each
// variant at N1 and N2 units) and prints the functions whose self cost per
// unit differs most. A diagnostic; it writes no result.
//
//   node diff.mjs <base.N1.out> <base.N2.out> <variant.N1.out> <variant.N2.out> [rows]
import { execFileSync } from 'node:child_process'

const [baseN1, baseN2, varN1, varN2, rowsArg] = process.argv.slice(2)
if (varN2 === undefined) {
  console.error('usage: node diff.mjs <base.N1.out> <base.N2.out> <variant.N1.out> <variant.N2.out> [rows]')
  process.exit(2)
}
const unitsOf = (file) => Number(/\.(\d+)\.out$/.exec(file)?.[1])

/** Self instructions per function of one callgrind output. */
function selfCost(file) {
  const text = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 256 << 20 })
  const costs = new Map()
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+)\s+\([^)]*\)\s+(.*)$/.exec(line)
    if (m === null || m[2] === 'PROGRAM TOTALS') continue
    costs.set(m[2], (costs.get(m[2]) ?? 0) + Number(m[1].replaceAll(',', '')))
  }
  return costs
}

/** Per unit: (cost at N2 − cost at N1) / (N2 − N1), per function. */
function perUnit(n1File, n2File) {
  const [a, b] = [selfCost(n1File), selfCost(n2File)]
  const units = unitsOf(n2File) - unitsOf(n1File)
  const out = new Map()
  for (const key of new Set([...a.keys(), ...b.keys()])) out.set(key, ((b.get(key) ?? 0) - (a.get(key) ?? 0)) / units)
  return out
}

const base = perUnit(baseN1, baseN2)
const variant = perUnit(varN1, varN2)
const rows = [...new Set([...base.keys(), ...variant.keys()])]
  .map((key) => ({ key, delta: (variant.get(key) ?? 0) - (base.get(key) ?? 0) }))
  .sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta))
const total = rows.reduce((sum, r) => sum + r.delta, 0)
console.log(`per unit: ${Math.round(total).toLocaleString('en-US')} instructions more in the variant`)
for (const r of rows.slice(0, Number(rowsArg ?? 30))) console.log(`${Math.round(r.delta).toLocaleString('en-US').padStart(10)}  ${r.key.slice(0, 150)}`)
