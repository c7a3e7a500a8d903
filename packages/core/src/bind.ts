import type { Socket } from 'node:net'
import { boundOf, shared, type Scope } from './shared.js'
import { attachState, Owner, SocketState, stateOf, sync } from './socket-state.js'

/**
 * What an exchange captured where it was created: its scope, `null` when it
 * was created outside any scope, `undefined` when it was never seen (created
 * before the hooks were installed): such an exchange binds nothing.
 */
export type Capture = Scope | null | undefined

/** Reads a host name off `source`; called only when a scope has exempt hosts. */
export type HostOf<T> = (source: T) => string | undefined

export function capture(): Scope | null {
  return shared.als.getStore() ?? null
}

/**
 * A client socket's connect() was called. Decided once (the Ruby gem's
 * rule): inside a scope the socket is bound to it, outside it is a boot
 * socket that only the global default touches.
 */
export function bindOnConnect<T>(socket: Socket, hostOf: HostOf<T>, source: T): void {
  if (stateOf(socket) !== undefined) return
  const scope = shared.als.getStore()
  if (scope === undefined) {
    sync(socket, attachState(socket, new SocketState(Owner.Boot, shared.globalMs)))
  } else if (isExempt(scope, hostOf, source)) {
    attachState(socket, new SocketState(Owner.Pinned, undefined))
  } else {
    sync(socket, attachState(socket, new SocketState(Owner.Scope, boundOf(scope))))
  }
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
  if (scope === undefined) return
  let state = stateOf(socket)
  if (state === undefined) {
    state = attachState(socket, new SocketState(scope === null ? Owner.Boot : Owner.Scope, undefined))
  }
  if (state.exchanges++ === 0 && state.owner !== Owner.Pinned) {
    if (scope !== null && isExempt(scope, hostOf, source)) {
      state.owner = Owner.Pinned
      return
    }
    if (scope === null && state.owner === Owner.Scope) {
      // connect() ran in some scope, but the socket was opened for unscoped work.
      state.owner = Owner.Boot
      state.want = shared.globalMs ?? 0
      sync(socket, state)
      return
    }
    state.owner = scope === null ? Owner.Boot : Owner.Scope
  }
  if (state.owner !== Owner.Scope) return
  state.want = (scope === null ? shared.globalMs : boundOf(scope)) ?? 0
  sync(socket, state)
}

function isExempt<T>(scope: Scope, hostOf: HostOf<T>, source: T): boolean {
  if (scope.exempt === undefined) return false
  const host = hostOf(source)
  return host !== undefined && host !== '' && scope.exempt(host)
}
