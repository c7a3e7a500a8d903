// The ways of making one setsockopt(TCP_USER_TIMEOUT) call from Node, from
// the C floor up to the core's public API. Every variant is
// { name, what, run(calls, base) → { ns, cpuNs } per call } (setting base,
// base+1, base, ... so that every call is a real store), or
// { name, what, skipped }. cpuNs, the process's CPU time per call, tells a
// contended run (wall ≫ CPU) from a slow one.
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { getUserTimeout, setUserTimeout } from '@tcp-user-timeout/core'
import { nsPerCall } from '../lib/stats.mjs'
import { buildAddon, buildCLoop } from './build.mjs'

const IPPROTO_TCP = 6
const TCP_USER_TIMEOUT = 18
const require = createRequire(import.meta.url)

/** ffi-rs as the core resolves it: it is the core's dependency, not the bench's. */
export function loadFfiRs() {
  return createRequire(require.resolve('@tcp-user-timeout/core/package.json'))('ffi-rs')
}

// ffi-rs's library table has no lock; this key is opened once, on the main thread.
let ffiLibrary = null
function ffiRs() {
  let ffi
  try {
    ffi = loadFfiRs()
  } catch (error) {
    return { skipped: `ffi-rs could not be loaded: ${error.message}` }
  }
  if (ffiLibrary === null) {
    ffiLibrary = 'bench:libc'
    ffi.open({ library: ffiLibrary, path: '' })
  }
  return { ffi, library: ffiLibrary }
}

function timed(fn, calls) {
  const cpu = process.cpuUsage()
  const ns = nsPerCall(fn, calls)
  const used = process.cpuUsage(cpu)
  return { ns, cpuNs: ((used.user + used.system) * 1000) / calls }
}

function check(rc, variant) {
  if (rc !== 0) throw new Error(`${variant}: setsockopt returned ${rc}`)
}

function cLoop(socket, fd) {
  const built = buildCLoop()
  if (built.skipped) return built
  // The socket's fd becomes fd 3 of the child: same socket, same kernel path.
  const run = (calls, base) => {
    const out = execFileSync(built.path, ['3', String(calls), String(base)], {
      stdio: ['ignore', 'pipe', 'pipe', fd],
      encoding: 'utf8',
    })
    const [ns, cpuNs] = out.trim().split(' ').map(Number)
    if (!Number.isFinite(ns) || !Number.isFinite(cpuNs)) throw new Error(`c-loop printed ${JSON.stringify(out)}`)
    return { ns, cpuNs }
  }
  return { run, floor: true }
}

function napiAddon(fd) {
  const built = buildAddon()
  if (built.skipped) return built
  const module = { exports: {} }
  process.dlopen(module, built.path)
  const set = module.exports.setUserTimeout
  return { run: (calls, base) => timed((i) => check(set(fd, base + (i & 1)), 'napi-addon'), calls) }
}

async function koffiCall(fd) {
  let koffi
  try {
    koffi = (await import('koffi')).default
  } catch (error) {
    return { skipped: `koffi could not be loaded: ${error.message}` }
  }
  // Measured here: a reused Int32Array passed as `const void *` is the
  // fastest correct form (koffi passes the typed array's memory directly);
  // a Buffer, `const int *` or a koffi.alloc pointer written with encode are
  // all slower.
  let setsockopt
  try {
    setsockopt = koffi.load('libc.so.6').func('int setsockopt(int, int, int, const void *, int)')
  } catch (error) {
    return { skipped: `koffi could not bind setsockopt from libc.so.6: ${error.message}` }
  }
  const value = new Int32Array(1)
  return {
    run: (calls, base) =>
      timed((i) => {
        value[0] = base + (i & 1)
        check(setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, value, 4), 'koffi')
      }, calls),
  }
}

function ffiRsNaive(fd) {
  const { ffi, library, skipped } = ffiRs()
  if (skipped) return { skipped }
  const { DataType } = ffi
  // What the ffi-rs README leads to: a fresh params object per call, the
  // value as an I32Array, errno on.
  const set = (ms) =>
    ffi.load({
      library,
      funcName: 'setsockopt',
      retType: DataType.I32,
      paramsType: [DataType.I32, DataType.I32, DataType.I32, DataType.I32Array, DataType.I32],
      paramsValue: [fd, IPPROTO_TCP, TCP_USER_TIMEOUT, [ms], 4],
      errno: true,
    })
  return {
    run: (calls, base) =>
      timed((i) => {
        const result = set(base + (i & 1))
        if (result.value !== 0) throw new Error(`ffi-rs-naive: setsockopt failed, errno ${result.errnoCode}`)
      }, calls),
  }
}

function ffiRsFast(fd) {
  const { ffi, library, skipped } = ffiRs()
  if (skipped) return { skipped }
  const { DataType } = ffi
  // The core's technique without the core: one native int made once and
  // written in place, one params object reused, errno off.
  const [pointer] = ffi.createPointer({ paramsType: [DataType.I32], paramsValue: [0] })
  const value = ffi.createExternalBuffer(pointer, 4)
  const args = [fd, IPPROTO_TCP, TCP_USER_TIMEOUT, pointer, 4]
  const params = {
    library,
    funcName: 'setsockopt',
    retType: DataType.I32,
    paramsType: [DataType.I32, DataType.I32, DataType.I32, DataType.External, DataType.I32],
    paramsValue: args,
  }
  return {
    run: (calls, base) =>
      timed((i) => {
        value.writeInt32LE(base + (i & 1), 0)
        check(ffi.load(params), 'ffi-rs-fast')
      }, calls),
  }
}

function core(socket) {
  return {
    run: (calls, base) =>
      timed((i) => {
        if (setUserTimeout(socket, base + (i & 1)) !== true) throw new Error('core: setUserTimeout returned false')
      }, calls),
  }
}

function coreGet(socket) {
  return {
    reads: true,
    run: (calls) =>
      timed(() => {
        if (getUserTimeout(socket) === undefined) throw new Error('core-get: getUserTimeout returned undefined')
      }, calls),
  }
}

const WHAT = {
  'c-loop': 'setsockopt in a C loop (cc -O2), on the same socket: the floor',
  'napi-addon': 'minimal N-API addon in C: setUserTimeout(fd, ms)',
  koffi: 'koffi 3, setsockopt bound once, reused Int32Array as const void *',
  'ffi-rs-naive': 'ffi-rs load(), fresh params object, I32Array, errno on',
  'ffi-rs-fast': 'ffi-rs load(), pointer made once, reused params, errno off',
  core: 'setUserTimeout(socket, ms) from @tcp-user-timeout/core',
  'core-get': 'getUserTimeout(socket) from core (a read; informational)',
}

/** All variants, in table order; each is built (or skipped) here. */
export async function makeVariants(socket) {
  const fd = socket._handle.fd
  const made = {
    'c-loop': cLoop(socket, fd),
    'napi-addon': napiAddon(fd),
    koffi: await koffiCall(fd),
    'ffi-rs-naive': ffiRsNaive(fd),
    'ffi-rs-fast': ffiRsFast(fd),
    core: core(socket),
    'core-get': coreGet(socket),
  }
  return Object.entries(made).map(([name, v]) => ({ name, what: WHAT[name], ...v }))
}
