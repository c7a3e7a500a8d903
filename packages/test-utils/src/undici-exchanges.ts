import dc from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import type { Dispatcher } from 'undici'
// Imported before anything here subscribes: the core's own undici
// subscriber must run first, so that its bind is done when we read.
import { getUserTimeout } from '@tcp-user-timeout/core'
import type { Exchange } from './http-get.js'

export interface Seen {
  socket: Socket
  /** TCP_USER_TIMEOUT read with getsockopt while the exchange was on the wire. */
  inFlight: number | undefined
}

export interface UndiciExchanges {
  /** By request path (with its query string). */
  readonly byPath: Map<string, Seen>
  stop(): void
}

/**
 * Records, for every undici/fetch exchange (npm undici's and Node's bundled
 * one: both publish on the same channel), the socket that carried it and
 * the value that socket held while the request was being sent. fetch
 * exposes no socket: this is how its exchanges are read back.
 */
export function trackUndiciExchanges(): UndiciExchanges {
  const byPath = new Map<string, Seen>()
  const onSendHeaders = (message: unknown): void => {
    const { request, socket } = message as { request: { path: string }; socket: Socket }
    byPath.set(request.path, { socket, inFlight: getUserTimeout(socket) })
  }
  dc.subscribe('undici:client:sendHeaders', onSendHeaders)
  return { byPath, stop: () => dc.unsubscribe('undici:client:sendHeaders', onSendHeaders) }
}

// The contract's tracker, started at the first fetchReadBack. Entries are
// taken once read, so the map stays small.
let tracker: UndiciExchanges | undefined

/** Stops fetchReadBack's tracker (the contract's afterAll). */
export function stopTrackingFetch(): void {
  tracker?.stop()
  tracker = undefined
}

let sequence = 0

/**
 * Global fetch, read back at undici:client:sendHeaders. A unique query
 * string tells this exchange apart from every other one in flight.
 * `dispatcher`: an undici pool of the caller's; default: the global one.
 */
export async function fetchReadBack(url: string, dispatcher?: Dispatcher): Promise<Exchange> {
  tracker ??= trackUndiciExchanges()
  const { byPath } = tracker
  const target = new URL(url)
  target.searchParams.set('exchange', `${process.pid}-${++sequence}`)
  const key = target.pathname + target.search
  const init = dispatcher === undefined ? undefined : ({ dispatcher } as unknown as RequestInit)
  const response = await fetch(target, init)
  const body = await response.text()
  const seen = byPath.get(key)
  byPath.delete(key)
  if (seen === undefined) throw new Error(`fetch ${key}: undici:client:sendHeaders never fired`)
  return { inFlight: seen.inFlight, socket: seen.socket, status: response.status, body }
}
