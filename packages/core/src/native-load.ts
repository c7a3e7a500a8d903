import Module, { createRequire } from 'node:module'

type FfiRs = typeof import('ffi-rs')

/**
 * Integer socket options through libc. `setInt` returns 0 or a positive
 * errno; `getInt` returns the value (always >= 0 for the options used here)
 * or a negative errno. Neither throws. Callers validate every argument first:
 * ffi-rs aborts the process on a wrong type and silently truncates
 * out-of-range numbers.
 */
export interface Native {
  setInt(fd: number, level: number, name: number, value: number): number
  getInt(fd: number, level: number, name: number): number
}

export type Binding = { native: Native; reason?: undefined } | { native: null; reason: string }

export interface Support {
  supported: boolean
  reason?: string
}

/** A thread's binding and what support() says of it (one per thread, kept in shared.ts). */
export interface Loaded {
  native: Native | null
  support: Support
}

// The real `require` where there is one: in the CommonJS build, and in a
// CommonJS bundle of either build, where `import.meta` is an empty object.
// The ESM build (and an ESM bundle of it) has `import.meta.url`. The test is on
// `import.meta.url`, not on `typeof require`: esbuild rewrites `require` in an
// ESM bundle into a stub that exists and throws ("Dynamic require of ffi-rs
// is not supported"). The call is not a literal `require('ffi-rs')`, so no
// bundler tries to inline the native addon: ffi-rs always comes from
// node_modules at run time.
const nodeRequire: NodeJS.Require = typeof import.meta.url === 'string' ? createRequire(import.meta.url) : require

const LIBRARY = 'tcp-user-timeout:libc'
/** glibc's (and musl's) dlopen flags; Node's os.constants.dlopen has no RTLD_NODELETE. */
const RTLD_NOW = 2
const RTLD_NOLOAD = 4
const RTLD_NODELETE = 0x1000
/** The errno reported when ffi-rs itself throws instead of making the call. */
const EIO = 5

/**
 * Loads ffi-rs, opens libc, pins ffi-rs's native binary and makes the first
 * setsockopt/getsockopt calls. Run once per thread under the process lock:
 * each of these steps writes ffi-rs's shared library table the first time;
 * every later call only reads it. Never throws.
 */
export function loadBinding(): Binding {
  let ffi: FfiRs
  try {
    ffi = nodeRequire('ffi-rs') as FfiRs
  } catch (error) {
    return { native: null, reason: explainRequireFailure(error) }
  }
  try {
    ffi.open({ library: LIBRARY, path: '' })
  } catch (error) {
    return { native: null, reason: `ffi-rs could not open libc (${message(error)})` }
  }
  const binary = binaryOf(ffi)
  const pinned = pin(ffi, binary?.file)
  if (pinned !== undefined) return { native: null, reason: pinned }
  try {
    const native = bind(ffi, binary?.load ?? ffi.load)
    // The first use of each function name inserts it into ffi-rs's table: do it
    // here, under the lock, on fd -1 (EBADF before any option is looked at: no
    // side effect, and the errno path is taken too).
    native.setInt(-1, 0, 0, 0)
    native.getInt(-1, 0, 0)
    return { native }
  } catch (error) {
    return { native: null, reason: `ffi-rs could not prepare the setsockopt/getsockopt calls (${message(error)})` }
  }
}

/**
 * Keeps ffi-rs's native binary mapped for the life of the process; returns
 * why it could not, or undefined.
 *
 * Its module init registers a pthread key whose destructor lives in the
 * binary, and gives the loading thread a value for it. When a worker that
 * loaded it exits, Node dlcloses the addon; if no other thread holds it,
 * glibc unmaps it, and the thread's exit then calls that destructor: SIGSEGV
 * of the whole process. One more reference, taken through libc's own dlopen
 * with RTLD_NOLOAD | RTLD_NODELETE on the already loaded file, is never
 * dropped: the binary stays. (`process.dlopen` with these flags works too,
 * but Node then runs the addon's init a second time.) On musl dlclose
 * unmaps nothing and the flags are accepted: harmless.
 */
function pin(ffi: FfiRs, file: string | undefined): string | undefined {
  if (file === undefined)
    return (
      `ffi-rs's native binary was not found among the loaded modules, ` +
      `so it cannot be kept loaded (a worker thread exiting could crash the process)`
    )
  try {
    const handle = ffi.load({
      library: LIBRARY,
      funcName: 'dlopen',
      retType: ffi.DataType.External,
      paramsType: [ffi.DataType.String, ffi.DataType.I32],
      paramsValue: [file, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE],
    })
    return ffi.isNullPointer(handle)
      ? `dlopen(${file}, RTLD_NOLOAD | RTLD_NODELETE) returned NULL, so ffi-rs's binary cannot be kept loaded`
      : undefined
  } catch (error) {
    return `ffi-rs's binary could not be kept loaded (${message(error)})`
  }
}

type Load = FfiRs['load']
type CachedModule = { exports?: unknown } | undefined

/**
 * The native binary that this package's own ffi-rs loaded: its file (to
 * pin) and its own `load`, which ffi-rs's JavaScript `load` wraps (the
 * wrapper copies `paramsType` on every call and defaults
 * `freeResultMemory`; bind() does both once). Another package may have
 * loaded another copy of ffi-rs (net-keepalive ships its own), whose binary
 * has a library table of its own that never saw ours opened: calling it
 * would fail every call, and pinning it would not keep ours loaded. So the
 * binary is the module whose exports ffi-rs re-exports as its own `open`
 * (ffi-rs's index.js does so unwrapped), looked up in the require cache of
 * the loader that loaded ffi-rs (a test runner's own, under Jest) and in
 * Node's. Undefined if it is in neither.
 */
