/**
 * The write-side wedge through a real client: node-postgres sends a 32 MiB
 * text parameter through a TCP proxy (helpers/proxy.ts) to the PostgreSQL on
 * this machine, and the proxy stops reading from pg mid-message. Its receive
 * buffer fills, its window closes, and pg's data stays unacknowledged, which
 * is what TCP_USER_TIMEOUT bounds: the kernel gives up ~2.3 s after the
 * stall for a 2000 ms bound, and as zero-window probes back off, detection
 * may come later, hence the 2-4 s window below.
 *
 * - A connection the pool opened inside withTimeout(2): the query fails with
 *   ETIMEDOUT 2-4 s after the stall, the pool drops that connection, the
 *   timeout is counted and published, and the next query succeeds on a fresh
 *   connection.
 * - A connection opened at boot, with no scope: still pending after 8 s.
 * - A connection opened at boot, queried inside withTimeout(2): also still
 *   pending after 8 s, because a scope never binds a boot socket (docs/rules.md,
 *   "Which sockets get bound"); only the global default would.
 *
 * The three run concurrently, each with its own proxy and pool.
 */
import dc from 'node:diagnostics_channel'
import { once } from 'node:events'
import type net from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as delay } from 'node:timers/promises'
import pg from 'pg'
import { describe, it } from 'vitest'
import { CHANNEL_TIMEOUT, getUserTimeout, stats, withTimeout, type TimeoutMessage } from '@tcp-user-timeout/core'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils'
import { POSTGRES, postgresConfig, skipWithout } from '../helpers/services.js'
import { startProxy, type Proxy } from './helpers/proxy.js'

const skip = await skipWithout('pg-wedge', POSTGRES)

/** The parameter: far more than the kernel buffers on both sides (a few MiB each on loopback). */
const BIG = 'x'.repeat(32 * 1024 * 1024)
const BIG_QUERY = 'select length($1::text) as n'
/** The proxy forwards this much of the 32 MiB message, then stops reading: a stall mid-stream. */
const STALL_AFTER_BYTES = 256 * 1024
const PENDING_FOR_MS = 8000

async function setup(t: Teardown): Promise<{ proxy: Proxy; pool: pg.Pool }> {
  // Outside any scope: the proxy's sockets to PostgreSQL are boot sockets.
  const proxy = await startProxy(POSTGRES)
  const pool = t.defer(new pg.Pool({ ...postgresConfig, host: proxy.host, port: proxy.port, max: 1 }), (p) =>
    p.end().catch(() => {}),
  )
  pool.on('error', () => {}) // an idle connection destroyed at cleanup
  // Registered last, so closed first: destroying its sockets fails whatever is still stalled, so the pool can end.
  t.defer(proxy, (p) => p.close())
  return { proxy, pool }
}

const poolSockets = (pool: pg.Pool) =>
  (pool as unknown as { _clients: { connection: { stream: net.Socket } }[] })._clients.map((c) => c.connection.stream)

type Outcome = { ok: true; n: number; at: number } | { ok: false; error: NodeJS.ErrnoException; at: number }
function settle(query: Promise<pg.QueryResult<{ n: number }>>): Promise<Outcome> {
  return query.then(
    (r) => ({ ok: true, n: r.rows[0].n, at: performance.now() }),
    (error: NodeJS.ErrnoException) => ({ ok: false, error, at: performance.now() }),
  )
}

/** The outcome if it came within `ms`, else undefined. */
async function within(outcome: Promise<Outcome>, ms: number): Promise<Outcome | undefined> {
  const timer = new AbortController()
  const timeout = delay(ms, undefined, { signal: timer.signal }).catch(() => undefined)
  try {
    return await Promise.race([outcome, timeout])
  } finally {
    timer.abort()
  }
}

