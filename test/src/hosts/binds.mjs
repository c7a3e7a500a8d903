// The child process of the hosts/*.test.ts files, started under the host
// condition a test makes (read-only /tmp, TMPDIR missing or unwritable, the
// permission model, another ffi-rs in the process); also the script of its
// worker threads (workerData.role). It prints one RESULT line: per thread,
// support(), the first use's duration (for information only), the values the
// kernel holds for 10 sockets bound in scopes of distinct seconds
// (../workers/exercise.cjs), stats().errors and the TUT_ warnings it saw.
//
// argv[2] is the mode:
// - binds <n>: the main thread and n workers (ESM and CommonJS builds in turn).
// - terminate: 40 workers, each terminated by this thread at a different
//   moment around its first use of the core (some while inside it), then the
//   main thread and 4 fresh workers bind.
// - other-ffi <keepalive|previous> <other-first|core-first>: in the main thread
//   and 4 workers, another physical copy of ffi-rs (from the scratch dir in
//   env TUT_FFI_COPIES: net-keepalive's own, or ffi-rs 1.3.6) is loaded and
//   used before or after the core; then explicit set/get and scoped binds.
import { mkdtempSync, realpathSync, rmdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { performance } from 'node:perf_hooks'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { connected, exercise } from '../workers/exercise.cjs'

const require = createRequire(import.meta.url)
const SOCKETS = 10
const FRESH_WORKERS = 4
const DOOMED_WORKERS = 40
const DOOMED_AT_ONCE = 8
const WORKER_TIMEOUT_MS = 20_000
/** How the parent picks the moment it terminates a doomed worker (index % 4). */
const STRATEGIES = ['signal', 'message', 'delay', 'bind']

const warnings = []
process.on('warning', (w) => w.code?.startsWith('TUT_') && warnings.push(w.code))

if (isMainThread) await main()
else await worker(workerData)

async function main() {
  const [mode, ...args] = process.argv.slice(2)
  const server = net.createServer((s) => s.on('error', () => {}).resume())
  await new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject))
  const { port } = server.address()
  const result = { mode, args, node: process.version, tmp: probeWritable(tmpdir()), threads: [], failures: [] }
  try {
    if (mode === 'binds') {
      result.threads = await mainAndWorkers({ role: 'binds', port }, Number(args[0]), result.failures)
    } else if (mode === 'terminate') {
      result.doomed = await terminateAround(port, result.failures)
      result.threads = await mainAndWorkers({ role: 'binds', port }, FRESH_WORKERS, result.failures)
    } else if (mode === 'other-ffi') {
      const [copy, order] = args
      if (!['keepalive', 'previous'].includes(copy) || !['other-first', 'core-first'].includes(order))
        throw new Error(`other-ffi <keepalive|previous> <other-first|core-first>, not ${args}`)
      result.threads = await mainAndWorkers({ role: 'other-ffi', port, copy, order }, FRESH_WORKERS, result.failures)
    } else {
      throw new Error(`unknown mode ${mode}`)
    }
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`)
}

/** Whether `dir` can be written (a directory made and removed there): the host condition a test claims to make. */
function probeWritable(dir) {
  try {
    rmdirSync(mkdtempSync(join(dir, 'tut-probe-')))
    return { dir, writable: true }
  } catch (error) {
    return { dir, writable: false, code: error.code }
  }
}

/** The main thread's report and each worker's, the workers started together with the main thread's own use. */
async function mainAndWorkers(data, workers, failures) {
  // The other copy of ffi-rs has no lock of its own, and unpins itself when
  // the last thread that loaded it exits (ffi-rs's own race and exit crash,
  // which crash a process without this library too): the main thread uses
  // it first, so the workers' uses of it only read its table and never drop
  // it. The core's own first uses still race each other's, in every thread.
  const own = data.role === 'other-ffi' ? await work({ ...data, index: 0, build: 'esm' }) : undefined
  const started = Array.from({ length: workers }, (_, i) => {
    const index = i + 1
    return runWorker({ ...data, index, build: index % 2 === 0 ? 'esm' : 'cjs' }).then(
      ({ report, why }) => report ?? fail(failures, `worker ${index}`, why),
    )
  })
  const mine = own ?? (await work({ ...data, index: 0, build: 'esm' }))
  return [mine, ...(await Promise.all(started))].filter(Boolean)
}

function fail(failures, who, why) {
  if (failures.length < 20) failures.push({ who, why })
}

/** Starts a worker on this file; resolves with its report or why there is none. Bounded by WORKER_TIMEOUT_MS. */
function runWorker(data, watch) {
  const worker = new Worker(new URL(import.meta.url), { workerData: data })
  watch?.(worker)
  return new Promise((resolve) => {
    let report
    let why
    const timer = setTimeout(() => {
      why = `no exit within ${WORKER_TIMEOUT_MS} ms`
      void worker.terminate()
    }, WORKER_TIMEOUT_MS)
    worker.on('message', (m) => typeof m === 'object' && (report = m))
    worker.on('error', (error) => (why ??= `error: ${error?.stack ?? error}`))
    worker.once('exit', (code) => {
      clearTimeout(timer)
      resolve({
        code,
        report: why === undefined ? report : undefined,
        why: why ?? (report === undefined ? `exited (code ${code}) without a report` : undefined),
      })
    })
  })
}

/** What a thread does with the core (the main thread calls it directly; a worker with its workerData). */
async function work({ role, port, index, build, copy, order }) {
  const thread = index === 0 ? 'main' : `worker ${index}`
  if (role === 'binds') {
    const core = await loadCore(build)
    return { thread, build, ...firstUse(core), ...(await binds(core, port, index)), warnings }
  }
  // other-ffi: the other copy of ffi-rs and the core, in the order asked for.
  let other
  if (order === 'other-first') other = await useOtherCopy(copy, port)
  const core = await loadCore(build)
  const first = firstUse(core)
  if (order === 'core-first') other = await useOtherCopy(copy, port)
  const explicit = await explicitCalls(core, port, 1_000 * (index + 1) + 7)
  return { thread, build, ...first, other, explicit, ...(await binds(core, port, index)), warnings }
}

async function worker(data) {
  if (data.role === 'doomed') return doomed(data)
  const report = await work(data)
  await new Promise((resolve) => setImmediate(resolve)) // warnings are emitted on the next tick
  parentPort.postMessage(report)
}

function loadCore(build) {
  return build === 'cjs' ? require('@tcp-user-timeout/core') : import('@tcp-user-timeout/core')
}

/** The thread's first use of the core: support() loads the binding. Timed for information only. */
function firstUse(core) {
  const started = performance.now()
  const support = core.support()
  return { support, firstUseMs: Math.round((performance.now() - started) * 10) / 10 }
}

async function binds(core, port, index) {
  const { values } = await exercise(core, { port, index, sockets: SOCKETS })
  return { values, errors: core.stats().errors }
}

/** setUserTimeout/getUserTimeout on a connected socket: what each returned, or the error each threw. */
async function explicitCalls(core, port, ms) {
  const socket = await connect(port)
  try {
    return { ms, set: attempt(() => core.setUserTimeout(socket, ms)), get: attempt(() => core.getUserTimeout(socket)) }
  } finally {
    socket.destroy()
  }
}

/** An unscoped client socket, once connected (exercise.cjs's `connected` bounds the wait). */
async function connect(port) {
  const socket = net.connect(port, '127.0.0.1')
  await connected(socket)
  return socket
}

function attempt(fn) {
  try {
    return { value: fn() ?? null }
  } catch (error) {
    return {
      error: {
        name: error?.name,
        code: error?.code,
        errnoName: error?.errnoName,
        message: String(error?.message).split('\n')[0],
      },
    }
  }
}

/**
 * Loads and uses the other copy of ffi-rs from the scratch dir: net-keepalive
 * setting TCP_KEEPINTVL through its own ffi-rs, or ffi-rs 1.3.6 calling
 * getpid. Reports whether that worked and which .node file it loaded (its
 * path in the scratch dir: proof that it is not the core's binary).
 */
async function useOtherCopy(copy, port) {
  const scratch = realpathSync(process.env.TUT_FFI_COPIES)
  const fromScratch = createRequire(join(scratch, 'index.js'))
  const outcome = {}
  try {
    if (copy === 'keepalive') {
      const keepalive = fromScratch('net-keepalive')
      const socket = await connect(port)
      try {
        socket.setKeepAlive(true, 1_000)
        keepalive.setKeepAliveInterval(socket, 2_000)
        outcome.got = keepalive.getKeepAliveInterval(socket)
        outcome.ok = outcome.got === 2_000
      } finally {
        socket.destroy()
      }
    } else {
      const ffi = fromScratch('ffi-rs-previous')
      ffi.open({ library: 'tut-test:libc', path: '' })
      outcome.got = ffi.load({
        library: 'tut-test:libc',
        funcName: 'getpid',
        retType: ffi.DataType.I32,
        paramsType: [],
        paramsValue: [],
      })
      outcome.ok = outcome.got === process.pid
    }
  } catch (error) {
    outcome.ok = false
    outcome.error = String(error?.message).split('\n')[0]
  }
  const binary = Object.keys(require.cache).find((f) => f.endsWith('.node') && f.startsWith(scratch))
  return { copy, ...outcome, binary: binary === undefined ? null : relative(scratch, binary) }
}

/**
 * DOOMED_WORKERS workers, DOOMED_AT_ONCE at a time, each terminated around
 * its first use of the core, at a moment picked by STRATEGIES[index % 4]:
 * - signal: when the worker, through shared memory, says it is entering
 *   support() (Atomics.waitAsync wakes this thread at once: the terminate
 *   lands while the worker is inside its first use);
 * - message: on receipt of its 'about to use' message, posted just before;
 * - delay: 0..20 ms after it is online (index * 7 % 21 ms);
 * - bind: on receipt of 'about to bind', after its first use, while it binds.
 * A shared Int32 per worker says where it was when it exited: 0 before its
 * first use, 1 inside it, 2 after it.
 */
async function terminateAround(port, failures) {
  const phases = ['before', 'during', 'after']
  const doomed = { workers: DOOMED_WORKERS, exits: {}, phase: { before: 0, during: 0, after: 0 }, byStrategy: {} }
  let next = 0
  const one = async (index) => {
    const strategy = STRATEGIES[index % STRATEGIES.length]
    const flag = new Int32Array(new SharedArrayBuffer(4))
    const { code, why } = await runWorker(
      { role: 'doomed', port, index: 100 + index, build: index % 2 === 0 ? 'esm' : 'cjs', flag: flag.buffer },
      (w) => {
        const terminate = () => void w.terminate()
        if (strategy === 'signal') {
          const waited = Atomics.waitAsync(flag, 0, 0, WORKER_TIMEOUT_MS)
          if (waited.async) waited.value.then(terminate)
          else terminate()
        } else if (strategy === 'delay') {
          w.once('online', () => setTimeout(terminate, (index * 7) % 21))
        } else {
          const trigger = strategy === 'message' ? 'about to use' : 'about to bind'
          w.on('message', (m) => m === trigger && terminate())
        }
      },
    )
    // wakes a waitAsync still pending (the worker never signalled); terminate() then finds it exited
    Atomics.notify(flag, 0)
    const phase = phases[Atomics.load(flag, 0)]
    doomed.phase[phase]++
    const tally = (doomed.byStrategy[strategy] ??= { before: 0, during: 0, after: 0 })
    tally[phase]++
    doomed.exits[code] = (doomed.exits[code] ?? 0) + 1
    // A terminated worker reports nothing: only an error or a timeout is a failure here.
    if (why !== undefined && !why.startsWith('exited')) fail(failures, `doomed worker ${index} (${strategy})`, why)
  }
  await Promise.all(
    Array.from({ length: DOOMED_AT_ONCE }, async () => {
      while (next < DOOMED_WORKERS) await one(next++)
    }),
  )
  return doomed
}

/** A doomed worker: says when it enters and leaves its first use, then binds until it is terminated. */
async function doomed({ port, index, build, flag }) {
  const where = new Int32Array(flag)
  const core = await loadCore(build)
  parentPort.postMessage('about to use')
  Atomics.store(where, 0, 1)
  Atomics.notify(where, 0)
  core.support()
  Atomics.store(where, 0, 2)
  parentPort.postMessage('about to bind')
  await binds(core, port, index)
}
