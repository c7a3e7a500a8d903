// The demo's command line (see ../README.md): parsed and checked once, at import.
import { parseArgs } from 'node:util'

function usage(problem) {
  if (problem) process.stderr.write(`demo: ${problem}\n`)
  process.stderr.write('usage: node demo.mjs [--mode=auto|partition|wedge] [--cap=8] [--seconds=2]\n')
  process.exit(problem ? 2 : 0)
}

let values
try {
  ;({ values } = parseArgs({
    // `pnpm start -- --mode=wedge` passes the `--` through: ignore it.
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      mode: { type: 'string', default: 'auto' },
      cap: { type: 'string', default: '8' },
      seconds: { type: 'string', default: '2' },
      inside: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }))
} catch (err) {
  usage(err.message)
}
if (values.help) usage()
if (!['auto', 'partition', 'wedge'].includes(values.mode))
  usage(`--mode must be auto, partition or wedge, got ${values.mode}`)
const cap = Number(values.cap)
const seconds = Number(values.seconds)
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 60)
  usage(`--seconds must be in (0, 60], got ${values.seconds}`)
if (!Number.isFinite(cap) || cap < seconds + 3 || cap > 120)
  usage(`--cap must be in [seconds + 3, 120], got ${values.cap}`)

/** mode: the one asked for; inside: this is the process the partition parent runs in its namespace. */
export const OPTIONS = Object.freeze({ mode: values.mode, inside: values.inside })
/** Seconds after which the demo cuts a hanging request off. */
export const CAP_S = cap
/** The budget given to tcpUserTimeout({ seconds }). */
export const BUDGET_S = seconds
