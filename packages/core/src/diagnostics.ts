import dc from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { shared } from './shared.js'

export const CHANNEL_BIND = 'tcp-user-timeout:bind'
export const CHANNEL_TIMEOUT = 'tcp-user-timeout:timeout'
export const CHANNEL_ERROR = 'tcp-user-timeout:error'

/** `{ socket, ms }` after a bound is set on a socket (ms 0: put back to the system default). */
export interface BindMessage {
  socket: Socket
  ms: number
  direction: 'outbound' | 'inbound'
}
/** `{ socket, ms }` when a bound socket was closed by the kernel with ETIMEDOUT. */
export interface TimeoutMessage {
  socket: Socket
  ms: number
  direction: 'outbound' | 'inbound'
}
/**
 * `{ socket, error }` when an implicit bind failed (closed socket, EBADF,
 * ENOTSOCK...) or a request-time value was rejected (`socket` is then null).
 */
export interface ErrorMessage {
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
