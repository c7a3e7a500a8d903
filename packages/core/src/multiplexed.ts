import type { Socket } from 'node:net'
import { adopt, type Capture } from './bind.js'
import { hostOfOrigin } from './exempt.js'
import { leaseStream } from './lease.js'
import { Owner, settleMultiplexed, stateOf, type SocketState, type StreamClaim } from './socket-state.js'

const kClaim = Symbol.for('tcp-user-timeout.stream.claim')

/** An HTTP/2 stream, as much of it as is read here. */
export interface Http2StreamLike {
  readonly session?: object | null
  readonly sentHeaders?: Record<string, unknown>
  once(event: 'close', listener: () => void): unknown
  [kClaim]?: { claim: StreamClaim; socket: Socket; state: SocketState }
}

// Owners whose connection the streams may bind: one a request or the boot
// opened, one an exempt host's scope opened (each stream's own scope says
// whether it exempts the host), and one already shared. Never a pinned
// one (setUserTimeout wins over every scope), a unix socket, or one that
// existed before the core was imported.
const STREAMS_DECIDE = new Set([Owner.Boot, Owner.Scope, Owner.Exempt, Owner.Multiplexed])

/**
 * A stream was requested on an HTTP/2 client session, in `scope` (captured
 * where `session.request()` was called, whenever the stream starts). The
 * connection is shared by the streams of many requests, so no one of them
 * decides its bound: each scoped stream holds it at its request's bound or
 * more until the stream closes or the request ends, and the connection
 * holds the largest such bound (settleMultiplexed). This replaces the
 * lifetime rule's reset for such a connection.
 */
export function claimStream(stream: Http2StreamLike, scope: Capture): void {
  if (
    scope === null ||
    scope === undefined ||
    scope.ms === undefined ||
    scope.end?.closed === true ||
    stream[kClaim] !== undefined
  )
    return
  const socket = sessionSocket(stream.session)
  if (socket === undefined) return
  const state = stateOf(socket) ?? adopt(socket)
  if (!STREAMS_DECIDE.has(state.owner)) return
  if (scope.exempt !== undefined) {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a header value, never an object
    const host = hostOfOrigin(`http://${String(stream.sentHeaders?.[':authority'] ?? '')}`)
    if (host !== '' && scope.exempt(host)) return
  }
  state.owner = Owner.Multiplexed
  const claim: StreamClaim = { scope: scope as StreamClaim['scope'] }
  ;(state.claims ??= new Set()).add(claim)
  stream[kClaim] = { claim, socket, state }
  stream.once('close', onStreamClose)
  if (scope.end !== undefined) leaseStream(socket, scope.end)
  settleMultiplexed(socket, state)
}

function onStreamClose(this: Http2StreamLike): void {
  const held = this[kClaim]
  if (held === undefined) return
  held.state.claims?.delete(held.claim)
  settleMultiplexed(held.socket, held.state)
}

const kSessionSocket = Symbol.for('tcp-user-timeout.session.socket')
type Session = object & { [kSessionSocket]?: Socket | null }

/**
 * The TCP socket under a session. `session.socket` is a proxy that throws on
 * most methods; Node keeps the socket under its own 'socket' symbol (looked
 * up once per session), a JSStreamSocket around it when the session was
 * given a stream that is not a socket, and a TLS socket layered on a socket
 * this process connected (grpc-js's) shares that socket's state (`_parent`).
 */
export function sessionSocket(session: unknown): Socket | undefined {
  if (session === null || typeof session !== 'object') return undefined
  const s = session as Session
  let socket = s[kSessionSocket]
  if (socket === undefined) {
    const key = Object.getOwnPropertySymbols(s).find((k) => k.description === 'socket')
    socket = carrier(key === undefined ? undefined : (s as Record<symbol, unknown>)[key]) ?? null
    s[kSessionSocket] = socket
  }
  return socket ?? undefined
}

function carrier(value: unknown): Socket | undefined {
  let socket = value as (Socket & { stream?: unknown; _parent?: unknown }) | undefined
  if (socket === null || typeof socket !== 'object') return undefined
  // A JSStreamSocket: the stream it wraps.
  if (socket.constructor?.name === 'JSStreamSocket' && socket.stream !== null && typeof socket.stream === 'object')
    socket = socket.stream as typeof socket
  const parent = socket._parent as Socket | null | undefined
  if (parent !== null && typeof parent === 'object' && stateOf(socket) === undefined && stateOf(parent) !== undefined)
    return parent
  return typeof socket.once === 'function' ? socket : undefined
}
