import type { Socket } from 'node:net'
import { lease } from './lease.js'
import { boundOf, shared, type Scope } from './shared.js'
import {
  attachState,
  LEAVE_ALONE,
  Owner,
  SocketState,
  stateOf,
  sync,
  SYSTEM_DEFAULT,
  type Want,
} from './socket-state.js'

/** An exchange created outside any scope: unscoped work. */
export const OUTSIDE = null
/** An exchange never seen (created before the hooks were installed): it binds nothing. */
export const UNSEEN = undefined
/** What an exchange captured where it was created: its scope, OUTSIDE or UNSEEN. */
export type Capture = Scope | typeof OUTSIDE | typeof UNSEEN

/** Reads a host name off `source`; called only when a scope has exempt hosts. */
export type HostOf<T> = (source: T) => string | undefined

export function capture(): Scope | typeof OUTSIDE {
  return shared.als.getStore() ?? OUTSIDE
}

/**
 * A client socket's connect() was called; `renewing` when it had been closed
 * (or never had a handle), so the connection gets a new fd holding 0.
 * Decided once per connection (the Ruby gem's rule): inside a scope the
 * socket is bound to it, outside it is a boot socket that only the global
 * default touches. A reconnect is a new connection, decided again, except
 * that an explicit `setUserTimeout` stays pinned.
 */
export function bindOnConnect<T>(socket: Socket, hostOf: HostOf<T>, source: T, renewing: boolean): void {
  const state = stateOf(socket)
  if (state !== undefined) {
    if (!renewing) return
    if (state.owner === Owner.Explicit) {
      sync(socket, state.renew(Owner.Explicit, state.want))
      return
    }
  }
  const scope = shared.als.getStore()
  // A new connection holds 0: with no bound to give, it is left alone (undefined is LEAVE_ALONE).
  if (scope === undefined) decide(socket, state, Owner.Boot, shared.globalMs)
  else if (isExempt(scope, hostOf, source)) decide(socket, state, Owner.Exempt, LEAVE_ALONE)
  else {
    const decided = decide(socket, state, Owner.Scope, boundOf(scope))
    decided.setBy = scope
    lease(socket, decided, scope)
  }
}

/** A client socket that is not TCP (a unix socket): never touched, not even by a later exchange. */
export function ignoreSocket(socket: Socket): void {
  const state = stateOf(socket)
  if (state === undefined) attachState(socket, new SocketState(Owner.NotTcp, LEAVE_ALONE))
  else state.renew(Owner.NotTcp, LEAVE_ALONE)
}

function decide(socket: Socket, state: SocketState | undefined, owner: Owner, want: Want): SocketState {
  const decided = state === undefined ? attachState(socket, new SocketState(owner, want)) : state.renew(owner, want)
  sync(socket, decided)
  return decided
}

/**
 * An HTTP exchange (node:http or undici) is carried by `socket`. The socket's
 * first exchange says who opened it, whatever context its connect() ran in:
 * a pool opens a socket for a queued request from another request's context.
 * A socket a scope opened then holds the value of the exchange it carries
 * now; an unscoped exchange puts it back to the global default, or 0, so a
 * request's bound never leaks into later unscoped work.
 */
export function bindExchange<T>(socket: Socket, scope: Capture, hostOf: HostOf<T>, source: T): void {
  if (scope === UNSEEN) return
  const state = stateOf(socket) ?? adopt(socket)
  if (state.exchanges++ === 0 && (state.owner === Owner.Boot || state.owner === Owner.Scope)) {
    if (scope !== OUTSIDE && isExempt(scope, hostOf, source)) {
      state.owner = Owner.Exempt
      return
    }
    if (scope === OUTSIDE && state.owner === Owner.Scope) {
      // connect() ran in some scope, but the socket was opened for unscoped work.
      state.owner = Owner.Boot
      state.lease = undefined
      state.setBy = OUTSIDE
      state.want = shared.globalMs ?? SYSTEM_DEFAULT
      sync(socket, state)
      return
    }
    state.owner = scope === OUTSIDE ? Owner.Boot : Owner.Scope
    // A pool opened it for this exchange, whatever context connect() ran in: its request holds the lease.
    if (scope !== OUTSIDE && state.setBy !== scope) lease(socket, state, scope)
  }
  if (state.owner !== Owner.Scope) return
  state.setBy = scope
  // An exchange may follow a bound one on the same fd: with no bound to give, it is put back.
  state.want = (scope === OUTSIDE ? shared.globalMs : boundOf(scope)) ?? SYSTEM_DEFAULT
  sync(socket, state)
}

/**
 * A socket whose connect() the hooks never saw. A TLS socket made over a
 * socket that was (a proxy's tunnel) is the same connection: it shares that
 * socket's state. Anything else was connected before the core was imported,
 * by whoever: like a boot socket, no scope may bind it.
 */
export function adopt(socket: Socket): SocketState {
  const parent = (socket as Socket & { _parent?: unknown })._parent
  const inherited = parent !== null && typeof parent === 'object' ? stateOf(parent as Socket) : undefined
  return attachState(socket, inherited ?? new SocketState(Owner.Foreign, LEAVE_ALONE))
}

function isExempt<T>(scope: Scope, hostOf: HostOf<T>, source: T): boolean {
  if (scope.exempt === undefined) return false
  const host = hostOf(source)
  return host !== undefined && host !== '' && scope.exempt(host)
}
