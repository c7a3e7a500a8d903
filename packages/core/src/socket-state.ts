import type { Socket } from 'node:net'
import { channels, publishError } from './diagnostics.js'
import { IPPROTO_TCP, loadNative, TCP_USER_TIMEOUT } from './native.js'
import { shared } from './shared.js'
import { SocketOptionError } from './errors.js'

/** Who decides a socket's bound. */
export const enum Owner {
  /** Opened outside any scope (boot: DB pools, warmed HTTP pools): only the global default touches it. */
  Boot = 1,
  /** Opened inside a scope: its exchanges rebind it. */
  Scope = 2,
  /** Set explicitly, hardened, or to an exempt host: implicit binds leave it alone. */
  Pinned = 3,
}

/** Per-socket memory, so that re-applying the value a socket holds costs no syscall. */
export class SocketState {
  owner: Owner
  /** The value the socket holds; a new socket holds 0 (the system default). */
  have = 0
  /** The value to hold once the fd exists; undefined: leave as is. */
  want: number | undefined
  exchanges = 0
  inbound = false
  waitingForConnect = false
  watchingClose = false

  constructor(owner: Owner, want: number | undefined) {
    this.owner = owner
    this.want = want
  }
}

const kState = Symbol.for('tcp-user-timeout.socket')
type Tracked = Socket & { [kState]?: SocketState; _handle?: { fd?: number } | null }

export function stateOf(socket: Socket): SocketState | undefined {
  return (socket as Tracked)[kState]
}

export function attachState(socket: Socket, state: SocketState): SocketState {
  ;(socket as Tracked)[kState] = state
  return state
}

/** The socket's fd, or -1 while it has none (connecting, closed, or not a fd-backed handle). */
export function fdOf(socket: Socket): number {
  const fd = (socket as Tracked)._handle?.fd
  return typeof fd === 'number' ? fd : -1
}

/**
 * Makes the socket hold `state.want`, now if its fd exists, else at
 * 'connect'. Never throws: a failure is counted and published.
 */
export function sync(socket: Socket, state: SocketState): void {
  const want = state.want
  if (want === undefined || want === state.have) return
  const fd = fdOf(socket)
  if (fd < 0) {
    if (socket.connecting) {
      if (!state.waitingForConnect) {
        state.waitingForConnect = true
        socket.prependOnceListener('connect', syncOnConnect)
      }
    } else if (socket.destroyed) {
      fail(socket, EBADF, want, 'the socket was already closed')
    }
    return
  }
  const native = loadNative().native
  if (native === null) return
  shared.counters.setsockoptCalls++
  const errno = native.setInt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, want)
  if (errno !== 0) fail(socket, errno, want)
  else recordBound(socket, state, want)
}

const EBADF = 9

function fail(socket: Socket, errno: number, ms: number, why?: string): void {
  shared.counters.errors++
  const detail = `implicit bind of ${ms} ms${why ? `: ${why}` : ''}`
  publishError(socket, new SocketOptionError('setsockopt', 'TCP_USER_TIMEOUT', errno, detail))
}

/** Bookkeeping after the socket was set to `ms`: memory, counters, timeout watch, channel. */
export function recordBound(socket: Socket, state: SocketState, ms: number): void {
  state.have = state.want = ms
  if (ms > 0) {
    shared.counters.bound++
    if (!state.watchingClose) {
      state.watchingClose = true
      socket.once('close', countTimeout)
    }
  }
  if (channels.bind.hasSubscribers) {
    channels.bind.publish({ socket, ms, direction: state.inbound ? 'inbound' : 'outbound' })
  }
}

function syncOnConnect(this: Socket): void {
  const state = stateOf(this)
  if (state === undefined) return
  state.waitingForConnect = false
  sync(this, state)
}

// An extra 'close' listener changes nothing for the application (an 'error'
// listener would: it would swallow errors that should crash or be handled).
// The stream keeps the error it was destroyed with in `errored`.
function countTimeout(this: Socket): void {
  const state = stateOf(this)
  if (state === undefined || state.have === 0) return
  if ((this.errored as NodeJS.ErrnoException | null)?.code !== 'ETIMEDOUT') return
  shared.counters.timedOut++
  if (state.inbound) shared.counters.reaped++
  if (channels.timeout.hasSubscribers) {
    channels.timeout.publish({ socket: this, ms: state.have, direction: state.inbound ? 'inbound' : 'outbound' })
  }
}
