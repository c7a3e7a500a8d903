import { loadBinding, type Loaded, type Native } from './native-load.js'
import { withProcessLock } from './native-lock.js'
import { warningCodes } from './errors.js'
import { shared } from './shared.js'
import { warn } from './warn.js'

export const IPPROTO_TCP = 6
export const SOL_SOCKET = 1
export const SO_KEEPALIVE = 9
export const TCP_KEEPIDLE = 4
export const TCP_KEEPINTVL = 5
export const TCP_KEEPCNT = 6
export const TCP_USER_TIMEOUT = 18

export type { Native, Support } from './native-load.js'

/**
 * setsockopt through the binding, counted in `stats().setsockoptCalls`: the one place the
 * library sets an option. Returns 0 or the errno.
 */
export function setsockopt(native: Native, fd: number, level: number, name: number, value: number): number {
  shared.counters.setsockoptCalls++
  return native.setInt(fd, level, name, value)
}

/**
 * Loads the binding on first use in this thread (not at import: importing
 * stays cheap), once however many times the package is evaluated
 * (shared.ts); never throws. Each thread's first use is serialized with
 * every other thread's by a process-wide lock: ffi-rs's library table is
 * one unsynchronized static. On Linux, a binding that cannot be loaded is
 * reported once in this thread as a process warning
 * (TUT_WARN_NATIVE_UNAVAILABLE) naming the reason and the fix; elsewhere
 * the library is a documented, silent no-op.
 */
export function loadNative(): Loaded {
  return (shared.native ??= tryLoad())
}

function tryLoad(): Loaded {
  if (process.platform !== 'linux') {
    return unsupported(
      `TCP_USER_TIMEOUT is a Linux socket option; this is ${process.platform}, where the library is a no-op`,
    )
  }
  let reason: string
  try {
    const locked = withProcessLock(loadBinding)
    if (locked.ok && locked.value.native !== null) return { native: locked.value.native, support: { supported: true } }
    reason = locked.ok ? locked.value.reason! : locked.reason
  } catch (error) {
    reason = `the native binding could not be loaded (${(error as Error)?.message ?? String(error)})`
  }
  const loaded = unsupported(`${reason}; socket options are not set (the library is a no-op)`)
  warn(warningCodes.NATIVE_UNAVAILABLE, `@tcp-user-timeout/core: ${loaded.support.reason!}`)
  return loaded
}

function unsupported(reason: string): Loaded {
  return { native: null, support: { supported: false, reason } }
}
