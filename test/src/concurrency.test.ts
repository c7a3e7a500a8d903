import http from 'node:http'
import { expect, it } from 'vitest'
import { Pool } from 'undici'
import { withTimeout } from '@tcp-user-timeout/core'
import {
  httpGet,
  perSuite,
  perTest,
  shuffling,
  startUpstream,
  trackUndiciExchanges,
  type Teardown,
} from '@tcp-user-timeout/test-utils'

// Many scopes with distinct values at once: each exchange must carry its own
// request's value, read while it is on the wire. Value i is 1000 + i ms, so
// a crossed exchange shows up as a wrong number, never as a coincidence.

const tracker = perSuite().defer(trackUndiciExchanges(), (x) => x.stop())

const msFor = (i: number) => 1000 + i
const secondsFor = (i: number) => msFor(i) / 1000

function crossed(results: { i: number; inFlight: number | undefined }[]) {
  return results.filter((r) => r.inFlight !== msFor(r.i))
}

/**
 * `count` scopes at once, each a GET over one keep-alive http.Agent of
 * `maxSockets`. The server answers in a shuffled order, so responses and
 * the sockets they free interleave across scopes.
 */
async function overAgent(t: Teardown, count: number, maxSockets: number) {
  const { origin } = await startUpstream(t, shuffling())
  const agent = t.defer(new http.Agent({ keepAlive: true, maxSockets }), (a) => a.destroy())
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      withTimeout(secondsFor(i), async () => ({ i, ...(await httpGet(`${origin}/${i}`, { agent })) })),
    ),
  )
}

it('200 interleaved scopes over keep-alive node:http: zero crossed', async (ctx) => {
  expect(crossed(await overAgent(perTest(ctx), 200, 16))).toEqual([])
})

it('200 interleaved scopes over keep-alive fetch: zero crossed', async (ctx) => {
  const t = perTest(ctx)
  const { origin } = await startUpstream(t, shuffling())
  await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      withTimeout(secondsFor(i), async () => (await fetch(`${origin}/fetch-${i}`)).text()),
    ),
  )
  const results = Array.from({ length: 200 }, (_, i) => ({ i, inFlight: tracker.byPath.get(`/fetch-${i}`)?.inFlight }))
  expect(crossed(results)).toEqual([])
})

it('60 scopes queued on an http.Agent limited to 2 sockets: zero crossed', async (ctx) => {
  const results = await overAgent(perTest(ctx), 60, 2)
  expect(crossed(results)).toEqual([])
  expect(new Set(results.map((r) => r.socket)).size).toBeLessThanOrEqual(2)
})

it('60 scopes queued on an undici Pool limited to 2 connections: zero crossed', async (ctx) => {
  const t = perTest(ctx)
  const { origin } = await startUpstream(t, shuffling())
  const pool = t.defer(new Pool(origin, { connections: 2 }), (p) => p.close())
  await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      withTimeout(secondsFor(i), async () => (await pool.request({ path: `/pool-${i}`, method: 'GET' })).body.text()),
    ),
  )
  const results = Array.from({ length: 60 }, (_, i) => ({ i, inFlight: tracker.byPath.get(`/pool-${i}`)?.inFlight }))
  expect(crossed(results)).toEqual([])
  expect(
    new Set(Array.from({ length: 60 }, (_, i) => tracker.byPath.get(`/pool-${i}`)?.socket)).size,
  ).toBeLessThanOrEqual(2)
})
