import { createRequire } from 'node:module'

export const IPPROTO_TCP = 6
export const SOL_SOCKET = 1
export const SO_KEEPALIVE = 9
export const TCP_KEEPIDLE = 4
export const TCP_KEEPINTVL = 5
export const TCP_KEEPCNT = 6
export const TCP_USER_TIMEOUT = 18

/**
 * Integer socket options through libc. `setInt` returns 0 or a positive
 * errno; `getInt` returns the value (always >= 0 for the options used here)
 * or a negative errno. Callers validate every argument first: ffi-rs aborts
 * the process on a wrong type and silently truncates out-of-range numbers.
 */
export interface Native {
  setInt(fd: number, level: number, name: number, value: number): number
  getInt(fd: number, level: number, name: number): number
}

export interface Support {
  supported: boolean
  reason?: string
}

type FfiRs = typeof import('ffi-rs')

interface Loaded {
  native: Native | null
  support: Support
}

// ffi-rs's library table has no lock: open libc once per process, shared by
// the ESM and CommonJS builds (see shared.ts for why there can be two).
const key = Symbol.for('tcp-user-timeout.native')
const holder = globalThis as typeof globalThis & { [key]?: Loaded }

/** Loads the binding on first use; never throws. */
export function loadNative(): Loaded {
  return (holder[key] ??= tryLoad())
}

function tryLoad(): Loaded {
  if (process.platform !== 'linux') {
    return unsupported(`TCP_USER_TIMEOUT is a Linux socket option; this is ${process.platform}, where the library is a no-op`)
  }
  let ffi: FfiRs
  try {
    ffi = createRequire(import.meta.url)('ffi-rs') as FfiRs
  } catch (error) {
    return unsupported(`the ffi-rs native binding could not be loaded (${(error as Error).message}); the library is a no-op`)
  }
  try {
    return { native: bind(ffi), support: { supported: true } }
  } catch (error) {
    return unsupported(`libc could not be opened through ffi-rs (${(error as Error).message}); the library is a no-op`)
  }
}

function unsupported(reason: string): Loaded {
  return { native: null, support: { supported: false, reason } }
}

function bind(ffi: FfiRs): Native {
  const { DataType } = ffi
  const library = 'tcp-user-timeout:libc'
  ffi.open({ library, path: '' })

  // The fast path of ffi-rs: one native int allocated once and written in
  // place through an external Buffer, one params object reused for every
  // call, and errno asked for only on failure (ffi-rs reports whatever errno
  // holds, which is stale after a successful call).
  const [pointer] = ffi.createPointer({ paramsType: [DataType.I32], paramsValue: [0] })
  if (pointer === undefined) throw new Error('createPointer returned nothing')
  const value = ffi.createExternalBuffer(pointer, 4)
  const setArgs: unknown[] = [0, 0, 0, pointer, 4]
  const setParams = {
    library,
    funcName: 'setsockopt',
    retType: DataType.I32,
    paramsType: [DataType.I32, DataType.I32, DataType.I32, DataType.External, DataType.I32],
    paramsValue: setArgs,
  }

  // getsockopt writes through its pointers: Buffers passed as U8Array are
  // written in place (an I32Array would be copied and never written back).
  const out = Buffer.alloc(4)
  const outLen = Buffer.alloc(4)
  const getArgs: unknown[] = [0, 0, 0, out, outLen]
  const getParams = {
    library,
    funcName: 'getsockopt',
    retType: DataType.I32,
    paramsType: [DataType.I32, DataType.I32, DataType.I32, DataType.U8Array, DataType.U8Array],
    paramsValue: getArgs,
  }

  function errnoOf(params: typeof setParams | typeof getParams): number {
    const result = ffi.load({ ...params, errno: true }) as unknown as { value: number; errnoCode: number }
    return result.value === -1 ? result.errnoCode || 5 /* EIO: failed without an errno */ : 0
  }

  return {
    setInt(fd, level, name, v) {
      value.writeInt32LE(v, 0)
      setArgs[0] = fd
      setArgs[1] = level
      setArgs[2] = name
      if (ffi.load(setParams) === 0) return 0
      return errnoOf(setParams)
    },
    getInt(fd, level, name) {
      outLen.writeUInt32LE(4, 0)
      getArgs[0] = fd
      getArgs[1] = level
      getArgs[2] = name
      if (ffi.load(getParams) === 0) return out.readInt32LE(0)
      return -errnoOf(getParams)
    },
  }
}
