import http from 'node:http'
import { afterAll, expect, it } from 'vitest'
import { Pool } from 'undici'
import { getUserTimeout, withTimeout } from '@tcp-user-timeout/core'
import { trackUndiciExchanges } from './helpers/exchanges.js'
import { closeAll, get, httpServer } from './helpers/servers.js'

// Many scopes with distinct values at once: each exchange must carry its own
// request's value, read while it is on the wire. Value i is 1000 + i ms, so
// a crossed exchange shows up as a wrong number, never as a coincidence.

const tracker = trackUndiciExchanges()
afterAll(async () => {
  tracker.stop()
  await closeAll()
})

const msFor = (i: number) => 1000 + i
const secondsFor = (i: number) => msFor(i) / 1000

// The server answers in a shuffled order, so responses and the sockets they
// free interleave across scopes.
async function shufflingServer() {
  let n = 0
  return httpServer((_req, res) => {
    const delay = (n++ * 7) % 5
    setTimeout(() => res.end('ok'), delay)
  })
}

function crossed(results: { i: number; inFlight: number | undefined }[]) {
  return results.filter((r) => r.inFlight !== msFor(r.i))
}

it('200 interleaved scopes over keep-alive node:http: zero crossed', async () => {
  const { origin } = await shufflingServer()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      withTimeout(secondsFor(i), async () => ({ i, ...(await get(`${origin}/${i}`, { agent, read: getUserTimeout })) })),
    ),
  )
  expect(crossed(results)).toEqual([])
  agent.destroy()
})

it('200 interleaved scopes over keep-alive fetch: zero crossed', async () => {
  const { origin } = await shufflingServer()
  await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      withTimeout(secondsFor(i), async () => (await fetch(`${origin}/fetch-${i}`)).text()),
    ),
  )
  const results = Array.from({ length: 200 }, (_, i) => ({ i, inFlight: tracker.byPath.get(`/fetch-${i}`)?.inFlight }))
  expect(crossed(results)).toEqual([])
})

it('60 scopes queued on an http.Agent limited to 2 sockets: zero crossed', async () => {
  const { origin } = await shufflingServer()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 })
  const results = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      withTimeout(secondsFor(i), async () => ({ i, ...(await get(`${origin}/${i}`, { agent, read: getUserTimeout })) })),
    ),
  )
  expect(crossed(results)).toEqual([])
  expect(new Set(results.map((r) => r.socket)).size).toBeLessThanOrEqual(2)
  agent.destroy()
})

it('60 scopes queued on an undici Pool limited to 2 connections: zero crossed', async () => {
  const { origin } = await shufflingServer()
  const pool = new Pool(origin, { connections: 2 })
  await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      withTimeout(secondsFor(i), async () => (await pool.request({ path: `/pool-${i}`, method: 'GET' })).body.text()),
    ),
  )
  const results = Array.from({ length: 60 }, (_, i) => ({ i, inFlight: tracker.byPath.get(`/pool-${i}`)?.inFlight }))
  expect(crossed(results)).toEqual([])
  expect(new Set(Array.from({ length: 60 }, (_, i) => tracker.byPath.get(`/pool-${i}`)?.socket)).size).toBeLessThanOrEqual(2)
  await pool.close()
})
