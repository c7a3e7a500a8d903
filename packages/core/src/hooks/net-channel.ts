import type { Socket } from 'node:net'
import { bindOnConnect, ignoreSocket } from '../bind.js'
import { contain } from '../contain.js'
import { subscribe } from '../patch.js'
import { stateOf } from '../socket-state.js'
import { isRenewing } from './net.js'

/**
 * From Node 22.17, `Socket.prototype.connect` itself publishes every client
 * socket on `net.client.socket`, synchronously, in the caller's context. The
 * prototype wrapper (net.ts) stays the main path on every version: the
 * message is the socket alone, sent before connect() has read its arguments,
 * so the host that `exemptHosts` matches is not known from it. The channel
 * catches what the wrapper cannot see: a connect() that reached Node's own
 * function past the wrapper (a reference to it taken before this package was
 * imported, or a subclass calling it directly). Older Node versions publish
 * it for `net.connect()` only, which always goes through the wrapper.
 */
export function installNetChannel(): void {
  if (connectPublishes()) subscribe('net.client.socket', onClientSocket)
}

export function connectPublishes(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major > 22 || (major === 22 && minor >= 17)
}

function onClientSocket(message: unknown): void {
  const socket = (message as { socket?: Socket }).socket
  if (socket === undefined) return
  const before = stateOf(socket)
  // Published before connect() replaces a closed socket's handle.
  const renewing = isRenewing(socket)
  if (before !== undefined && !renewing) return
  const connects = before?.connects ?? 0
  // The wrapper, when the call went through it, decides right after this
  // connect() returns; a microtask runs after that, in this same context.
  queueMicrotask(() =>
    contain(() => {
      if ((stateOf(socket)?.connects ?? 0) !== connects) return
      if (isIpc(socket)) ignoreSocket(socket)
      else bindOnConnect(socket, hostOfSocket, socket, renewing)
    }, undefined),
  )
}

// Set by connect() when it resolves a host name; an IP literal leaves it null.
function hostOfSocket(socket: Socket): string | undefined {
  const host = (socket as Socket & { _host?: unknown })._host
  return typeof host === 'string' ? host : undefined
}

function isIpc(socket: Socket): boolean {
  return (socket as Socket & { _pipeName?: unknown })._pipeName !== undefined
}
