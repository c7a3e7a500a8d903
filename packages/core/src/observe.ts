import dc from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import {
  CHANNEL_BIND,
  CHANNEL_ERROR,
  CHANNEL_TIMEOUT,
  type BindMessage,
  type ErrorMessage,
  type TimeoutMessage,
} from './diagnostics.js'
import { describe, InvalidArgumentError, warningCodes } from './errors.js'
import { warn } from './warn.js'

/**
 * One message of the library's channels, as plain data: every enumerable
 * field is a string or a number, so the event can be handed as is to a
 * logger (`log.warn(event)`) or used as metric labels. The objects behind
 * it are there for those who need them, as non-enumerable properties a
 * serializer skips: `socket` (null on a request-time error) and, on an
 * error, `error`.
 */
export interface TcpUserTimeoutEvent {
  /**
   * `bind`: a bound was set (ms 0: put back to the system default); `timeout`: the kernel closed a bound socket;
   * `error`: a failure the library kept from the application.
   */
  type: 'bind' | 'timeout' | 'error'
  /** The bound set (bind) or the one that expired (timeout), in ms. */
  ms?: number
  /** `outbound`: a client socket of this process; `inbound`: accepted by a hardened server. */
  direction?: 'outbound' | 'inbound'
  /** `host:port` of the other end (`[v6]:port` for IPv6), when known. */
  peer?: string
  /** timeout: `ETIMEDOUT`; error: the errno name (`EBADF`...) of a socket-option failure, else the error's `code`. */
  code?: string
  /** error: the error's message. */
  message?: string
  /** Not enumerable: the socket, or null (an error of a request-time value). */
  readonly socket?: Socket | null
  /** Not enumerable, on an error only: the error itself. */
  readonly error?: Error
}

/** What `observe()` returns: stop it with `close()`. */
export interface Observer {
  /**
   * The bounds held now by open sockets bound while this observer was
   * open, as a count of sockets per bound in ms: `{ 1500: 3, 30000: 12 }`
   * (ascending keys, no zero counts). A fresh object on every call.
   */
  inForce(): Record<number, number>
  /** Unsubscribes from the channels and forgets every socket. Idempotent. */
  close(): void
  /** False once `close()` was called. */
  readonly open: boolean
}

/**
 * Subscribes to the library's three diagnostics channels and turns their
 * messages into plain events for `listener` (optional: without one, the
 * observer only keeps `inForce()`). Nothing is published, and nothing is
 * tracked, unless an observer (or another subscriber) is open.
 *
 * A listener that throws never reaches the library's code nor the request
 * that caused the message: the throw is caught, and the first one of this
 * observer is reported with `process.emitWarning` (code
 * `TUT_WARN_LISTENER_THREW`).
 *
 * Only what happens after `observe()` is seen: sockets bound before it are
 * not in `inForce()`.
 *
 * @example
 * const observer = observe((event) => {
 *   if (event.type !== 'bind') logger.warn(event, 'tcp-user-timeout')
 * })
 * observer.inForce() // { '30000': 4 }
 */
