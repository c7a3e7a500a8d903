/**
 * Many concurrent exchanges, each in a scope of its own value, through one
 * client with one or two connections, so that most of them queue and are
 * handed a socket from another exchange's context. Each value is read on
 * the client socket while its exchange is in flight (readBackServer).
 */
import { expect } from 'vitest'
import { withTimeout } from '@tcp-user-timeout/core'
import type { ReadBackServer } from './http.js'

export const CONCURRENT_SCOPES = 200

/** Runs the exchanges and expects none to carry another scope's value. */
export async function expectNoneCrossed(
  server: ReadBackServer,
  get: (path: string) => Promise<string>,
  count = CONCURRENT_SCOPES,
): Promise<void> {
  const seconds = Array.from({ length: count }, (_, i) => i + 1)
  const bodies = await Promise.all(seconds.map((s) => withTimeout(s, () => get(`/scope-${s}`))))
  expect(bodies).toEqual(seconds.map((s) => `ok /scope-${s}`))
  const crossed = seconds.filter((s) => server.exchanges.get(`/scope-${s}`)?.inFlight !== s * 1000)
  expect(crossed, `exchanges that did not carry their own scope's value (of ${count})`).toEqual([])
  const sockets = new Set(seconds.map((s) => server.exchanges.get(`/scope-${s}`)!.socket))
  expect(sockets.size, 'the exchanges did not share the one or two connections').toBeLessThanOrEqual(2)
}
