import { mkdirSync, readFileSync, rmdirSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * How long a thread waits for another thread's first use of ffi-rs. A first
 * use takes milliseconds (seconds under valgrind), and a holder always lets
 * go, even one terminated mid-use: waiting this long means something else
 * went wrong.
 */
export const LOCK_TIMEOUT_MS = 10_000

export type Locked<T> = { ok: true; value: T } | { ok: false; reason: string }

interface Held {
  release(): void
}

/**
 * Runs `fn` while holding a lock shared by every thread of this process.
 *
 * ffi-rs keeps its library table in one unsynchronized static, which each
 * thread's first use writes: two first uses at once race on it. Threads
 * share no memory without message passing, so the lock is something the
 * kernel makes atomic: binding an abstract Unix socket (a name in the
 * kernel, no file: a read-only filesystem, an unwritable TMPDIR or Node's
 * permission model without fs write do not matter), of a name unique to
 * this process. The kernel frees the name when its fd closes, and Node
 * closes a thread's handles when the thread ends, however it ends: a
 * worker terminated while it held the lock leaves nothing behind. Where
 * Node denies it (the permission model of Node 25+ without --allow-net,
 * where no socket can be opened at all) an exclusive mkdir under
 * os.tmpdir() is the fallback. Waiters sleep with `Atomics.wait` (legal
 * on the main thread too). Never throws, never waits longer than the bound.
 */
export function withProcessLock<T>(fn: () => T): Locked<T> {
  const held = acquire()
  if ('reason' in held) return { ok: false, reason: held.reason }
  try {
    return { ok: true, value: fn() }
  } finally {
    held.release()
  }
}

type Attempt = Held | 'busy' | { reason: string }

function acquire(): Held | { reason: string } {
  const name = lockName()
  let take: () => Attempt = () => bindName(name)
  let fallback = false
  const deadline = Date.now() + LOCK_TIMEOUT_MS
  for (let pause = 1; ; pause = Math.min(pause * 2, 25)) {
    let attempt = take()
    if (typeof attempt === 'object' && 'reason' in attempt && !fallback) {
      // Sockets denied: every thread of this process is denied alike, so all take the fallback.
      const denied = attempt.reason
      take = () => makeDir(name, denied)
      fallback = true
      attempt = take()
    }
    if (attempt !== 'busy') return attempt
    if (Date.now() >= deadline) {
      return {
        reason: `another thread held the lock that serializes ffi-rs's first use for more than ${LOCK_TIMEOUT_MS} ms`,
      }
    }
    Atomics.wait(sleeper, 0, 0, pause)
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4))

/**
 * Binds the abstract name; 'busy' when it is taken. A failed bind is
 * reported on the next tick, as an 'error' event that must have a
 * listener. exclusive: a cluster worker binds it itself, not through the
 * primary.
 */
function bindName(name: string): Attempt {
  const server = net.createServer()
  server.on('error', ignore)
  try {
    server.listen({ path: `\0${name}`, exclusive: true })
  } catch (error) {
    return { reason: deniedSockets(error) }
  }
  if (!server.listening) return 'busy'
  // Never keeps the process alive; closed (the name freed) synchronously by release().
  server.unref()
  return { release: () => server.close() }
}

/** Why the socket was refused: Node's permission model, which on Node 25+ refuses every socket without --allow-net. */
function deniedSockets(error: unknown): string {
  return (
    `Node denied the abstract socket that serializes ffi-rs's first use (${codeOf(error)}; ` +
    `under --permission, Node 25+ opens no socket at all without --allow-net)`
  )
}

/** The fallback where sockets are denied: an exclusive mkdir; `denied` says why the socket could not be had. */
function makeDir(name: string, denied: string): Attempt {
  const dir = join(tmpdir(), `${name.replaceAll('/', '-')}.lock`)
  try {
    mkdirSync(dir)
  } catch (error) {
    const code = codeOf(error)
    if (code === 'EEXIST') return 'busy'
    return {
      reason:
        `${denied}, and the fallback lock directory ${dir} could not be made (${code}): ` +
        `allow network access (--allow-net) or writes to os.tmpdir()`,
    }
  }
  return {
    release: () => {
      try {
        rmdirSync(dir)
      } catch {
        // Already gone: nothing to release.
      }
    },
  }
}

function ignore(): void {}

function codeOf(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? String(error)
}

/**
 * Unique to this process: its pid and start time, so that another process whose pid is the same (another pid
 * namespace, a reused pid) never shares it.
 */
function lockName(): string {
  return `tcp-user-timeout/ffi-rs/${process.pid}/${processStartTicks()}`
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
