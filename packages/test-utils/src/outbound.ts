import dc from 'node:diagnostics_channel'
import http from 'node:http'
import type { Socket } from 'node:net'
import { Agent as UndiciAgent, type Dispatcher } from 'undici'
// Imported before anything here subscribes: the core's own undici
// subscriber must run first, so that its bind is done when we read.
import { currentTimeout, getUserTimeout } from '@tcp-user-timeout/core'
import type { Teardown } from './teardown.js'

export interface Exchange {
  /** TCP_USER_TIMEOUT read with getsockopt while the exchange was on the wire. */
  inFlight: number | undefined
  socket: Socket
  status: number
  body: string
}

/**
 * GET over node:http. The value is read when the response head arrives: the
 * exchange is still in flight, and a pooled socket is not yet free to carry
 * the next request. `onData` sees each chunk in the 'data' callback.
 */
export function httpGet(url: string, agent?: http.Agent, onData?: (chunk: string) => void): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, agent === undefined ? {} : { agent }, (res) => {
      const socket = res.socket
      const inFlight = getUserTimeout(socket)
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
        onData?.(chunk)
      })
      res.on('end', () => resolve({ inFlight, socket, status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}

interface Sent {
  socket: Socket
  inFlight: number | undefined
}

// undici's request path → what its socket held as the request went out.
// Entries are taken once read, so the map stays small.
const sent = new Map<string, Sent>()
let tracking = false

function onSendHeaders(message: unknown): void {
  const { request, socket } = message as { request: { path: string }; socket: Socket }
  sent.set(request.path, { socket, inFlight: getUserTimeout(socket) })
}

/** Unsubscribes the fetch tracker (the contract's afterAll). */
export function stopTrackingFetch(): void {
  if (!tracking) return
  tracking = false
  dc.unsubscribe('undici:client:sendHeaders', onSendHeaders)
  sent.clear()
}

let sequence = 0

/**
 * Global fetch, read back at undici:client:sendHeaders (fetch exposes no
 * socket). A unique query string tells this exchange apart from every other
 * one in flight. `dispatcher`: an undici pool of the caller's; default: the
 * global one.
 */
export async function fetchReadBack(url: string, dispatcher?: Dispatcher): Promise<Exchange> {
  if (!tracking) {
    tracking = true
    dc.subscribe('undici:client:sendHeaders', onSendHeaders)
  }
  const target = new URL(url)
  target.searchParams.set('exchange', `${process.pid}-${++sequence}`)
  const key = target.pathname + target.search
  const init = dispatcher === undefined ? undefined : ({ dispatcher } as unknown as RequestInit)
  const response = await fetch(target, init)
  const body = await response.text()
  const seen = sent.get(key)
  sent.delete(key)
  if (seen === undefined) throw new Error(`fetch ${key}: undici:client:sendHeaders never fired`)
  return { inFlight: seen.inFlight, socket: seen.socket, status: response.status, body }
}

/** JSON has no undefined: a missing scope or read-back travels as null. */
export const orNull = <T>(value: T | undefined): T | null => (value === undefined ? null : value)

export interface Probe {
  /** currentTimeout() in the handler, before the exchanges. */
  timeout: number | null
  /** The read-backs of one node:http and one fetch exchange, made at once. */
  http: number | null
  fetch: number | null
  /** currentTimeout() after awaiting them. */
  after: number | null
}

/** What a handler reports about its scope: currentTimeout() and two outbound read-backs. */
export async function probe(origin: string, pools: { agent?: http.Agent; dispatcher?: Dispatcher } = {}): Promise<Probe> {
  const timeout = orNull(currentTimeout())
  const [viaHttp, viaFetch] = await Promise.all([
    httpGet(`${origin}/http`, pools.agent),
    fetchReadBack(`${origin}/fetch`, pools.dispatcher),
  ])
  return { timeout, http: orNull(viaHttp.inFlight), fetch: orNull(viaFetch.inFlight), after: orNull(currentTimeout()) }
}

/** A probe's expected shape when the scope holds `ms` (null: no scope, sockets left at 0). */
export function probed(ms: number | null): Probe {
  return { timeout: ms, http: ms ?? 0, fetch: ms ?? 0, after: ms }
}

export interface Pools {
  agent: http.Agent
  dispatcher: Dispatcher
}

/**
 * Keep-alive pools of one test's (or one route's) own. A socket's first
 * exchange decides who owns it for good: one opened by unscoped work (a
 * disabled route) is a boot socket that no later scope binds, so routes that
 * differ in that respect must not share a pool.
 */
export function ownPools(t: Teardown, maxSockets = Infinity): Pools {
  return {
    agent: t.defer(new http.Agent({ keepAlive: true, maxSockets }), (a) => a.destroy()),
    dispatcher: t.defer(new UndiciAgent(), (d) => d.destroy()),
  }
}