function binaryOf(ffi: FfiRs): { file: string; load: Load } | undefined {
  const caches = [nodeRequire.cache, (Module as unknown as { _cache?: NodeJS.Dict<CachedModule> })._cache]
  for (const cache of caches) {
    if (cache === null || typeof cache !== 'object') continue
    for (const file of Object.keys(cache)) {
      if (!file.endsWith('.node')) continue
      const exports = cache[file]?.exports as { open?: unknown; load?: unknown } | undefined
      if (exports?.open === ffi.open && typeof exports.load === 'function') return { file, load: exports.load as Load }
    }
  }
  return undefined
}

function bind(ffi: FfiRs, load: Load): Native {
  const { DataType } = ffi

  // The fast path of ffi-rs: one native int allocated once and written in
  // place through an external Buffer, one params object reused for every
  // call and given to the binary's own load (binaryOf), and errno asked for
  // only on failure (ffi-rs reports whatever errno holds, which is stale
  // after a successful call). Most of a call's ~50,000 instructions are
  // still ffi-rs's own (BENCHMARKS.md): it mallocs and reads every property
  // of the params on each call.
  const [pointer] = ffi.createPointer({ paramsType: [DataType.I32], paramsValue: [0] })
  if (pointer === undefined) throw new Error('createPointer returned nothing')
  const value = ffi.createExternalBuffer(pointer, 4)
  const setArgs: unknown[] = [0, 0, 0, pointer, 4]
  const setParams = {
    library: LIBRARY,
    funcName: 'setsockopt',
    retType: DataType.I32,
    paramsType: [DataType.I32, DataType.I32, DataType.I32, DataType.External, DataType.I32],
    paramsValue: setArgs,
    freeResultMemory: false,
  }

  // getsockopt writes through its pointers: Buffers passed as U8Array are
  // written in place (an I32Array would be copied and never written back).
  const out = Buffer.alloc(4)
  const outLen = Buffer.alloc(4)
  const getArgs: unknown[] = [0, 0, 0, out, outLen]
  const getParams = {
    library: LIBRARY,
    funcName: 'getsockopt',
    retType: DataType.I32,
    paramsType: [
      DataType.I32,
      DataType.I32,
      DataType.I32,
      ffi.arrayConstructor({ type: DataType.U8Array, length: 4 }),
      ffi.arrayConstructor({ type: DataType.U8Array, length: 4 }),
    ],
    paramsValue: getArgs,
    freeResultMemory: false,
  }

  function errnoOf(params: typeof setParams | typeof getParams): number {
    const result = load({ ...params, errno: true }) as unknown as {
      value: number
      errnoCode: number
    }
    return result.value === -1 ? result.errnoCode || EIO /* failed without an errno */ : 0
  }

  // ffi-rs throws (LibraryNotFound, FunctionNotFound) instead of calling when
  // its table lost the entry: that is a failed call, reported as errno EIO
  // like any other, never an exception into the application.
  return {
    setInt(fd, level, name, v) {
      value.writeInt32LE(v, 0)
      setArgs[0] = fd
      setArgs[1] = level
      setArgs[2] = name
      try {
        if (load(setParams as Parameters<Load>[0]) === 0) return 0
        return errnoOf(setParams)
      } catch {
        return EIO
      }
    },
    getInt(fd, level, name) {
      outLen.writeUInt32LE(4, 0)
      getArgs[0] = fd
      getArgs[1] = level
      getArgs[2] = name
      try {
        if (load(getParams as Parameters<Load>[0]) === 0) return out.readInt32LE(0)
        return -errnoOf(getParams)
      } catch {
        return -EIO
      }
    },
  }
}

/** Why `require('ffi-rs')` failed, and what fixes it. */
function explainRequireFailure(error: unknown): string {
  const text = message(error)
  if ((error as { code?: unknown } | null)?.code === 'ERR_DLOPEN_DISABLED') {
    return (
      `Node's permission model does not allow native addons, and ffi-rs, ` +
      `which sets the socket options, is one (${text}): run node with --allow-addons`
    )
  }
  const missing = /Cannot find module '([^']+)'/.exec(text)?.[1]
  if (missing === 'ffi-rs') {
    return (
      `ffi-rs, the native binding this library sets socket options through, ` +
      `is not installed or not resolvable from ${nodeRequire.resolve.paths('ffi-rs')?.[0] ?? 'here'}; ` +
      `install it (it is a dependency of @tcp-user-timeout/core), and if you bundle your app, ` +
      `mark ffi-rs external and ship node_modules/ffi-rs with the bundle`
    )
  }
  if (missing?.startsWith('@yuuang/ffi-rs-')) {
    return (
      `ffi-rs is installed without its native binary ${missing} (an optional dependency, ` +
      `left out by \`npm install --omit=optional\`, \`--no-optional\` or a lockfile made on another platform); ` +
      `reinstall without --omit=optional on this platform (${process.platform}-${process.arch})`
    )
  }
  return `ffi-rs's native binding could not be loaded (${text}); this platform or libc may be unsupported by ffi-rs`
}

function message(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0]! : String(error)
}
