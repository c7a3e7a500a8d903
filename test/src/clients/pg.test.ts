/**
 * node-postgres against the PostgreSQL on this machine. pg opens its socket
 * with `new net.Socket()` + `connect()` when a Client connects, so the rule
 * is the raw-socket one (docs/rules.md, "Which sockets get bound"): a connection
 * opened inside a scope holds that scope's value from 'connect' on and is
 * never re-bound; one opened outside any scope (a pool warmed at boot) holds
 * 0, or the global default set before it opened, whatever scopes use it.
 *
 * Every socket is identified twice: through pg's internals
 * (`client.connection.stream`) and by the server (`inet_client_port()` is
 * the client's local port), so the value read back is that of the
 * connection that ran the query.
 */
import type net from 'node:net'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { currentTimeout, getUserTimeout, setGlobalDefault, withTimeout } from '@tcp-user-timeout/core'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils'
import { POSTGRES, postgresConfig, skipWithout } from '../helpers/services.js'
import { recordBinds, type BindLog } from './helpers/binds.js'

const skip = await skipWithout('pg', POSTGRES)

type Queryable = pg.Client | pg.PoolClient
const socketOf = (client: Queryable) => (client as unknown as { connection: { stream: net.Socket } }).connection.stream
const poolSockets = (pool: pg.Pool) => (pool as unknown as { _clients: pg.Client[] })._clients.map(socketOf)

function pool(t: Teardown, max: number): pg.Pool {
  const p = t.defer(new pg.Pool({ ...postgresConfig, max }), (q) => q.end())
  p.on('error', () => {}) // an idle client's error must not crash the file
  return p
}
function client(t: Teardown): pg.Client {
  const c = t.defer(new pg.Client(postgresConfig), (d) => d.end().catch(() => {}))
  c.on('error', () => {})
  return c
}
const binds = (t: Teardown): BindLog => t.defer(recordBinds(), (log) => log.stop())

/** The connection's local port as the server sees it, and an echoed value. */
const WHO = 'select inet_client_port() as port, $1::int as n'
const WHO_SLOW = 'select inet_client_port() as port, $1::int as n, pg_sleep(0.1)::text as slept'
interface Row {
  port: number
  n: number
}

describe.skipIf(skip)('pg Pool', () => {
  it('connections opened at boot read 0 (and are never set) after scoped queries used them all', async (ctx) => {
    const t = perTest(ctx)
    const p = pool(t, 2)
    const boot = await Promise.all([p.connect(), p.connect()]) // outside any scope
    for (const c of boot) c.release()
    const sockets = poolSockets(p)
    expect(sockets).toHaveLength(2)
    const log = binds(t)

    const seen: { row: Row; scope: number | undefined }[] = []
    for (let round = 0; round < 3; round++) {
      // Two at once, each sleeping: both connections serve scoped queries.
      const batch = await Promise.all(
        [1, 2].map((i) =>
          withTimeout(7, async () => {
            const r = await p.query<Row>(WHO_SLOW, [round * 10 + i])
            return { row: r.rows[0], scope: currentTimeout() }
          }),
        ),
      )
      seen.push(...batch)
    }
    expect(seen.map((s) => s.row.n)).toEqual([1, 2, 11, 12, 21, 22])
    expect(new Set(seen.map((s) => s.scope))).toEqual(new Set([7000]))
    // The scoped queries ran on the two boot connections, and only on them.
    expect(new Set(seen.map((s) => s.row.port))).toEqual(new Set(sockets.map((s) => s.localPort)))
    expect(p.totalCount).toBe(2)
    expect(sockets.map((s) => getUserTimeout(s))).toEqual([0, 0])
    expect(sockets.flatMap((s) => log.on(s))).toEqual([])
  })

  it('a connection the pool opens lazily inside withTimeout(9) reads 9000, and keeps it for later work (never re-bound)', async (ctx) => {
    const t = perTest(ctx)
    const p = pool(t, 1)
    const log = binds(t)
    const first = await withTimeout(9, () => p.query<Row>(WHO, [1]))
    const [socket] = poolSockets(p)
    expect(socket).toBeDefined()
    expect(first.rows[0]).toEqual({ port: socket.localPort, n: 1 })
    expect(getUserTimeout(socket)).toBe(9000)

    const unscoped = await p.query<Row>(WHO, [2])
    const inUnscoped = getUserTimeout(socket)
    const other = await withTimeout(3, async () => {
      const r = await p.query<Row>(WHO, [3])
      return { row: r.rows[0], inScope: getUserTimeout(socket) }
    })
    expect([unscoped.rows[0], other.row]).toEqual([
      { port: socket.localPort, n: 2 },
      { port: socket.localPort, n: 3 },
    ])
    // The gem's rule for raw sockets: bound at connect, never re-bound.
    expect([inUnscoped, other.inScope, getUserTimeout(socket)]).toEqual([9000, 9000, 9000])
    expect(log.on(socket)).toEqual([9000])
    expect(p.totalCount).toBe(1)
  })

  it("two connections opened at once by two scopes each hold their own scope's value", async (ctx) => {
    const t = perTest(ctx)
    const p = pool(t, 2)
    const [a, b] = await Promise.all([
      withTimeout(4, () => p.query<Row>(WHO_SLOW, [4])),
      withTimeout(6, () => p.query<Row>(WHO_SLOW, [6])),
    ])
    expect([a.rows[0].n, b.rows[0].n]).toEqual([4, 6])
    expect(a.rows[0].port).not.toBe(b.rows[0].port)
    const byPort = new Map(poolSockets(p).map((s) => [s.localPort, s]))
    expect(byPort.size).toBe(2)
    expect([getUserTimeout(byPort.get(a.rows[0].port)!), getUserTimeout(byPort.get(b.rows[0].port)!)]).toEqual([
      4000, 6000,
    ])
  })

  it('a pool opened at boot after setGlobalDefault(11) holds 11000 through scoped queries', async (ctx) => {
    const t = perTest(ctx)
    setGlobalDefault(11)
    t.add(() => setGlobalDefault(null))
    const p = pool(t, 1)
    const boot = await p.connect()
    boot.release()
    const [socket] = poolSockets(p)
    const r = await withTimeout(5, () => p.query<Row>(WHO, [5]))
    expect(r.rows[0]).toEqual({ port: socket.localPort, n: 5 })
    expect(getUserTimeout(socket)).toBe(11000)
  })
})

describe.skipIf(skip)('pg Client', () => {
  it('connected inside a scope reads its value; connected at boot reads 0, even when scoped queries use it', async (ctx) => {
    const t = perTest(ctx)
    const boot = client(t)
    await boot.connect()
    const connectedInScope = client(t) // constructed outside: what counts is where connect() runs
    await withTimeout(5, () => connectedInScope.connect())
    const madeInScope = await withTimeout(8, async () => {
      const c = client(t)
      await c.connect()
      return c
    })

    const rows = await withTimeout(3, () =>
      Promise.all([boot, connectedInScope, madeInScope].map(async (c, i) => (await c.query<Row>(WHO, [i])).rows[0])),
    )
    const sockets = [boot, connectedInScope, madeInScope].map(socketOf)
    expect(rows).toEqual(sockets.map((s, i) => ({ port: s.localPort, n: i })))
    expect(sockets.map((s) => getUserTimeout(s))).toEqual([0, 5000, 8000])
  })
})
