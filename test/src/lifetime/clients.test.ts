/**
 * A bound never outlives its request: a mysql2 pool and an ioredis client
 * (lazyConnect) that first connect inside a request, on a real MariaDB and
 * Redis, through each adapter. In
 * flight their sockets read the request's bound; once the response is done,
 * the global default. A socket the request closed itself before its
 * response ended is skipped: nothing thrown, no error counted. And a BullMQ
 * job's bound lasts until the job settles.
 */
import dc from 'node:diagnostics_channel'
import net from 'node:net'
import { once } from 'node:events'
import mysql from 'mysql2/promise'
import { Redis } from 'ioredis'
import { beforeAll, describe, it } from 'vitest'
import {
  CHANNEL_BIND,
  CHANNEL_ERROR,
  getUserTimeout,
  setGlobalDefault,
  stats,
  type BindMessage,
} from '@tcp-user-timeout/core'
import { createPolicy, runUntilSettled } from '@tcp-user-timeout/core/adapter'
import { get, harnessFor, perTest, startApp, startTcpSink, whenAllHold } from '@tcp-user-timeout/test-utils'
import { FRAMEWORKS } from '@tcp-user-timeout/test-utils/apps'
import { MARIADB, REDIS, mariadbConfig, redisConfig, skipWithout } from '../helpers/services.js'

let skip = false
beforeAll(async () => {
  skip = await skipWithout('lifetime/clients', MARIADB, REDIS)
})

const harnesses = FRAMEWORKS.map((framework) => harnessFor(framework))
const mysqlSocket = (c: mysql.PoolConnection) =>
  (c as unknown as { connection: { stream: net.Socket } }).connection.stream

describe.each(harnesses.map((h) => [h.name, h] as const))(
  '%s: lazily connecting clients inside a request',
  (_name, harness) => {
    it('a mysql2 pool: the connection a request opened reads 25000 in flight, the global default (60000) after', async (ctx) => {
      if (skip) return ctx.skip()
      const t = perTest(ctx)
      setGlobalDefault(60)
      t.add(() => setGlobalDefault(null))
      const pool = t.defer(mysql.createPool({ ...mariadbConfig, connectionLimit: 2 }), (p) => p.end())
      let socket: net.Socket | undefined
      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [
          get('/query', async () => {
            const conn = await pool.getConnection()
            try {
              socket = mysqlSocket(conn)
              await conn.query('select 1')
              return { inFlight: getUserTimeout(socket) }
            } finally {
              conn.release()
            }
          }),
        ],
      })
      ctx.expect((await app.client.get('/query').expect(200)).body).toEqual({ inFlight: 25000 })
      await whenAllHold([socket!], 60000)
    })

    it('an ioredis client with lazyConnect: its first command in a request connects it; 25000 in flight, 0 after (no global default)', async (ctx) => {
      if (skip) return ctx.skip()
      const t = perTest(ctx)
      const redis = t.defer(new Redis({ ...redisConfig, lazyConnect: true, maxRetriesPerRequest: 1 }), (r) =>
        r.disconnect(),
      )
      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [
          get('/ping', async () => ({
            pong: await redis.ping(),
            inFlight: getUserTimeout(redis.stream),
          })),
        ],
      })
      ctx.expect((await app.client.get('/ping').expect(200)).body).toEqual({ pong: 'PONG', inFlight: 25000 })
      await whenAllHold([redis.stream], 0)
    })

    it('a socket the request closed before its response ended: nothing thrown, no error counted or published, nothing set at the end', async (ctx) => {
      const t = perTest(ctx)
      const sink = await startTcpSink(t)
      setGlobalDefault(60)
      t.add(() => setGlobalDefault(null))
      const opened: net.Socket[] = []
      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [
          get('/closed', async () => {
            const socket = net.connect(sink.port, '127.0.0.1')
            opened.push(socket)
            await once(socket, 'connect')
            const inFlight = getUserTimeout(socket)
            socket.destroy()
            await once(socket, 'close')
            return { inFlight }
          }),
        ],
      })
      const messages: unknown[] = []
      const onMessage = (m: unknown) => messages.push(m)
      dc.subscribe(CHANNEL_BIND, onMessage)
      dc.subscribe(CHANNEL_ERROR, onMessage)
      t.defer(onMessage, (fn) => {
        dc.unsubscribe(CHANNEL_BIND, fn)
        dc.unsubscribe(CHANNEL_ERROR, fn)
      })
      const errorsBefore = stats().errors
      ctx.expect((await app.client.get('/closed').expect(200)).body).toEqual({ inFlight: 25000 })
      // The first response's close has run by the time a second request, on a new connection, is answered.
      await app.client.get('/closed').expect(200)
      ctx.expect(stats().errors - errorsBefore).toBe(0)
      // Each socket got its one bind at connect, and nothing when its request ended.
      const mine = messages.filter((m) => opened.includes((m as BindMessage).socket))
      ctx.expect(mine.map((m) => (m as BindMessage).ms)).toEqual([25000, 25000])
    })
  },
)

describe('runUntilSettled (what the BullMQ adapter runs each job in)', () => {
  it('a socket opened by the job reads the bound while it runs and the global default once its promise settled', async (ctx) => {
    const t = perTest(ctx)
    const sink = await startTcpSink(t)
    setGlobalDefault(30)
    t.add(() => setGlobalDefault(null))
    let socket: net.Socket | undefined
    const inFlight = await runUntilSettled(createPolicy({ seconds: 7 }).resolve(undefined), async () => {
      socket = t.defer(net.connect(sink.port, '127.0.0.1'), (s) => s.destroy())
      await once(socket, 'connect')
      return getUserTimeout(socket)
    })
    ctx.expect(inFlight).toBe(7000)
    ctx.expect(getUserTimeout(socket!)).toBe(30000)
  })

  it('a job that throws or rejects ends its scope too, and the error reaches the caller unchanged', async (ctx) => {
    const t = perTest(ctx)
    const sink = await startTcpSink(t)
    let socket: net.Socket | undefined
    const failure = new Error('job failed')
    const rejected = runUntilSettled(createPolicy({ seconds: 7 }).resolve(undefined), async () => {
      socket = t.defer(net.connect(sink.port, '127.0.0.1'), (s) => s.destroy())
      await once(socket, 'connect')
      throw failure
    })
    await ctx.expect(rejected).rejects.toBe(failure)
    ctx.expect(getUserTimeout(socket!)).toBe(0)
    ctx
      .expect(() =>
        runUntilSettled(createPolicy({ seconds: 7 }).resolve(undefined), () => {
          throw failure
        }),
      )
      .toThrow(failure)
  })
})
