import { mkdirSync, readFileSync, rmdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** How long a thread waits for another thread's first use of ffi-rs (normally a few ms). */
export const LOCK_TIMEOUT_MS = 5_000

export type Locked<T> = { ok: true; value: T } | { ok: false; reason: string }

/**
 * Runs `fn` while holding a lock shared by every thread of this process.
 *
 * ffi-rs keeps its library table in one unsynchronized static: two threads
 * using it for the first time at once race on it. Threads share no JS memory
 * without message passing, so the lock is something the kernel makes atomic:
 * an exclusive `mkdir` of a name unique to this process (pid and start time,
 * so a directory left by a dead process whose pid was reused never blocks
 * this one), removed right after. Waiters sleep with `Atomics.wait` (a
 * synchronous sleep that is legal on the main thread too) and give up after
 * LOCK_TIMEOUT_MS; a lock that cannot be created at all (read-only tmp) is
 * reported as such. Never throws, never waits longer than the bound.
 */
export function withProcessLock<T>(fn: () => T): Locked<T> {
  const dir = lockPath()
  const deadline = Date.now() + LOCK_TIMEOUT_MS
  for (let pause = 1; ; pause = Math.min(pause * 2, 25)) {
    try {
      mkdirSync(dir)
      break
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'EEXIST') {
        return { ok: false, reason: `the lock that serializes ffi-rs's first use in each thread could not be created at ${dir} (${code ?? String(error)}); set TMPDIR to a writable directory` }
      }
      if (Date.now() >= deadline) {
        return { ok: false, reason: `another thread held the lock that serializes ffi-rs's first use (${dir}) for more than ${LOCK_TIMEOUT_MS} ms (a worker terminated while loading it leaves it behind)` }
      }
      Atomics.wait(sleeper, 0, 0, pause)
    }
  }
  try {
    return { ok: true, value: fn() }
  } finally {
    try {
      rmdirSync(dir)
    } catch {
      // Already gone: nothing to release.
    }
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

function lockPath(): string {
  return join(tmpdir(), `tcp-user-timeout-${process.pid}-${processStartTicks()}.lock`)
}

/** Field 22 of /proc/self/stat: when this process started, in clock ticks since boot (the same in every thread). */
function processStartTicks(): string {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '0'
  } catch {
    return '0'
  }
}
