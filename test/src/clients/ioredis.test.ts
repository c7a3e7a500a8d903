/**
 * ioredis against the Redis on this machine. ioredis opens its socket with
 * `net.createConnection()` when it connects: in its constructor (default), at
 * the first command (`lazyConnect: true`), and again after a lost connection
 * (auto-reconnect, from a timer set in the old socket's 'close' handler). The
 * raw-socket rule applies to each socket: bound when connect() runs inside a
 * scope, never re-bound.
 *
 * The socket is `redis.stream`, matched with the address the server reports
 * for the connection (`CLIENT INFO` addr=).
 */
import { once } from 'node:events'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { currentTimeout, getUserTimeout, withTimeout } from '@tcp-user-timeout/core'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils'
import { REDIS, redisConfig, skipWithout } from '../helpers/services.js'
import { recordBinds, type BindLog } from './helpers/binds.js'

const skip = await skipWithout('ioredis', REDIS)

const prefix = `tut:clients:${process.pid}:`
function redis(t: Teardown, options: { lazyConnect?: boolean } = {}): Redis {
  const r = t.defer(new Redis({ ...redisConfig, maxRetriesPerRequest: 3, ...options }), (c) => c.disconnect())
  r.on('error', () => {}) // reconnects log through 'error'; the tests assert on values
  return r
}
/** A key of this run, deleted through `r` (before `r` disconnects) with `t`. */
function key(t: Teardown, r: Redis, name: string): string {
  const k = prefix + name
  t.add(async () => {
    if (r.status === 'ready') await r.del(k).catch(() => {})
  })
  return k
}
const binds = (t: Teardown): BindLog => t.defer(recordBinds(), (log) => log.stop())

/** Resolves once the client is ready (at once if it is); bounded. */
async function ready(r: Redis, ms = 5000): Promise<void> {
  if (r.status === 'ready') return
  await once(r, 'ready', { signal: AbortSignal.timeout(ms) })
}

/** The client's port as the server sees it (CLIENT INFO addr=). */
async function serverSidePort(r: Redis): Promise<number> {
  const info = await r.client('INFO')
  const addr = /(?:^|\s)addr=\S+:(\d+)(?:\s|$)/.exec(info)
  expect(addr, `no addr= in CLIENT INFO: ${info}`).not.toBeNull()
  return Number(addr![1])
}

const socketOf = (r: Redis) => r.stream

describe.skipIf(skip)('ioredis', () => {
  it('a client connected at boot stays 0 (never set) through scoped commands', async (ctx) => {
    const t = perTest(ctx)
    const boot = redis(t)
    await ready(boot)
    const socket = socketOf(boot)
    const log = binds(t)
    const k = key(t, boot, 'boot')
    const n = key(t, boot, 'boot-n')
    const seen = await withTimeout(7, async () => {
      await boot.set(k, 'v1')
      return {
        v: await boot.get(k),
        n: await boot.incr(n),
        scope: currentTimeout(),
        port: await serverSidePort(boot),
        inScope: getUserTimeout(socketOf(boot)),
      }
    })
    expect(seen).toEqual({ v: 'v1', n: 1, scope: 7000, port: socket.localPort, inScope: 0 })
    expect(socketOf(boot)).toBe(socket)
    expect(getUserTimeout(socket)).toBe(0)
    expect(log.on(socket)).toEqual([])
  })

  it('a client created inside withTimeout(5) is bound to 5000 and keeps it for commands in other scopes or none', async (ctx) => {
    const t = perTest(ctx)
    const scoped = withTimeout(5, () => redis(t))
    await ready(scoped)
    const socket = socketOf(scoped)
    expect(getUserTimeout(socket)).toBe(5000)

    const k = key(t, scoped, 'scoped')
    await scoped.set(k, 'a')
    const inOther = await withTimeout(9, async () => ({
      v: await scoped.get(k),
      value: getUserTimeout(socketOf(scoped)),
    }))
    const port = await serverSidePort(scoped)
    expect(inOther).toEqual({ v: 'a', value: 5000 })
    expect(port).toBe(socket.localPort)
    expect(socketOf(scoped)).toBe(socket)
    expect(getUserTimeout(socket)).toBe(5000)
  })

  it('auto-reconnect: a boot client killed during a scoped command reconnects with 0; a scoped client reconnects with its own value', async (ctx) => {
    const t = perTest(ctx)
    const admin = redis(t)
    const boot = redis(t)
    const scoped = withTimeout(5, () => redis(t))
    await Promise.all([ready(admin), ready(boot), ready(scoped)])
    const [bootId, scopedId] = await Promise.all([boot.client('ID'), scoped.client('ID')])
    const oldBoot = socketOf(boot)
    const oldScoped = socketOf(scoped)
    expect([getUserTimeout(oldBoot), getUserTimeout(oldScoped)]).toEqual([0, 5000])

    // A blocking command from a scope is in flight on each when the server kills them.
    const blocked = [boot, scoped].map((r) =>
      withTimeout(9, () => r.blpop(key(t, admin, 'never-pushed'), 1)).then(
        () => 'answered',
        (e: Error) => e.message,
      ),
    )
    const reconnected = Promise.all([
      once(boot, 'ready', { signal: AbortSignal.timeout(8000) }),
      once(scoped, 'ready', { signal: AbortSignal.timeout(8000) }),
    ])
    // Let both BLPOPs reach the server (bounded poll: there is no event for it).
    for (let i = 0; i < 100; i++) {
      const list = (await admin.client('LIST')) as string
      if ((list.match(/cmd=blpop/g) ?? []).length >= 2) break
      await new Promise((r) => setTimeout(r, 20))
    }
    await withTimeout(3, () => admin.client('KILL', 'ID', String(bootId)))
    await withTimeout(3, () => admin.client('KILL', 'ID', String(scopedId)))
    await reconnected
    await Promise.all(blocked)

    expect(socketOf(boot)).not.toBe(oldBoot)
    expect(socketOf(scoped)).not.toBe(oldScoped)
    const [bootPort, scopedPort] = await Promise.all([serverSidePort(boot), serverSidePort(scoped)])
    expect([bootPort, scopedPort]).toEqual([socketOf(boot).localPort, socketOf(scoped).localPort])
    expect([getUserTimeout(socketOf(boot)), getUserTimeout(socketOf(scoped))]).toEqual([0, 5000])
    expect(await boot.ping()).toBe('PONG')
  })

  it("lazyConnect: the socket opens at the first command, so that command's scope binds it (connect() runs there)", async (ctx) => {
    const t = perTest(ctx)
    const lazyAtBoot = redis(t, { lazyConnect: true })
    expect(lazyAtBoot.status).toBe('wait')
    const first = await withTimeout(6, () => lazyAtBoot.ping())
    expect(first).toBe('PONG')
    const socket = socketOf(lazyAtBoot)
    expect(await serverSidePort(lazyAtBoot)).toBe(socket.localPort)
    expect(getUserTimeout(socket)).toBe(6000)

    // Connected explicitly at boot, a lazy client is a boot socket like any other.
    const connectedAtBoot = redis(t, { lazyConnect: true })
    await connectedAtBoot.connect()
    expect(await withTimeout(6, () => connectedAtBoot.ping())).toBe('PONG')
    expect(getUserTimeout(socketOf(connectedAtBoot))).toBe(0)
  })
})