describe.skipIf(skip).concurrent('pg through a proxy that stops reading mid-query', () => {
  it('inside withTimeout(2): ETIMEDOUT 2-4 s after the stall, the pool drops the connection, the next query runs on a fresh one', async (ctx) => {
    const { expect } = ctx
    const t = perTest(ctx)
    const { proxy, pool } = await setup(t)
    const removed: unknown[] = []
    pool.on('remove', (client) => removed.push(client))
    const timeouts: TimeoutMessage[] = []
    const onTimeout = (m: unknown) => timeouts.push(m as TimeoutMessage)
    dc.subscribe(CHANNEL_TIMEOUT, onTimeout)
    t.add(() => dc.unsubscribe(CHANNEL_TIMEOUT, onTimeout))
    const timedOutBefore = stats().timedOut
    const run = await withTimeout(2, async () => {
      const first = await pool.query<{ n: number }>('select 1 as n') // the pool opens its connection here
      const [socket] = poolSockets(pool)
      const bound = getUserTimeout(socket)
      const port = socket.localPort
      // Not bound: stop here rather than wait for a query that would never fail.
      if (bound !== 2000) return { first: first.rows[0].n, socket, port, bound }
      const stall = proxy.stallAfter(STALL_AFTER_BYTES)
      const outcome = settle(pool.query<{ n: number }>(BIG_QUERY, [BIG]))
      const stalledAt = await stall.stalledAt
      return {
        first: first.rows[0].n,
        socket,
        port,
        bound,
        stalledAt,
        stalled: stall.pair,
        outcome: await within(outcome, 6000),
      }
    })
    expect(run.first).toBe(1)
    expect(run.bound).toBe(2000)
    // The proxy stalled pg's own connection (the proxy's accepted socket is pg's peer).
    expect(run.stalled?.clientPort).toBe(run.port)

    const { outcome } = run
    expect(outcome, 'no outcome within 6 s of the stall').toBeDefined()
    expect(outcome!.ok, 'the stalled query succeeded').toBe(false)
    if (outcome === undefined || outcome.ok || run.stalledAt === undefined) return
    const elapsed = outcome.at - run.stalledAt
    console.log(
      `[pg-wedge] 2000 ms scope: ${outcome.error.code} ${Math.round(elapsed)} ms after the proxy stopped reading`,
    )
    expect(outcome.error.code).toBe('ETIMEDOUT')
    expect(elapsed).toBeGreaterThanOrEqual(2000)
    expect(elapsed).toBeLessThanOrEqual(4000)

    // The pool dropped that connection.
    expect(pool.totalCount).toBe(0)
    if (removed.length === 0) await once(pool, 'remove', { signal: AbortSignal.timeout(5000) })
    expect(removed).toHaveLength(1)
    // Counted and published once pg's socket closed ('close' comes after 'error').
    if (!run.socket.closed) await once(run.socket, 'close', { signal: AbortSignal.timeout(5000) })
    expect(stats().timedOut).toBeGreaterThanOrEqual(timedOutBefore + 1)
    expect(timeouts.filter((m) => m.socket === run.socket).map((m) => m.ms)).toEqual([2000])

    // The next query, through the same proxy (new connections are forwarded normally), on a fresh connection.
    const again = await settle(pool.query<{ n: number }>(BIG_QUERY, [BIG]))
    expect(again.ok ? again.n : again.error).toBe(BIG.length)
    const [fresh] = poolSockets(pool)
    expect(fresh).toBeDefined()
    expect(fresh).not.toBe(run.socket)
    expect(proxy.accepted).toBe(2)
    expect(getUserTimeout(fresh)).toBe(0) // opened outside any scope
  })

  for (const variant of ['without a scope', 'on a boot connection queried inside withTimeout(2)'] as const) {
    it(`${variant}: the stalled query is still pending after ${PENDING_FOR_MS / 1000} s`, async (ctx) => {
      const { expect } = ctx
      const { proxy, pool } = await setup(perTest(ctx))
      const boot = await pool.connect() // at boot, outside any scope
      boot.release()
      const [socket] = poolSockets(pool)
      const stall = proxy.stallAfter(STALL_AFTER_BYTES)
      const big = () => settle(pool.query<{ n: number }>(BIG_QUERY, [BIG]))
      const outcome = variant === 'without a scope' ? big() : withTimeout(2, big)
      const stalledAt = await stall.stalledAt
      expect(stall.pair?.clientPort).toBe(socket.localPort)

      const early = await within(outcome, PENDING_FOR_MS - (performance.now() - stalledAt))
      const outcomeText = early ? (early.ok ? 'answered' : early.error.code) : 'still pending'
      console.log(
        `[pg-wedge] ${variant}: ${outcomeText} ${Math.round(performance.now() - stalledAt)} ms after the stall`,
      )
      expect(early).toBeUndefined()
      expect(getUserTimeout(socket)).toBe(0)
      expect(socket.destroyed).toBe(false)
      expect(socket.writableLength, "pg's data is not stuck in its socket").toBeGreaterThan(0)
      expect(pool.totalCount).toBe(1)

      // Clean up: the proxy destroys its sockets, pg's query fails, the pool can end.
      await proxy.close()
      const last = await within(outcome, 5000)
      expect(last?.ok).toBe(false)
    })
  }
})
