import dc from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { shared } from './shared.js'

export const CHANNEL_BIND = 'tcp-user-timeout:bind'
export const CHANNEL_TIMEOUT = 'tcp-user-timeout:timeout'
export const CHANNEL_ERROR = 'tcp-user-timeout:error'

/** Published on `tcp-user-timeout:bind` after a bound was set on a socket. */
export interface BindMessage {
  socket: Socket
  /** The bound now held, in ms; 0: put back to the system default. */
  ms: number
  /** `outbound`: a client socket of this process; `inbound`: accepted by a hardened server. */
  direction: 'outbound' | 'inbound'
}

/** Published on `tcp-user-timeout:timeout` when the kernel closed a bound socket with ETIMEDOUT. */
export interface TimeoutMessage {
  /** Already closed: its own remoteAddress is there only if it was read before; use the fields below. */
  socket: Socket
  /** The bound that expired, in ms. */
  ms: number
  direction: 'outbound' | 'inbound'
  /** The peer, as it was when the bound was set (undefined if the socket was not connected yet). */
  remoteAddress: string | undefined
  remotePort: number | undefined
}

/** Published on `tcp-user-timeout:error`; nothing of it is ever thrown into the application. */
export interface ErrorMessage {
  /**
   * The socket an implicit bind failed on (closed socket, EBADF...), or
   * `null` when a request-time value was rejected (a `seconds` callback
   * threw or returned garbage): check it before reading its fields.
   */
  socket: Socket | null
  error: Error
}

export const channels = {
  bind: dc.channel(CHANNEL_BIND),
  timeout: dc.channel(CHANNEL_TIMEOUT),
  error: dc.channel(CHANNEL_ERROR),
} as const

/** Counters since the process started (or since `resetStats()`). */
export interface Stats {
  /** Successful binds of a non-zero bound, outbound and inbound. */
  bound: number
  /** Bound sockets the kernel closed with ETIMEDOUT, outbound and inbound. */
  timedOut: number
  /** setsockopt failures on implicit binds (thrown by none). */
  errors: number
  /** setsockopt calls made; flat in steady state since equal values are skipped. */
  setsockoptCalls: number
  /** Accepted sockets hardened by `hardenServer`. */
  hardened: number
  /** Hardened inbound sockets the kernel closed with ETIMEDOUT (ghost connections reclaimed). */
  reaped: number
}

export function stats(): Stats {
  return { ...shared.counters }
}

export function resetStats(): void {
  const c = shared.counters
  c.bound = c.timedOut = c.errors = c.setsockoptCalls = c.hardened = c.reaped = 0
}

/** Publishes an error that must not reach the application. */
export function publishError(socket: Socket | null, error: Error): void {
  if (channels.error.hasSubscribers) channels.error.publish({ socket, error } satisfies ErrorMessage)
}
