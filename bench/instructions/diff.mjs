// Where a variant's instructions go, per unit of work, against another:
// reads four callgrind outputs kept by `instructions.mjs --keep <dir>` (each
// variant at N1 and N2 units) and prints the functions whose self cost per
// unit differs most. A diagnostic; it writes no result.
//
// Callgrind knows V8's JIT code only by address, which differs between runs.
// Kept with `--node-flags='--perf-basic-prof'`, a run's .map (V8's perf map)
// names each address, so JavaScript frames compare by function across runs.
//
//   node diff.mjs <base.N1.out> <base.N2.out> <variant.N1.out> <variant.N2.out> [rows]
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'

const [baseN1, baseN2, varN1, varN2, rowsArg] = process.argv.slice(2)
if (varN2 === undefined) {
  console.error('usage: node diff.mjs <base.N1.out> <base.N2.out> <variant.N1.out> <variant.N2.out> [rows]')
  process.exit(2)
}
const unitsOf = (file) => Number(/\.(\d+)\.out$/.exec(file)?.[1])

/** Names JIT addresses from the run's perf map (`start size name`, hex), if it was kept. */
function jitNames(file) {
  const mapFile = file.replace(/\.out$/, '.map')
  if (!existsSync(mapFile)) return () => undefined
  const entries = readFileSync(mapFile, 'utf8')
    .split('\n')
    .flatMap((line) => {
      const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/i.exec(line)
      return m === null ? [] : [{ start: parseInt(m[1], 16), end: parseInt(m[1], 16) + parseInt(m[2], 16), name: m[3] }]
    })
    .sort((x, y) => x.start - y.start)
  return (address) => {
    let lo = 0
    let hi = entries.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      if (entries[mid].end <= address) lo = mid + 1
      else if (entries[mid].start > address) hi = mid - 1
      else return entries[mid].name
    }
    return undefined
  }
}

/** Self instructions per function of one callgrind output. */
function selfCost(file) {
  const text = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  })
  const nameOf = jitNames(file)
  const costs = new Map()
  for (const line of text.split('\n')) {
    const m = /^\s*([\d,]+)\s+\([^)]*\)\s+(.*)$/.exec(line)
    if (m === null || m[2] === 'PROGRAM TOTALS') continue
    const jit = /^\?\?\?:0x([0-9a-f]+) \[\?\?\?\]$/.exec(m[2])
    const key = jit === null ? m[2] : `JS ${nameOf(parseInt(jit[1], 16)) ?? `(unnamed JIT code) ${m[2]}`}`
    costs.set(key, (costs.get(key) ?? 0) + Number(m[1].replaceAll(',', '')))
  }
  return costs
}

/** A function's broad kind, by its name (callgrind's, or V8's for JIT code). */
function kindOf(key) {
  if (
    /v8::internal::(Heap|Scavenger|Scavenge|MarkCompact|MinorMarkSweep|Sweeper|IncrementalMarking|Marking|ConcurrentMarking|Evacuat|MemoryAllocator|PagedSpace|NewSpace|SemiSpace|GCTracer|Young|Mark|Compact|WeakObjects|RememberedSet|SlotSet|LargeObjectSpace|MemoryChunk|PageMetadata|MutablePageMetadata|FreeList|ObjectVisitor|BodyDescriptor|HeapObject::SizeFromMap|ArrayBufferSweeper|EphemeronHashTable|LocalHeap|IterateAndScavenge|.*Visitor)/.test(
      key,
    )
  )
    return 'garbage collection'
  if (
    /v8::internal::(compiler|maglev|baseline|interpreter::|Compiler|Parser|Scanner|Deoptimizer|TieringManager|OptimizingCompile|Zone|AstNode|Bytecode|Ast)/.test(
      key,
    )
  )
    return 'compiling, deoptimizing'
  if (key.startsWith('JS '))
    return /\/packages\/[a-z-]+\/dist\//.test(key)
      ? 'JavaScript: this library'
      : 'JavaScript: the framework, Node, the app'
  if (/Builtins_|v8::internal::Runtime_|v8::internal::/.test(key)) return "V8's builtins and runtime"
  if (/\(unnamed JIT code\)/.test(key)) return 'JIT code (run without --perf-basic-prof)'
  return 'native: Node, libc, ffi-rs'
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
const count = (n) => Math.round(n).toLocaleString('en-US').padStart(10)
console.log(`per unit: ${Math.round(total).toLocaleString('en-US')} instructions more in the variant`)
// Where a difference comes from, in broad strokes first: the garbage
// collector's work (allocation and promotion), the JIT's, JavaScript of
// this library, other JavaScript, and V8's builtins and runtime.
const byKind = new Map()
for (const r of rows) byKind.set(kindOf(r.key), (byKind.get(kindOf(r.key)) ?? 0) + r.delta)
for (const [kind, delta] of [...byKind].sort((x, y) => Math.abs(y[1]) - Math.abs(x[1])))
  console.log(`${count(delta)}  ${kind}`)
console.log('by function:')
for (const r of rows.slice(0, Number(rowsArg ?? 30))) console.log(`${count(r.delta)}  ${r.key.slice(0, 150)}`)
