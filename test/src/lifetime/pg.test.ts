/**
 * A bound never outlives its request, on a real PostgreSQL, through each
 * adapter: a pg.Pool({ max: 4 }), not warmed, serves 8 concurrent requests,
 * half of them sending `x-request-timeout-s: 0.2`. During each request the
 * connection it opened reads that request's bound (25000, or the 1 s floor
 * for the header); once every response is done, every connection reads the
 * global default (60000), or 0 without one. So a client's header never
 * shapes a pooled connection.
 */
import type net from 'node:net'
import pg from 'pg'
import { beforeAll, describe, it } from 'vitest'
import { getUserTimeout, setGlobalDefault } from '@tcp-user-timeout/core'
import { Barrier, get, harnessFor, perTest, startApp, whenAllHold } from '@tcp-user-timeout/test-utils'
import { FRAMEWORKS } from '@tcp-user-timeout/test-utils/apps'
import { POSTGRES, postgresConfig, skipWithout } from '../helpers/services.js'

let skip = false
beforeAll(async () => {
  skip = await skipWithout('lifetime/pg', POSTGRES)
})

const HEADER = 'x-request-timeout-s'
const streamOf = (client: pg.PoolClient) =>
  (client as unknown as { connection: { stream: net.Socket } }).connection.stream

const harnesses = FRAMEWORKS.map((framework) => harnessFor(framework))

describe.each(harnesses.map((h) => [h.name, h] as const))('%s', (_name, harness) => {
  for (const globalSeconds of [60, null] as const) {
    const after = globalSeconds === null ? 0 : globalSeconds * 1000
    it(`8 concurrent requests, half with header 0.2, on a pg.Pool({ max: 4 }): each opener reads its own bound in flight; afterwards every connection reads ${after}`, async (ctx) => {
      if (skip) return ctx.skip()
      const t = perTest(ctx)
      setGlobalDefault(globalSeconds)
      t.add(() => setGlobalDefault(null))
      const pool = t.defer(new pg.Pool({ ...postgresConfig, max: 4 }), (p) => p.end())
      const seen = new Set<pg.PoolClient>()
      const openers = new Barrier(4, 'requests holding a new pg connection')
      const app = await startApp(t, harness, {
        use: [{ seconds: 25, header: HEADER }],
        routes: [
          get('/query', async () => {
            const client = await pool.connect()
            try {
              const opened = !seen.has(client)
              seen.add(client)
              const inFlight = getUserTimeout(streamOf(client))
              // The four openers hold their connections together, so each is opened by one request.
              if (opened) await openers.arrive()
              await client.query('select 1')
              return { opened, inFlight }
            } finally {
              client.release()
            }
          }),
        ],
      })
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) => {
          const req = app.client.get('/query')
          return (i % 2 === 0 ? req.set(HEADER, '0.2') : req)
            .expect(200)
            .then((res) => ({ header: i % 2 === 0, ...(res.body as { opened: boolean; inFlight: number }) }))
        }),
      )
      const opened = results.filter((r) => r.opened)
      ctx.expect(opened).toHaveLength(4)
      for (const r of opened)
        ctx.expect(r.inFlight, `an opener${r.header ? ' with the header' : ''}`).toBe(r.header ? 1000 : 25000)
      const sockets = [...seen].map(streamOf)
      ctx.expect(sockets).toHaveLength(4)
      await whenAllHold(sockets, after)
    })
  }
})
