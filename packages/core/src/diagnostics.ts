import dc from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { zeroCounters, type Stats } from './counters.js'
import { shared } from './shared.js'

export type { Stats } from './counters.js'

export const CHANNEL_BIND = 'tcp-user-timeout:bind'
export const CHANNEL_TIMEOUT = 'tcp-user-timeout:timeout'
export const CHANNEL_ERROR = 'tcp-user-timeout:error'

/**
 * Published on `tcp-user-timeout:bind` after a bound was set on a socket
 * (`ms` 0: put back to the system default), and, as a TimeoutMessage, on
 * `tcp-user-timeout:timeout`.
 */
export interface BindMessage {
  /** On a timeout, already closed: its own remoteAddress is there only if it was read before; use the fields below. */
  socket: Socket
  /** The bound now held (bind), or the one that expired (timeout), in ms. */
  ms: number
  /** `outbound`: a client socket of this process; `inbound`: accepted by a hardened server. */
  direction: 'outbound' | 'inbound'
  /**
   * The peer: the address being dialled while the socket connects, as it was when a bound
   * was first set (undefined where not known).
   */
  remoteAddress: string | undefined
  remotePort: number | undefined
}

/** Published on `tcp-user-timeout:timeout` when the kernel closed a bound socket with ETIMEDOUT. */
export type TimeoutMessage = BindMessage

/** Published on `tcp-user-timeout:error`; nothing of it is ever thrown into the application. */
export interface ErrorMessage {
  /**
   * The socket an implicit bind failed on (closed socket, EBADF...), or
   * `null` when a request-time value was rejected (a `seconds` callback
   * threw or returned garbage): check it before reading its fields.
   */
  socket: Socket | null
  error: Error
  /**
   * The socket's peer, as a BindMessage gives it (a failed socket is often
   * closed, its own fields gone); undefined with no socket, or not known.
   */
  remoteAddress: string | undefined
  remotePort: number | undefined
}

/** Where a socket leads, as the messages carry it. */
export type Peer = Pick<BindMessage, 'remoteAddress' | 'remotePort'>

/** The channels, for the core's own publishers; users subscribe by the names above. */
export const channels = {
  bind: dc.channel(CHANNEL_BIND),
  timeout: dc.channel(CHANNEL_TIMEOUT),
  error: dc.channel(CHANNEL_ERROR),
} as const

export function stats(): Stats {
  return { ...shared.counters }
}

export function resetStats(): void {
  zeroCounters(shared.counters)
}

/** Publishes an error that must not reach the application; `peer`: the socket's, when there is one. */
export function publishError(socket: Socket | null, error: Error, peer?: Peer): void {
  if (!channels.error.hasSubscribers) return
  const { remoteAddress, remotePort } = peer ?? NO_PEER
  channels.error.publish({ socket, error, remoteAddress, remotePort } satisfies ErrorMessage)
}

const NO_PEER: Peer = Object.freeze({ remoteAddress: undefined, remotePort: undefined })

/**
 * A reporter for request-time values a caller rejected (a `seconds`
 * callback's answer, a job's data): the first error given to it is
 * published on `tcp-user-timeout:error` with `socket: null`, the rest are
 * dropped, so a bad value repeated on every request is reported once per
 * reporter (one per middleware or processor).
 */
export function reportOnce(): (error: Error) => void {
  let reported = false
  return (error) => {
    if (reported) return
    reported = true
    publishError(null, error)
  }
}
