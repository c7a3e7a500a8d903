import type { Socket } from 'node:net'
import { channels, publishError, type Peer } from './diagnostics.js'
import { IPPROTO_TCP, loadNative, setsockopt, TCP_USER_TIMEOUT } from './native.js'
import { shared, type Scope, type SocketLease } from './shared.js'
import { SocketOptionError } from './errors.js'

/** Who decides a socket's bound. */
export const enum Owner {
  /** Opened outside any scope (boot: DB pools, warmed HTTP pools): only the global default touches it. */
  Boot = 1,
  /** Opened inside a scope: its exchanges rebind it. */
  Scope = 2,
  /** Pinned by `setUserTimeout`: implicit binds leave it alone, a reconnect gets the same value. */
  Explicit = 3,
  /** Connected to an exempt host: left alone until it connects again. */
  Exempt = 4,
  /** Accepted by a hardened server: holds the server's bound. */
  Server = 5,
  /** Not TCP (a unix socket, a named pipe): never touched, not even by a later exchange. */
  NotTcp = 6,
  /** Connected before the core was imported, so it is not known who opened it: never touched. */
  Foreign = 7,
  /**
   * Carries an HTTP/2 session whose streams decide its bound (multiplexed.ts): the
   * largest bound of the scoped streams in flight.
   */
  Multiplexed = 8,
}

/**
 * What `want` may hold besides a bound in ms: SYSTEM_DEFAULT (0, what the
 * kernel does without the option: no bound) is a value to set; LEAVE_ALONE
 * is no value at all, the fd keeps whatever it holds. On a new fd the two
 * agree (it holds 0), and leaving it alone costs nothing.
 */
export const SYSTEM_DEFAULT = 0
export const LEAVE_ALONE = undefined
/** A bound in ms, SYSTEM_DEFAULT, or LEAVE_ALONE. */
export type Want = number | typeof LEAVE_ALONE

/** Per-socket memory, so that re-applying the value a socket holds costs no syscall. */
export class SocketState {
  owner: Owner
  /** The value `handle`'s fd holds; any other handle (a new fd) holds 0, the system default. */
  have = 0
  handle: object | null = null
  /** The value to hold once the fd exists. */
  want: Want
  /** Exchanges carried since the socket last connected. */
  exchanges = 0
  /** The request that opened it, which puts it back when it ends. */
  lease: SocketLease | undefined = undefined
  /** The scope whose connect or exchange chose `want` last; null: unscoped work. */
  setBy: Scope | null = null
  /** Connections decided on this Socket object (connect() again after 'close' is a new one). */
  connects = 1
  /** The peer, taken when a bound is first set (gone by 'close', when a timeout is reported). */
  remoteAddress: string | undefined = undefined
  remotePort: number | undefined = undefined
  /** Accepted by a server (hardenServer), not opened by this process. */
  inbound = false
  watchingConnect = false
  watchingClose = false
  /** Multiplexed: the bounds of the scoped streams in flight (multiplexed.ts). */
  claims: Set<StreamClaim> | undefined = undefined

  constructor(owner: Owner, want: Want) {
    this.owner = owner
    this.want = want
  }

  /** A new connection on the same Socket object (it gets a new handle, so a new fd): decided anew. */
  renew(owner: Owner, want: Want): this {
    this.owner = owner
    this.want = want
    this.exchanges = 0
    this.lease = undefined
    this.setBy = null
    this.connects++
    this.remoteAddress = this.remotePort = undefined
    // The previous connection's 'close' listener has fired: watch the new one.
    this.watchingClose = false
    return this
  }
}

/**
 * A scoped stream in flight on a multiplexed connection: it holds the connection at `scope.ms` or
 * more until it closes or its request ends.
 */
export interface StreamClaim {
  readonly scope: Scope & { readonly ms: number }
}

/**
 * The value a multiplexed connection holds: the largest bound of the scoped
 * streams in flight whose request has not ended (no request's stream is cut
 * before its own budget by another's, and a client's header, which only
 * shortens its own budget, never shortens the connection for the others);
 * with none, the global default, or 0. Set only when it changes (sync).
 */
export function settleMultiplexed(socket: Socket, state: SocketState): void {
  if (state.owner !== Owner.Multiplexed) return
  let max: number | undefined
  for (const claim of state.claims ?? []) {
    if (claim.scope.end?.closed === true) state.claims!.delete(claim)
    else if (max === undefined || claim.scope.ms > max) max = claim.scope.ms
  }
  state.want = max ?? shared.globalMs ?? SYSTEM_DEFAULT
  // A connection already closed holds nothing any more: nothing to set, no error to count.
  if (!socket.destroyed) sync(socket, state)
}

