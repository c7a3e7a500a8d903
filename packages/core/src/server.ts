import type { Server, Socket } from 'node:net'
import { publishError } from './diagnostics.js'
import { describe, InvalidArgumentError, InvalidOptionError } from './errors.js'
import { loadNative, type Native } from './native.js'
import { shared } from './shared.js'
import { attachState, fdOf, Owner, SocketState, sync } from './socket-state.js'
import { applyKeepAlive, setOrThrow, validateKeepAlive, type KeepAliveProbes } from './sockopt.js'
import { secondsToMs } from './validate.js'

export interface HardenOptions {
  /** TCP_USER_TIMEOUT of accepted sockets, in seconds. Default: idle + interval * count of the probes. */
  userTimeoutSeconds?: number
  /**
   * Keep-alive probes of accepted sockets: they find a client that vanished
   * while the connection is idle. Default: DEFAULT_KEEPALIVE; `false`: none.
   */
  keepAlive?: KeepAliveProbes | false
}

/**
 * Go's net defaults (idle 15 s, interval 15 s, 9 probes): a dead client is
 * found 150 s after it went quiet. Long enough that no healthy client, however
 * slow its network, is cut; short enough that ghosts do not pile up. (gRPC's
 * 20 s is the timeout of an application-level ping, not a probe schedule.)
 */
export const DEFAULT_KEEPALIVE: Readonly<KeepAliveProbes> = Object.freeze({ idleSeconds: 15, intervalSeconds: 15, count: 9 })

interface Hardening {
  ms: number
  keepAlive: KeepAliveProbes | undefined
}

const known = new Set(['userTimeoutSeconds', 'keepAlive'])

/** Validates `hardenServer` options once; exported for the adapters' one-line server option. */
export function resolveHardening(options: unknown = {}): Hardening {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(
      `hardenServer options must be an object such as { userTimeoutSeconds: 30 } or { keepAlive: { idleSeconds: 15, intervalSeconds: 15, count: 9 } }, received ${describe(options)}`,
    )
  }
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new InvalidOptionError(`hardenServer: unknown option "${key}"; the options are userTimeoutSeconds, keepAlive`)
  }
  const o = options as HardenOptions
  const keepAlive = o.keepAlive === false ? undefined : option(() => validateKeepAlive(o.keepAlive ?? DEFAULT_KEEPALIVE, 'keepAlive'))
  if (o.userTimeoutSeconds !== undefined) {
    return { ms: option(() => secondsToMs(o.userTimeoutSeconds, 'userTimeoutSeconds')), keepAlive }
  }
  if (keepAlive === undefined) {
    throw new InvalidOptionError('hardenServer: with keepAlive: false, give userTimeoutSeconds, e.g. { userTimeoutSeconds: 30, keepAlive: false }')
  }
  // Cloudflare's rule: give up on the peer exactly when the probes would.
  return { ms: (keepAlive.idleSeconds + keepAlive.intervalSeconds * keepAlive.count) * 1000, keepAlive }
}

function option<T>(read: () => T): T {
  try {
    return read()
  } catch (error) {
    throw new InvalidOptionError(`hardenServer: ${(error as Error).message}`)
  }
}

/**
 * Binds every socket `server` accepts from now on: TCP_USER_TIMEOUT reaps a
 * client that vanished while the server is sending, keep-alive probes one
 * that vanished while the connection is idle. Works for net, http, https
 * and http2 servers (TLS servers emit the raw TCP socket on 'connection').
 * Returns an undo that stops hardening new connections.
 */
export function hardenServer(server: Server, options: HardenOptions = {}): () => void {
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

function isTcp(socket: Socket): boolean {
  return (socket as Socket & { _handle?: object | null })._handle?.constructor.name === 'TCP'
}

function hardenSocket(native: Native, socket: Socket, { ms, keepAlive }: Hardening): void {
  // A server on a unix socket path: these are TCP options, nothing to harden.
  if (!isTcp(socket)) return
  const state = attachState(socket, new SocketState(Owner.Server, ms))
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
