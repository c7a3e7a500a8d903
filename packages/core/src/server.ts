import type { Server, Socket } from 'node:net'
import { publishError } from './diagnostics.js'
import { describe, InvalidArgumentError, InvalidOptionError } from './errors.js'
import { IPPROTO_TCP, loadNative, SO_KEEPALIVE, SOL_SOCKET, TCP_USER_TIMEOUT, type Native } from './native.js'
import { shared } from './shared.js'
import { attachState, fdOf, Owner, recordBound, SocketState, sync } from './socket-state.js'
import { applyKeepAlive, setOrThrow, validateKeepAlive, type KeepAliveProbes } from './sockopt.js'
import { option, readOptions, secondsToMs } from './validate.js'

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
export const DEFAULT_KEEPALIVE: Readonly<KeepAliveProbes> = Object.freeze({
  idleSeconds: 15,
  intervalSeconds: 15,
  count: 9,
})

interface Hardening {
  ms: number
  keepAlive: KeepAliveProbes | undefined
}

const AT = 'hardenServer'
const KEYS = { userTimeoutSeconds: 'userTimeoutSeconds', keepAlive: 'keepAlive' } as const
const EXAMPLE = '{ userTimeoutSeconds: 30 } or { keepAlive: { idleSeconds: 15, intervalSeconds: 15, count: 9 } }'

/**
 * Validates `hardenServer` options once. Exported (core/adapter) for an
 * adapter whose server may have no listener yet: grpc-js's hardenServer
 * checks its options when called, before bindAsync creates the listeners,
 * so a mistake throws to its caller instead of being reported later from
 * each listener it hardens.
 */
export function resolveHardening(options: unknown = {}): Hardening {
  const o = readOptions(options, AT, EXAMPLE, KEYS) as HardenOptions
  const probes = () => validateKeepAlive(o.keepAlive ?? DEFAULT_KEEPALIVE, 'keepAlive')
  const keepAlive = o.keepAlive === false ? undefined : option(AT, probes)
  if (o.userTimeoutSeconds !== undefined) {
    return { ms: option(AT, () => secondsToMs(o.userTimeoutSeconds, 'userTimeoutSeconds')), keepAlive }
  }
  if (keepAlive === undefined) {
    throw new InvalidOptionError(
      `${AT}: with keepAlive: false, give userTimeoutSeconds, e.g. { userTimeoutSeconds: 30, keepAlive: false }`,
    )
  }
  // Cloudflare's rule: give up on the peer exactly when the probes would.
  return { ms: (keepAlive.idleSeconds + keepAlive.intervalSeconds * keepAlive.count) * 1000, keepAlive }
}

/**
 * Binds every socket `server` accepts from now on: TCP_USER_TIMEOUT reaps a
 * client that vanished while the server is sending, keep-alive probes one
 * that vanished while the connection is idle. Works for net, http, https
 * and http2 servers (TLS servers emit the raw TCP socket on 'connection'),
 * called before or after `listen`.
 *
 * Linux copies a listening socket's options to the sockets it accepts, so
 * they are set once, on the listener, when it listens: an accepted socket
 * costs no syscall (but the probes on a server with Node's own keepAlive
 * option, which resets them on each socket). Where the server has no
 * listening fd of its own (a cluster worker under round-robin scheduling,
 * whose connections the primary accepts and hands over), each accepted
 * socket is set instead.
 * Returns an undo: the listener goes back to the system defaults, so new
 * connections are no longer hardened; accepted ones keep their options.
 */
export function hardenServer(server: Server, options: HardenOptions = {}): () => void {
  if (server === null || typeof server !== 'object' || typeof server.on !== 'function') {
    throw new InvalidArgumentError(
      `hardenServer needs a net.Server, http.Server or https.Server, received ${describe(server)}`,
    )
  }
  const hardening = resolveHardening(options)
  const native = loadNative().native
  if (native === null) return noop
  let inherited = false
  const onListening = () => {
    inherited = setOnListener(native, server, hardening)
  }
  const onConnection = (socket: Socket) => hardenSocket(native, socket, hardening, inherited, server)
  if (server.listening) onListening()
  server.on('listening', onListening)
  server.on('connection', onConnection)
  return () => {
    server.off('listening', onListening)
    server.off('connection', onConnection)
    if (inherited) setOnListener(native, server, DEFAULTS)
    inherited = false
  }
}

function noop(): void {}

/** What a socket holds before anyone sets anything: no user timeout, no probes (their timing left to the system). */
const DEFAULTS: Hardening = { ms: 0, keepAlive: undefined }

type Handle = { fd?: number; constructor: { name: string } } | null | undefined

/**
 * Sets the options on the listening socket; false where there is none to set (a
 * round-robin cluster worker, a unix socket).
 */
function setOnListener(native: Native, server: Server, { ms, keepAlive }: Hardening): boolean {
  const handle = (server as Server & { _handle?: Handle })._handle
  const fd = handle?.fd
  if (typeof fd !== 'number' || fd < 0 || handle!.constructor.name !== 'TCP') return false
  try {
    if (keepAlive !== undefined) applyKeepAlive(native, fd, keepAlive)
    else setOrThrow(native, fd, SOL_SOCKET, SO_KEEPALIVE, 0, 'SO_KEEPALIVE')
    setOrThrow(native, fd, IPPROTO_TCP, TCP_USER_TIMEOUT, ms, 'TCP_USER_TIMEOUT')
    return true
  } catch (error) {
    // Harden each accepted socket instead; say why once, on the error channel.
    shared.counters.errors++
    publishError(null, error as Error)
    return false
  }
}

function isTcp(socket: Socket): boolean {
  return (socket as Socket & { _handle?: Handle })._handle?.constructor.name === 'TCP'
}

function hardenSocket(native: Native, socket: Socket, hardening: Hardening, inherited: boolean, server: Server): void {
  // A server on a unix socket path: these are TCP options, nothing to harden.
  if (!isTcp(socket)) return
  const state = attachState(socket, new SocketState(Owner.Server, hardening.ms))
  state.inbound = true
  shared.counters.hardened++
  if (inherited) {
    // The kernel copied the listener's options at accept: only the bookkeeping.
    recordBound(socket, state, hardening.ms)
    // Except the probes where the server has Node's own keepAlive option (net
    // and http, Node 20..26): before 'connection' Node ran setKeepAlive(true,
    // keepAliveInitialDelay), and libuv set the idle to that delay and reset
    // interval and count to 1 s and 10. The probes given here are the complete
    // and more specific setting, so they win. TCP_USER_TIMEOUT is untouched.
    if ((server as Server & { keepAlive?: boolean }).keepAlive) applyProbes(native, socket, hardening)
    return
  }
  applyProbes(native, socket, hardening)
  sync(socket, state)
}

/**
 * Sets the probes on an accepted socket (none with keepAlive: false, which leaves Node's
 * alone); a failure is counted and published.
 */
function applyProbes(native: Native, socket: Socket, { keepAlive }: Hardening): void {
  if (keepAlive === undefined) return
  try {
    applyKeepAlive(native, fdOf(socket), keepAlive)
  } catch (error) {
    shared.counters.errors++
    publishError(socket, error as Error, { remoteAddress: socket.remoteAddress, remotePort: socket.remotePort })
  }
}
