/**
 * The recipes (docs/rules.md) for a fixed bound of a client's own, whatever request
 * opens its connections: an explicit setUserTimeout when the client
 * connects pins the socket, so neither the opening request's bound (nor a
 * client's header) nor its end changes it. Each connection here is opened
 * inside a request-like scope of 2 s (runUntilSettled) and read back during
 * and after it, on real PostgreSQL, MariaDB, Redis, and an HTTP server.
 */
import http from 'node:http'
import type net from 'node:net'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { Redis } from 'ioredis'
import { Agent, buildConnector, request } from 'undici'
import { beforeAll, describe, it } from 'vitest'
import { getUserTimeout, setGlobalDefault, setUserTimeout } from '@tcp-user-timeout/core'
import { createPolicy, runUntilSettled } from '@tcp-user-timeout/core/adapter'
import { perTest, serve } from '@tcp-user-timeout/test-utils'
import {
  MARIADB,
  POSTGRES,
  REDIS,
  mariadbConfig,
  postgresConfig,
  redisConfig,
  skipWithout,
} from '../helpers/services.js'

const PINNED_MS = 30_000
let skip = false
beforeAll(async () => {
  skip = await skipWithout('lifetime/recipes', POSTGRES, MARIADB, REDIS)
})

type Pooled = { query(sql: string): Promise<unknown>; release(): void }
const pgSocket = (client: pg.PoolClient) =>
  (client as unknown as { connection: { stream: net.Socket } }).connection.stream
const mysqlSocket = (conn: mysql.PoolConnection) =>
  (conn as unknown as { connection: { stream: net.Socket } }).connection.stream

/** Takes a pooled connection, runs `select 1` on it, gives it back; resolves with its socket. */
async function selectOne<C extends Pooled>(
  acquire: () => Promise<C>,
  socketOf: (c: C) => net.Socket,
): Promise<net.Socket> {
  const c = await acquire()
  await c.query('select 1')
  c.release()
  return socketOf(c)
}

/** Runs `use` as a request of 2 s would; returns the socket's value in flight, then after the request ended. */
async function duringAndAfter(use: () => Promise<net.Socket>): Promise<[number | undefined, number | undefined]> {
  let socket: net.Socket | undefined
  const during = await runUntilSettled(createPolicy({ seconds: 2 }).resolve(undefined), async () => {
    socket = await use()
    return getUserTimeout(socket)
  })
  return [during, getUserTimeout(socket!)]
}

describe('a fixed bound of its own, per client', () => {
  it("pg.Pool: setUserTimeout on the 'connect' event", async (ctx) => {
    if (skip) return ctx.skip()
    const t = perTest(ctx)
    setGlobalDefault(60)
    t.add(() => setGlobalDefault(null))
    const pool = t.defer(new pg.Pool({ ...postgresConfig, max: 1 }), (p) => p.end())
    pool.on('connect', (client) => setUserTimeout(pgSocket(client), PINNED_MS))
    const values = await duringAndAfter(() => selectOne(() => pool.connect(), pgSocket))
    ctx.expect(values).toEqual([PINNED_MS, PINNED_MS])
  })

  it("a mysql2 pool: setUserTimeout on the 'connection' event", async (ctx) => {
    if (skip) return ctx.skip()
    const t = perTest(ctx)
    const pool = t.defer(mysql.createPool({ ...mariadbConfig, connectionLimit: 1 }), (p) => p.end())
    pool.on('connection', (conn) => setUserTimeout((conn as unknown as { stream: net.Socket }).stream, PINNED_MS))
    const values = await duringAndAfter(() => selectOne(() => pool.getConnection(), mysqlSocket))
    ctx.expect(values).toEqual([PINNED_MS, PINNED_MS])
  })

  it("ioredis: setUserTimeout on the 'connect' event", async (ctx) => {
    if (skip) return ctx.skip()
    const t = perTest(ctx)
    const redis = t.defer(new Redis({ ...redisConfig, lazyConnect: true }), (r) => r.disconnect())
    redis.on('connect', () => setUserTimeout(redis.stream, PINNED_MS))
    const values = await duringAndAfter(async () => {
      await redis.ping()
      return redis.stream
    })
    ctx.expect(values).toEqual([PINNED_MS, PINNED_MS])
  })

  it('an undici Agent: setUserTimeout in its `connect` function', async (ctx) => {
    const t = perTest(ctx)
    const upstream = t.defer(await serve(http.createServer((_req, res) => res.end('ok'))), (u) => u.close())
    const connector = buildConnector({})
    let socket: net.Socket | undefined
    const agent = t.defer(
      new Agent({
        connect(options, callback) {
          connector(options, (error, s) => {
            if (error !== null) {
              callback(error, null)
              return
            }
            setUserTimeout((socket = s), PINNED_MS)
            callback(null, s)
          })
        },
      }),
      (a) => a.close(),
    )
    const values = await duringAndAfter(async () => {
      await (await request(upstream.origin, { dispatcher: agent })).body.text()
      return socket!
    })
    ctx.expect(values).toEqual([PINNED_MS, PINNED_MS])
  })
})