const kState = Symbol.for('tcp-user-timeout.socket')
/** On a socket a TLS socket was layered on: that TLS socket (hooks/tls.ts). */
export const kLayered = Symbol.for('tcp-user-timeout.layered')
type Tracked = Socket & { [kState]?: SocketState; _handle?: { fd?: number } | null }

function handleOf(socket: Socket): object | null {
  return (socket as Tracked)._handle ?? null
}

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
 * Makes the socket hold `state.want`: now if its fd exists, else as soon as
 * a connection attempt creates it. Never throws: a failure is counted and
 * published.
 */
export function sync(socket: Socket, state: SocketState): void {
  const want = state.want
  if (want === LEAVE_ALONE) return
  // Each later attempt (autoSelectFamily's next address) is a new fd.
  if (socket.connecting) watchConnect(socket, state)
  const handle = handleOf(socket)
  if (want === (handle === state.handle ? state.have : 0)) return
  const fd = fdOf(socket)
  if (fd < 0) {
    if (!socket.connecting && socket.destroyed) fail(socket, state, EBADF, want, 'the socket was already closed')
    return
  }
  const native = loadNative().native
  if (native === null) return
  const errno = setsockopt(native, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, want)
  if (errno !== 0) fail(socket, state, errno, want)
  else recordBound(socket, state, want)
}

const EBADF = 9

function fail(socket: Socket, state: SocketState, errno: number, ms: number, why?: string): void {
  shared.counters.errors++
  const detail = `implicit bind of ${ms} ms${why ? `: ${why}` : ''}`
  publishError(socket, new SocketOptionError('setsockopt', 'TCP_USER_TIMEOUT', errno, detail), peerOf(socket, state))
}

/**
 * The peer for a message: the one kept in the state (the address being
 * dialled, before getpeername knows it; still there once the socket has
 * closed), else the socket's own.
 */
function peerOf(socket: Socket, state: SocketState): Peer {
  return {
    remoteAddress: state.remoteAddress ?? socket.remoteAddress,
    remotePort: state.remotePort ?? socket.remotePort,
  }
}

/** Bookkeeping after the socket was set to `ms`: memory, counters, peer, timeout watch, channel. */
export function recordBound(socket: Socket, state: SocketState, ms: number): void {
  state.have = state.want = ms
  state.handle = handleOf(socket)
  if (ms > 0) {
    shared.counters.bound++
    if (state.remoteAddress === undefined) {
      state.remoteAddress = socket.remoteAddress
      state.remotePort = socket.remotePort
    }
    if (!state.watchingClose) {
      state.watchingClose = true
      socket.once('close', countTimeout)
    }
  }
  if (channels.bind.hasSubscribers) {
    channels.bind.publish({ socket, ms, direction: state.inbound ? 'inbound' : 'outbound', ...peerOf(socket, state) })
  }
}

/**
 * Linux honours TCP_USER_TIMEOUT in SYN-SENT: set right after the SYN, it
 * bounds the handshake too (a black-holed host fails with ETIMEDOUT at about
 * the bound instead of after ~130 s of SYN retries). Node (20.12+) emits
 * 'connectionAttempt' just before each attempt's connect(2), on a new
 * handle each time (every address autoSelectFamily tries); a microtask runs
 * right after it, when the attempt's fd exists. The listener stays for the
 * socket's life: a reconnect uses it again.
 */
function watchConnect(socket: Socket, state: SocketState): void {
  if (state.watchingConnect) return
  state.watchingConnect = true
  socket.on('connectionAttempt', onAttempt)
}

function onAttempt(this: Socket, address: unknown, port: unknown): void {
  const state = stateOf(this)
  if (state === undefined) return
  // The peer being dialled: getpeername has nothing to say before the handshake.
  if (typeof address === 'string' && typeof port === 'number') {
    state.remoteAddress = address
    state.remotePort = port
  }
  queueMicrotask(() => {
    if (fdOf(this) >= 0) sync(this, state)
  })
}

// An extra 'close' listener changes nothing for the application (an 'error'
// listener would: it would swallow errors that should crash or be handled).
// The stream keeps the error it was destroyed with in `errored`.
function countTimeout(this: Socket): void {
  const state = stateOf(this)
  if (state === undefined || state.have === 0) return
  // A socket that TLS was layered on (a TLS server's accepted socket, grpc-js's) closes
  // without the error: its TLS socket has it.
  const error: NodeJS.ErrnoException | null | undefined =
    this.errored ?? (this as Socket & { [kLayered]?: Socket })[kLayered]?.errored
  if (error?.code !== 'ETIMEDOUT') return
  shared.counters.timedOut++
  const inbound = state.inbound
  if (inbound) shared.counters.reaped++
  if (channels.timeout.hasSubscribers) {
    channels.timeout.publish({
      socket: this,
      ms: state.have,
      direction: inbound ? 'inbound' : 'outbound',
      remoteAddress: state.remoteAddress,
      remotePort: state.remotePort,
    })
  }
}
