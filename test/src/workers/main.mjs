// The child process of workers.test.ts (a SIGSEGV kills this process, not the
// test runner): WORKERS worker lifecycles, CONCURRENCY at a time, half of them
// importing the core's ESM build and half requiring its CommonJS build, each
// binding and reading back 20 real sockets (exercise.cjs). The main thread
// imports and uses the core before the workers start, while they run, or
// never (argv[2]: before | during | never). Prints one RESULT line.
import net from 'node:net'
import { Worker } from 'node:worker_threads'
import { exercise } from './exercise.cjs'

const mode = process.argv[2]
const WORKERS = Number(process.env.WORKERS ?? 200)
const CONCURRENCY = 8
const WORKER_TIMEOUT_MS = 20_000
// Before the test's own kill: what is still running, so that a stalled run says where it stalled.
const DEADLINE_MS = Number(process.env.DEADLINE_MS ?? 40_000)
if (!['before', 'during', 'never'].includes(mode)) throw new Error(`mode must be before, during or never, not ${mode}`)

const started = Date.now()
const server = net.createServer((socket) => socket.on('error', () => {}).resume())
await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject))
const { port } = server.address()

const result = {
  mode,
  node: process.version,
  workers: WORKERS,
  completed: 0,
  builds: { esm: 0, cjs: 0 },
  values: 0,
  wrong: [],
  unsupported: [],
  failures: [],
  main: null,
}
// Each running worker's last step: created, online, reported (then its exit removes it).
const inFlight = new Map()
let mainState = mode === 'never' ? 'unused' : 'not started'
let stage = 'lifecycles'

setTimeout(() => {
  const stalled = { afterMs: DEADLINE_MS, stage, inFlight: Object.fromEntries(inFlight), mainState }
  process.stdout.write(`RESULT ${JSON.stringify({ ...result, stalled })}\n`, () => process.exit(1))
}, DEADLINE_MS).unref()

async function useCoreOnMain() {
  mainState = 'importing'
  const core = await import('@tcp-user-timeout/core')
  mainState = 'exercising'
  const { support, values } = await exercise(core, { port, index: WORKERS })
  result.main = { support, values: values.length, wrong: values.filter((v) => v.got !== v.want) }
  mainState = 'done'
}

/** One worker lifecycle: start, its report, its exit (code 0 expected), bounded by WORKER_TIMEOUT_MS. */
function lifecycle(index) {
  const file = index % 2 === 0 ? './worker.mjs' : './worker.cjs'
  const worker = new Worker(new URL(file, import.meta.url), { workerData: { port, index } })
  inFlight.set(index, 'created')
  worker.once('online', () => inFlight.set(index, 'online'))
  if (mode === 'during' && index === 0) worker.once('online', () => (mainUse = useCoreOnMain()))
  return new Promise((resolve) => {
    let report
    const timer = setTimeout(() => {
      fail(index, `no exit within ${WORKER_TIMEOUT_MS} ms`)
      void worker.terminate()
    }, WORKER_TIMEOUT_MS)
    worker.on('message', (message) => {
      report = message
      inFlight.set(index, 'reported')
    })
    worker.on('error', (error) => fail(index, `error: ${error?.stack ?? error}`))
    worker.once('exit', (code) => {
      clearTimeout(timer)
      inFlight.delete(index)
      if (code !== 0) fail(index, `exit code ${code}`)
      else if (report === undefined) fail(index, 'exited without a report')
      else record(index, report)
      resolve()
    })
  })
}

function record(index, { build, support, values }) {
  result.completed++
  result.builds[build]++
  result.values += values.length
  if (support.supported !== true) result.unsupported.push({ index, support })
  for (const v of values) if (v.got !== v.want && result.wrong.length < 20) result.wrong.push({ index, build, ...v })
}

function fail(index, why) {
  if (result.failures.length < 20) result.failures.push({ index, why })
}

let mainUse
if (mode === 'before') await useCoreOnMain()
let next = 0
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < WORKERS) await lifecycle(next++)
  }),
)
stage = 'main thread'
await mainUse
stage = 'closing the server'
await new Promise((resolve) => server.close(resolve))
result.ms = Date.now() - started
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
