import type http from 'node:http'
import type { Dispatcher } from 'undici'
import { currentTimeout } from '@tcp-user-timeout/core'
import { httpGet } from './http-get.js'
import { fetchReadBack } from './undici-exchanges.js'

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
export async function probe(
  origin: string,
  pools: { agent?: http.Agent; dispatcher?: Dispatcher } = {},
): Promise<Probe> {
  const timeout = orNull(currentTimeout())
  const [viaHttp, viaFetch] = await Promise.all([
    httpGet(`${origin}/http`, pools.agent === undefined ? {} : { agent: pools.agent }),
    fetchReadBack(`${origin}/fetch`, pools.dispatcher),
  ])
  return { timeout, http: orNull(viaHttp.inFlight), fetch: orNull(viaFetch.inFlight), after: orNull(currentTimeout()) }
}

/** A probe's expected shape when the scope holds `ms` (null: no scope, sockets left at 0). */
export function probed(ms: number | null): Probe {
  return { timeout: ms, http: ms ?? 0, fetch: ms ?? 0, after: ms }
}
