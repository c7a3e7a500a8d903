import type { Socket } from 'node:net'
import { shared, type Scope, type ScopeEnd, type SocketLease } from './shared.js'
import { Owner, settleMultiplexed, stateOf, sync, SYSTEM_DEFAULT, type SocketState } from './socket-state.js'

/**
 * The sockets a request (or a job) opened, put back when it ends: their
 * bound never outlives the request. A lazily connecting pool (pg, mysql2,
 * ioredis, an HTTP/2 session) thus never keeps one request's bound, and a
 * client's deadline header never shapes a connection that outlives it.
 * Created at the first socket a request opens: a request that opens none
 * pays nothing.
 */
class Lease implements SocketLease {
  readonly sockets: Socket[] = []
  constructor(readonly end: ScopeEnd) {}
}

// Keyed by the response (or the job's end): one lease per request, shared by
// the scopes a route's override adds.
const leases = shared.leases

/**
 * A request's own scope object: the bound of `scope`, ending with `end`.
 * One small object per request; a request whose bound is turned off opens
 * nothing to put back and allocates none.
 */
export function untilEnd(scope: Scope, end: ScopeEnd): Scope {
  return scope.ms === undefined ? scope : { ms: scope.ms, exempt: scope.exempt, end }
}

/**
 * Runs `fn` in `scope` until it has returned or thrown, or the promise it
 * returns has settled (a job's life): then the sockets it opened go back to
 * the global default. Returns what `fn` returns.
 */
export function runUntilSettled<R>(scope: Scope, fn: () => R): R {
  const settled = createScopeEnd()
  let result: R
  try {
    result = shared.als.run(untilEnd(scope, settled), fn)
  } catch (error) {
    settled.close()
    throw error
  }
  const then = (result as { then?: unknown } | null | undefined)?.then
  if (typeof then === 'function') {
    // Handlers on a derived promise: the caller still sees (and must handle) a rejection.
    then.call(result, settled.close, settled.close)
  } else {
    settled.close()
  }
  return result
}

/**
 * A ScopeEnd to close by hand (a job settling, a gRPC call ending): `close` may be passed around
 * unbound, and only its first call counts.
 */
export interface ClosableScopeEnd extends ScopeEnd {
  readonly closed: boolean
  readonly close: () => void
}

/** The end of a scope that is not an HTTP response's: closed by calling `close()`. */
export function createScopeEnd(): ClosableScopeEnd {
  return new Ending()
}

class Ending implements ClosableScopeEnd {
  closed = false
  private listeners: (() => void)[] = []
  once(_event: 'close', listener: () => void): void {
    this.listeners.push(listener)
  }
  readonly close = (): void => {
    if (this.closed) return
    this.closed = true
    for (const listener of this.listeners.splice(0)) listener()
  }
}

/**
 * A socket `scope` opened (at connect, or at its first exchange) is returned to the
 * global default when the scope's request ends.
 */
export function lease(socket: Socket, state: SocketState, scope: Scope): void {
  const end = scope.end
  if (end === undefined || end.closed === true) return
  const current = leaseOf(end)
  state.lease = current
  current.sockets.push(socket)
}

/**
 * A multiplexed connection that a request's stream holds: looked at again when the
 * request ends (it may end before its stream).
 */
export function leaseStream(socket: Socket, end: ScopeEnd): void {
  if (end.closed === true) return
  const current = leaseOf(end)
  if (!current.sockets.includes(socket)) current.sockets.push(socket)
}

/** The request's lease, made at its first socket: one 'close' listener per request that opens any. */
function leaseOf(end: ScopeEnd): SocketLease {
  let current = leases.get(end)
  if (current === undefined) {
    const created = new Lease(end)
    leases.set(end, created)
    end.once('close', () => release(created))
    current = created
  }
  return current
}

/**
 * Every socket still open that the lease holds, and whose bound was last set
 * by this request (not by another request's exchange, which keeps its own,
 * nor pinned by setUserTimeout since), goes back to the global default, or 0. A socket closed meanwhile is
 * skipped: nothing thrown, nothing counted.
 */
function release(current: SocketLease): void {
  leases.delete(current.end)
  for (const socket of current.sockets) {
    const state = stateOf(socket)
    if (state === undefined || socket.destroyed) continue
    // Shared by the streams of many requests: its bound is theirs, less this one's.
    if (state.owner === Owner.Multiplexed) {
      settleMultiplexed(socket, state)
      continue
    }
    if (state.lease !== current) continue
    state.lease = undefined
    // Since owned by someone else (setUserTimeout, an exempt host), or set by another request's exchange: left as is.
    if (state.owner !== Owner.Scope || state.setBy?.end !== current.end) continue
    state.setBy = null
    state.want = shared.globalMs ?? SYSTEM_DEFAULT
    sync(socket, state)
  }
  current.sockets.length = 0
}
