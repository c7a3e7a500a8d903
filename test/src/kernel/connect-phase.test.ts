/**
 * The connect phase is bounded: the bound is set as soon as the socket's fd
 * exists (SYN-SENT), and Linux honours TCP_USER_TIMEOUT during the
 * handshake. Against a black hole (a stopped listener whose accept queue is
 * full: SYNs dropped silently, no root needed), every client path inside
 * withTimeout(2) fails with ETIMEDOUT within 2 + 1.5 s of connect(); the
 * same connect without a bound is still pending at 6 s (SYN retries go on
 * for about 130 s). Each case runs both side by side.
 */
import { once } from 'node:events'
import net from 'node:net'
import tls from 'node:tls'
import pg from 'pg'
import { Agent, fetch as undiciFetch } from 'undici'
import { describe, it, type TestContext } from 'vitest'
import { getUserTimeout, withTimeout } from '@tcp-user-timeout/core'
import { perTest, startBlackHole, type BlackHole } from '@tcp-user-timeout/test-utils'

const BOUND_S = 2
const SLACK_MS = 1500
const PENDING_AT_MS = 6000

interface Outcome {
  /** ms from connect() to the failure, or undefined if still pending. */
  failedAfter: number | undefined
  code: string | undefined
}

/** Runs `attempt`, which rejects when the connect fails, for at most `ms`. */
async function outcome(attempt: () => Promise<unknown>, ms: number): Promise<Outcome> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const pending = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), ms)))
  try {
    const result = await Promise.race([attempt().then(() => 'connected' as const), pending])
    if (result === 'connected') throw new Error('connected to the black hole: it is not one')
    return { failedAfter: undefined, code: undefined }
  } catch (error) {
    return { failedAfter: performance.now() - started, code: codeOf(error) }
  } finally {
    clearTimeout(timer)
  }
}

// fetch rejects with a TypeError whose cause is the socket's error.
function codeOf(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } }
  return e?.code ?? e?.cause?.code
}

/** A socket-returning connect, as a promise of its 'connect' (rejects on 'error'); destroyed with the test. */
function connecting(t: ReturnType<typeof perTest>, open: () => net.Socket): () => Promise<unknown> {
  return () => {
    const socket = t.defer(open(), (s) => s.destroy())
    return once(socket, socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect')
  }
}

async function expectBounded(
  ctx: TestContext,
  name: string,
  hole: BlackHole,
  attempt: (hole: BlackHole) => () => Promise<unknown>,
): Promise<void> {
  const [bounded, unbounded] = await Promise.all([
    withTimeout(BOUND_S, () => outcome(attempt(hole), BOUND_S * 1000 + SLACK_MS + 1000)),
    outcome(attempt(hole), PENDING_AT_MS),
  ])
  const unboundedText =
    unbounded.failedAfter === undefined
      ? `pending at ${PENDING_AT_MS} ms`
      : `${unbounded.code} after ${Math.round(unbounded.failedAfter)} ms`
  console.log(
    `[connect-phase] ${name}: withTimeout(${BOUND_S}) → ${bounded.code} ` +
      `after ${Math.round(bounded.failedAfter ?? NaN)} ms; unbounded: ${unboundedText}`,
  )
  ctx.expect(bounded.code).toBe('ETIMEDOUT')
  ctx.expect(bounded.failedAfter).toBeGreaterThanOrEqual(BOUND_S * 1000 - 50)
  ctx.expect(bounded.failedAfter).toBeLessThanOrEqual(BOUND_S * 1000 + SLACK_MS)
  ctx
    .expect(unbounded, 'the unbounded connect did not stay pending: the black hole answered')
    .toEqual({ failedAfter: undefined, code: undefined })
}

describe.concurrent('connect() to a black hole', () => {
  it('net.connect', async (ctx) => {
    const t = perTest(ctx)
    const hole = await startBlackHole(t)
    await expectBounded(ctx, 'net.connect', hole, (h) => connecting(t, () => net.connect(h.port, h.hosts[0])))
  })

  it('new net.Socket().connect() (what pg does)', async (ctx) => {
    const t = perTest(ctx)
    const hole = await startBlackHole(t)
    await expectBounded(ctx, 'new net.Socket().connect()', hole, (h) =>
      connecting(t, () => new net.Socket().connect(h.port, h.hosts[0])),
    )
  })

  it('tls.connect', async (ctx) => {
    const t = perTest(ctx)
    const hole = await startBlackHole(t)
    await expectBounded(ctx, 'tls.connect', hole, (h) =>
      connecting(t, () => tls.connect({ port: h.port, host: h.hosts[0], rejectUnauthorized: false })),
    )
  })

  it('a host name with two addresses (autoSelectFamily tries each, on a new fd each time)', async (ctx) => {
    const t = perTest(ctx)
    const hole = await startBlackHole(t, ['127.0.0.1', '127.0.0.2'])
    const attempts: number[] = []
    // Answers later, as DNS does (a synchronous answer starts the first attempt inside connect()).
    const lookup: net.LookupFunction = (_host, _options, callback) =>
      setImmediate(() =>
        (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(
          null,
          hole.hosts.map((address) => ({ address, family: 4 })),
        ),
      )
    await expectBounded(ctx, 'two addresses', hole, (h) =>
      connecting(t, () => {
        const socket = net.connect({
          host: 'black-hole.test',
          port: h.port,
          lookup,
          autoSelectFamily: true,
          autoSelectFamilyAttemptTimeout: 250,
        })
        // The value each attempt's fd holds, read right after the attempt started.
        socket.on('connectionAttempt', () => setImmediate(() => attempts.push(getUserTimeout(socket) ?? -1)))
        return socket
      }),
    )
    // Both runs made two attempts; the bounded run's fds held the bound.
    ctx.expect(attempts.filter((v) => v === BOUND_S * 1000)).toHaveLength(2)
    ctx.expect(attempts.filter((v) => v === 0)).toHaveLength(2)
  })

  it('fetch through an undici Agent whose own connect timeout is 30 s', async (ctx) => {
    const t = perTest(ctx)
    const hole = await startBlackHole(t)
    const dispatcher = t.defer(new Agent({ connect: { timeout: 30_000 } }), (a) => a.destroy())
    await expectBounded(
      ctx,
      'fetch (undici Agent, connect timeout 30 s)',
      hole,
      (h) => () => undiciFetch(`http://${h.hosts[0]}:${h.port}/`, { dispatcher }),
    )
  })

  it('pg.Client.connect() with connectionTimeoutMillis: 0', async (ctx) => {
    const t = perTest(ctx)
    const hole = await startBlackHole(t)
    await expectBounded(ctx, 'pg.Client.connect()', hole, (h) => () => {
      const client = new pg.Client({
        host: h.hosts[0],
        port: h.port,
        user: 'postgres',
        database: 'test',
        connectionTimeoutMillis: 0,
      })
      client.on('error', () => {})
      // end() waits for a connect that never comes: destroy its socket instead.
      t.defer(client, (c) => (c as unknown as { connection: { stream: net.Socket } }).connection.stream.destroy())
      return client.connect()
    })
  })
})
