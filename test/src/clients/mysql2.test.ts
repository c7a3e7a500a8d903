/**
 * mysql2 (promise API) against the MariaDB on this machine. A mysql2
 * Connection calls `net.connect()` in its constructor (createConnection, or
 * the pool's getConnection when it needs a new one), so the raw-socket rule
 * applies: a connection opened inside a scope holds that scope's value and is
 * never re-bound; one opened outside any scope holds 0 whatever scopes use it.
 *
 * Each socket is found through mysql2's internals (`connection.stream`, the
 * pool's `_allConnections`) and matched with the port the server reports for
 * the connection that ran the query.
 */
import type net from 'node:net'
import mysql from 'mysql2/promise'
import { describe, expect, it } from 'vitest'
import { currentTimeout, getUserTimeout, setGlobalDefault, withTimeout } from '@tcp-user-timeout/core'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils'
import { MARIADB, mariadbConfig, skipWithout } from '../helpers/services.js'
import { recordBinds, type BindLog } from './helpers/binds.js'

const skip = await skipWithout('mysql2', MARIADB)

interface CoreConnection {
  stream: net.Socket
}
const socketOf = (c: mysql.Connection | mysql.PoolConnection) =>
  (c as unknown as { connection: CoreConnection }).connection.stream
function poolSockets(p: mysql.Pool): net.Socket[] {
  const all = (p.pool as unknown as { _allConnections: { length: number; get(i: number): CoreConnection } })
    ._allConnections
  return Array.from({ length: all.length }, (_, i) => all.get(i).stream)
}

function pool(t: Teardown, connectionLimit: number): mysql.Pool {
  return t.defer(mysql.createPool({ ...mariadbConfig, connectionLimit }), (p) => p.end())
}
async function connection(t: Teardown): Promise<mysql.Connection> {
  return t.defer(await mysql.createConnection(mariadbConfig), (c) => c.end().catch(() => {}))
}
const binds = (t: Teardown): BindLog => t.defer(recordBinds(), (log) => log.stop())

interface Row {
  port: number
  n: number
}
/** The connection's local port as the server sees it, and an echoed value; `slow` sleeps 0.1 s. */
function who(q: mysql.Pool | mysql.Connection, n: number, slow = false): Promise<Row> {
  const sql =
    "SELECT CAST(SUBSTRING_INDEX(host, ':', -1) AS UNSIGNED) AS port, CAST(? AS SIGNED) AS n" +
    (slow ? ', SLEEP(0.1) AS slept' : '') +
    ' FROM information_schema.processlist WHERE id = CONNECTION_ID()'
  return q.query(sql, [n]).then(([rows]) => {
    const [row] = rows as mysql.RowDataPacket[]
    return { port: Number(row.port), n: Number(row.n) }
  })
}

describe.skipIf(skip)('mysql2 pool', () => {
  it('connections opened at boot read 0 (and are never set) after scoped queries used them all', async (ctx) => {
    const t = perTest(ctx)
    const p = pool(t, 2)
    const boot = await Promise.all([p.getConnection(), p.getConnection()]) // outside any scope
    for (const c of boot) c.release()
    const sockets = poolSockets(p)
    expect(sockets).toHaveLength(2)
    const log = binds(t)

    const seen: { row: Row; scope: number | undefined }[] = []
    for (let round = 0; round < 3; round++) {
      const batch = await Promise.all(
        [1, 2].map((i) =>
          withTimeout(7, async () => ({ row: await who(p, round * 10 + i, true), scope: currentTimeout() })),
        ),
      )
      seen.push(...batch)
    }
    expect(seen.map((s) => s.row.n)).toEqual([1, 2, 11, 12, 21, 22])
    expect(new Set(seen.map((s) => s.scope))).toEqual(new Set([7000]))
    expect(new Set(seen.map((s) => s.row.port))).toEqual(new Set(sockets.map((s) => s.localPort)))
    expect(poolSockets(p)).toEqual(sockets) // no connection was added or replaced
    expect(sockets.map((s) => getUserTimeout(s))).toEqual([0, 0])
    expect(sockets.flatMap((s) => log.on(s))).toEqual([])
  })

  it('a connection the pool opens lazily inside withTimeout(9) reads 9000, and keeps it for later work (never re-bound)', async (ctx) => {
    const t = perTest(ctx)
    const p = pool(t, 1)
    const log = binds(t)
    const first = await withTimeout(9, () => who(p, 1))
    const [socket] = poolSockets(p)
    expect(socket).toBeDefined()
    expect(first).toEqual({ port: socket.localPort, n: 1 })
    expect(getUserTimeout(socket)).toBe(9000)

    const unscoped = await who(p, 2)
    const inUnscoped = getUserTimeout(socket)
    const other = await withTimeout(3, async () => ({ row: await who(p, 3), inScope: getUserTimeout(socket) }))
    expect([unscoped, other.row]).toEqual([
      { port: socket.localPort, n: 2 },
      { port: socket.localPort, n: 3 },
    ])
    expect([inUnscoped, other.inScope, getUserTimeout(socket)]).toEqual([9000, 9000, 9000])
    expect(log.on(socket)).toEqual([9000])
    expect(poolSockets(p)).toHaveLength(1)
  })

  it("two connections opened at once by two scopes each hold their own scope's value", async (ctx) => {
    const t = perTest(ctx)
    const p = pool(t, 2)
    const [a, b] = await Promise.all([withTimeout(4, () => who(p, 4, true)), withTimeout(6, () => who(p, 6, true))])
    expect([a.n, b.n]).toEqual([4, 6])
    expect(a.port).not.toBe(b.port)
    const byPort = new Map(poolSockets(p).map((s) => [s.localPort, s]))
    expect(byPort.size).toBe(2)
    expect([getUserTimeout(byPort.get(a.port)!), getUserTimeout(byPort.get(b.port)!)]).toEqual([4000, 6000])
  })

  it('a pool opened at boot after setGlobalDefault(11) holds 11000 through scoped queries', async (ctx) => {
    const t = perTest(ctx)
    setGlobalDefault(11)
    t.add(() => setGlobalDefault(null))
    const p = pool(t, 1)
    ;(await p.getConnection()).release()
    const [socket] = poolSockets(p)
    const row = await withTimeout(5, () => who(p, 5))
    expect(row).toEqual({ port: socket.localPort, n: 5 })
    expect(getUserTimeout(socket)).toBe(11000)
  })
})

describe.skipIf(skip)('mysql2 createConnection', () => {
  it('created inside a scope reads its value; created at boot reads 0, even when scoped queries use it', async (ctx) => {
    const t = perTest(ctx)
    const boot = await connection(t)
    const scoped = await withTimeout(8, () => connection(t))
    const rows = await withTimeout(3, () => Promise.all([who(boot, 0), who(scoped, 1)]))
    const sockets = [boot, scoped].map(socketOf)
    expect(rows).toEqual(sockets.map((s, i) => ({ port: s.localPort, n: i })))
    expect(sockets.map((s) => getUserTimeout(s))).toEqual([0, 8000])
  })
})