export function observe(listener?: (event: TcpUserTimeoutEvent) => void): Observer {
  if (listener !== undefined && typeof listener !== 'function') {
    throw new InvalidArgumentError(
      `observe(listener): listener must be a function or omitted, ` +
        `received ${describe(listener)}; pass (event) => { ... }`,
    )
  }
  // The bound each socket holds, by socket: weak, so tracking keeps no socket alive.
  const held = new WeakMap<Socket, number>()
  const counts = new Map<number, number>()
  let open = true
  let warned = false

  const count = (ms: number, delta: number) => {
    const n = (counts.get(ms) ?? 0) + delta
    if (n > 0) counts.set(ms, n)
    else counts.delete(ms)
  }

  // One function for every socket ('this' is the socket); it runs after the
  // core's own 'close' listener (added at the first bind, before the
  // message), so a timeout is published before the socket leaves inForce.
  function release(this: Socket): void {
    const ms = held.get(this)
    if (ms === undefined) return
    held.delete(this)
    if (open) count(ms, -1)
  }

  const track = (socket: Socket, ms: number) => {
    const before = held.get(socket)
    if (before === ms) return
    if (before !== undefined) count(before, -1)
    else if (ms > 0) {
      // Already closed (a bind from another 'close' listener): no 'close' will come to release it.
      if (socket.destroyed && socket.closed) return
      socket.once('close', release)
    }
    if (ms > 0) {
      held.set(socket, ms)
      count(ms, 1)
    } else if (before !== undefined) {
      held.delete(socket)
      socket.off('close', release)
    }
  }

  const deliver = (event: TcpUserTimeoutEvent) => {
    if (listener === undefined) return
    try {
      listener(event)
    } catch (error) {
      if (warned) return
      warned = true
      warn(
        warningCodes.LISTENER_THREW,
        `@tcp-user-timeout/core: an observe() listener threw (${thrown(error)}); ` +
          `the library ignored it and will not report this ` +
          `observer's further throws. Catch inside the listener.`,
      )
    }
  }

  const onBind = (raw: unknown) => {
    const m = raw as BindMessage
    track(m.socket, m.ms)
    deliver(
      withHidden(
        { type: 'bind', ms: m.ms, direction: m.direction, ...peerOf(m.remoteAddress, m.remotePort) },
        m.socket,
      ),
    )
  }
  const onTimeout = (raw: unknown) => {
    const m = raw as TimeoutMessage
    deliver(
      withHidden(
        {
          type: 'timeout',
          ms: m.ms,
          direction: m.direction,
          ...peerOf(m.remoteAddress, m.remotePort),
          code: 'ETIMEDOUT',
        },
        m.socket,
      ),
    )
  }
  const onError = (raw: unknown) => {
    const m = raw as ErrorMessage
    const error = m.error as Error & { errnoName?: unknown; code?: unknown }
    const code =
      typeof error.errnoName === 'string' ? error.errnoName : typeof error.code === 'string' ? error.code : undefined
    const event: TcpUserTimeoutEvent = { type: 'error', ...peerOf(m.remoteAddress, m.remotePort) }
    if (code !== undefined) event.code = code
    event.message = String(error.message)
    deliver(withHidden(event, m.socket, m.error))
  }

  dc.subscribe(CHANNEL_BIND, onBind)
  dc.subscribe(CHANNEL_TIMEOUT, onTimeout)
  dc.subscribe(CHANNEL_ERROR, onError)

  return {
    get open() {
      return open
    },
    inForce() {
      const out: Record<number, number> = {}
      for (const ms of [...counts.keys()].sort((a, b) => a - b)) out[ms] = counts.get(ms)!
      return out
    },
    close() {
      if (!open) return
      open = false
      dc.unsubscribe(CHANNEL_BIND, onBind)
      dc.unsubscribe(CHANNEL_TIMEOUT, onTimeout)
      dc.unsubscribe(CHANNEL_ERROR, onError)
      // The sockets' 'release' listeners stay until each socket closes (the
      // WeakMap cannot be listed); closed, they change nothing.
      counts.clear()
    },
  }
}

/** `host:port`, as a log shows a peer; an IPv6 address in brackets, so its colons do not read as the port's. */
function peerOf(address: string | undefined, port: number | undefined): { peer?: string } {
  if (address === undefined || address === '') return {}
  const host = address.includes(':') ? `[${address}]` : address
  return { peer: port === undefined ? host : `${host}:${port}` }
}

function withHidden(event: TcpUserTimeoutEvent, socket: Socket | null, error?: Error): TcpUserTimeoutEvent {
  Object.defineProperty(event, 'socket', { value: socket, enumerable: false })
  if (error !== undefined) Object.defineProperty(event, 'error', { value: error, enumerable: false })
  return event
}

function thrown(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`
  return describe(error)
}
