import type { Server, Socket } from 'node:net'
import { publishError } from './diagnostics.js'
import { describe, InvalidArgumentError, InvalidOptionError } from './errors.js'
import { loadNative, type Native } from './native.js'
import { shared } from './shared.js'
import { attachState, fdOf, Owner, SocketState, sync } from './socket-state.js'
import { applyKeepAlive, setOrThrow, validateKeepAlive, type KeepAliveProbes } from './sockopt.js'
import { secondsToMs } from './validate.js'

export interface HardenOptions {
  /** TCP_USER_TIMEOUT of accepted sockets, in seconds. Default with `keepAlive`: idle + interval * count. */
  userTimeoutSeconds?: number
  /** Keep-alive probes of accepted sockets: they find a client that vanished while the connection is idle. */
  keepAlive?: KeepAliveProbes
}

interface Hardening {
  ms: number
  keepAlive: KeepAliveProbes | undefined
}

/** Validates `hardenServer` options once; exported for the adapters' one-line server option. */
export function resolveHardening(options: unknown): Hardening {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(
      `hardenServer options must be an object such as { userTimeoutSeconds: 30 } or { keepAlive: { idleSeconds: 15, intervalSeconds: 5, count: 3 } }, received ${describe(options)}`,
    )
  }
  const o = options as HardenOptions
  const keepAlive = o.keepAlive === undefined ? undefined : validateKeepAlive(o.keepAlive, 'keepAlive')
  if (o.userTimeoutSeconds !== undefined) {
    return { ms: secondsToMs(o.userTimeoutSeconds, 'userTimeoutSeconds'), keepAlive }
  }
  if (keepAlive === undefined) {
    throw new InvalidOptionError(
      'hardenServer needs userTimeoutSeconds, keepAlive, or both; e.g. hardenServer(server, { userTimeoutSeconds: 30 })',
    )
  }
  // Cloudflare's rule: give up on the peer exactly when the probes would.
  return { ms: (keepAlive.idleSeconds + keepAlive.intervalSeconds * keepAlive.count) * 1000, keepAlive }
}

/**
 * Binds every socket `server` accepts from now on: TCP_USER_TIMEOUT reaps a
 * client that vanished while the server is sending, keep-alive probes one
 * that vanished while the connection is idle. Works for net, http, https
 * and http2 servers (TLS servers emit the raw TCP socket on 'connection').
 * Returns an undo that stops hardening new connections.
 */
export function hardenServer(server: Server, options: HardenOptions): () => void {
  if (server === null || typeof server !== 'object' || typeof (server as Server).on !== 'function') {
    throw new InvalidArgumentError(`hardenServer needs a net.Server, http.Server or https.Server, received ${describe(server)}`)
  }
  const hardening = resolveHardening(options)
  const native = loadNative().native
  if (native === null) return noop
  const onConnection = (socket: Socket) => hardenSocket(native, socket, hardening)
  server.on('connection', onConnection)
  return () => {
    server.off('connection', onConnection)
  }
}

function noop(): void {}

function hardenSocket(native: Native, socket: Socket, { ms, keepAlive }: Hardening): void {
  const state = attachState(socket, new SocketState(Owner.Pinned, ms))
  state.inbound = true
  shared.counters.hardened++
  if (keepAlive !== undefined) {
    const fd = fdOf(socket)
    try {
      applyKeepAlive(native, fd, keepAlive, setOrThrow)
    } catch (error) {
      shared.counters.errors++
      publishError(socket, error as Error)
    }
  }
  sync(socket, state)
}
