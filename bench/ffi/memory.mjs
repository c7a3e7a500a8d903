// Child process (run with --expose-gc): memory before, along (halfway
// included) and after CALLS setsockopt calls of one kind, following WARMUP
// calls that are not counted; each sample is taken after a full GC and the
// finalizers it queues. Prints one JSON line.
//   node --expose-gc memory.mjs KIND WARMUP CALLS
// Kinds:
//   core  setUserTimeout(socket, ms) from the core (the thing under test);
//   leak  ffi-rs with a createPointer per call and no freePointer, the leak
//         a binding that passes the option by pointer must avoid: the
//         reference that shows the method sees one.
import net from 'node:net'
import { once } from 'node:events'
import { getUserTimeout, setUserTimeout } from '@tcp-user-timeout/core'
import { loadFfiRs } from './variants.mjs'

const [kind, warmupArg, callsArg] = process.argv.slice(2)
const WARMUP = Number(warmupArg)
const CALLS = Number(callsArg)
if (typeof global.gc !== 'function') throw new Error('memory.mjs needs node --expose-gc')
if (!Number.isInteger(WARMUP) || WARMUP < 0) throw new Error(`bad warm-up count ${warmupArg}`)
if (!Number.isInteger(CALLS) || CALLS < 2) throw new Error(`bad call count ${callsArg}`)

const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1')
await once(server, 'listening')
const socket = net.connect(server.address().port, '127.0.0.1')
await once(socket, 'connect')
const fd = socket._handle.fd

function leakySetter() {
  const ffi = loadFfiRs()
  const { DataType } = ffi
  ffi.open({ library: 'bench:libc', path: '' })
  return (ms) => {
    const [pointer] = ffi.createPointer({ paramsType: [DataType.I32], paramsValue: [ms] })
    return ffi.load({
      library: 'bench:libc',
      funcName: 'setsockopt',
      retType: DataType.I32,
      paramsType: [DataType.I32, DataType.I32, DataType.I32, DataType.External, DataType.I32],
      paramsValue: [fd, 6, 18, pointer, 4],
    })
  }
}

const set = kind === 'core' ? (ms) => (setUserTimeout(socket, ms) ? 0 : -1) : kind === 'leak' ? leakySetter() : null
if (set === null) throw new Error(`unknown kind ${kind}`)

// The setter must really set: a memory figure for a no-op means nothing.
if (set(7123) !== 0 || getUserTimeout(socket) !== 7123) throw new Error(`${kind}: did not set the value`)

const tick = () => new Promise((resolve) => setImmediate(resolve))

async function sample() {
  // N-API finalizers (ffi-rs's externals) run on the event loop after a GC,
  // not inside it: without the ticks, memory about to be freed counts as a
  // leak (~250 B/call instead of ~37 for the reference below).
  for (let k = 0; k < 3; k++) {
    global.gc()
    await tick()
  }
  const m = process.memoryUsage()
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers }
}

// In slices with a turn of the event loop between them, as in a server:
// one long synchronous loop piles up every call's pending N-API finalizers,
// and the tens of MB they free at the next sample refill the malloc pool
// that a leak then grows into without moving RSS (the reference read 0 B/call).
const SLICE = 10_000
async function calls(from, to) {
  for (let at = from; at < to; at += SLICE) {
    const until = Math.min(at + SLICE, to)
    for (let i = at; i < until; i++) {
      if (set(5000 + (i & 1)) !== 0) throw new Error(`${kind}: setsockopt failed at call ${i}`)
    }
    await tick()
  }
}

// The heap moves by a few hundred KB, once, over the first ~200,000 calls
// (JIT tiering), then stays within ±25 KB: the warm-up keeps that step out
// of the per-call figures. The measured calls are cut into SAMPLES equal
// parts, sampled after each (the middle one is halfway), so that a one-off
// step (a new 2 MiB malloc heap, a re-optimisation) can be told from growth
// that recurs in every part, which is what a leak does.
const SAMPLES = 8
const start = await sample()
await calls(0, WARMUP)
const last = WARMUP + CALLS
const t0 = process.hrtime.bigint()
const samples = [{ after: 0, ...(await sample()) }]
for (let k = 1; k <= SAMPLES; k++) {
  const from = WARMUP + Math.round(((k - 1) * CALLS) / SAMPLES)
  const to = WARMUP + Math.round((k * CALLS) / SAMPLES)
  await calls(from, to)
  samples.push({ after: to - WARMUP, ...(await sample()) })
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
if (getUserTimeout(socket) !== 5000 + ((last - 1) & 1)) throw new Error(`${kind}: wrong value after the run`)

socket.destroy()
server.close()
console.log(JSON.stringify({ kind, warmup: WARMUP, calls: CALLS, seconds, start, samples }))
