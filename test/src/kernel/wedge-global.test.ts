/**
 * Real kernel, no root: the write-side wedge against the global default.
 * These tests change process-wide state (`setGlobalDefault`), so they live in
 * their own file (own process with pool 'forks') and run one after the other;
 * the default is put back to null after each.
 */
import dc from 'node:diagnostics_channel'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  CHANNEL_TIMEOUT,
  currentTimeout,
  getUserTimeout,
  globalDefault,
  setGlobalDefault,
  stats,
  withTimeout,
  type TimeoutMessage,
} from '@tcp-user-timeout/core'
import { perTest } from '@tcp-user-timeout/test-utils'
import { startWedgeServer, watchSocket, wedge } from '../helpers/wedge.js'

describe('write-side wedge and the global default', { concurrent: false }, () => {
  it('setGlobalDefault(1.5) kills a wedged write outside any scope: ETIMEDOUT 1.5-3 s after the wedge', async (ctx) => {
    const t = perTest(ctx)
    const srv = await startWedgeServer(t)
    const messages: TimeoutMessage[] = []
    const onTimeout = (m: unknown) => messages.push(m as TimeoutMessage)
    dc.subscribe(CHANNEL_TIMEOUT, onTimeout)
    t.add(() => {
      dc.unsubscribe(CHANNEL_TIMEOUT, onTimeout)
      setGlobalDefault(null)
    })
    setGlobalDefault(1.5)
    expect(globalDefault()).toBe(1500)
    expect(currentTimeout()).toBeUndefined()
    const timedOutBefore = stats().timedOut
    const client = srv.track(net.connect(srv.port, srv.host))
    const watch = watchSocket(client)
    const { wedgedAt } = await wedge(client)
    expect(getUserTimeout(client)).toBe(1500)

    const failure = await watch.within(5000)
    expect(failure, 'no error within 5 s of the wedge').not.toBeNull()
    const elapsed = failure!.at - wedgedAt
    console.log(`[wedge-global] 1500 ms global default: ETIMEDOUT ${Math.round(elapsed)} ms after the wedge`)
    expect(failure!.error.code).toBe('ETIMEDOUT')
    expect(elapsed).toBeGreaterThanOrEqual(1500)
    expect(elapsed).toBeLessThanOrEqual(3000)

    await watch.closed()
    expect(stats().timedOut).toBe(timedOutBefore + 1)
    expect(messages.filter((m) => m.socket === client).map((m) => m.ms)).toEqual([1500])
  })

  it('a 1 s scope tightens below a 60 s global default: ETIMEDOUT 1-2.5 s after the wedge', async (ctx) => {
    const t = perTest(ctx)
    const srv = await startWedgeServer(t)
    t.add(() => setGlobalDefault(null))
    setGlobalDefault(60)
    // An unscoped socket under the same default, for contrast: it gets 60 s.
    const unscoped = srv.track(net.connect(srv.port, srv.host))
    const unscopedWatch = watchSocket(unscoped)
    const client = srv.track(withTimeout(1, () => net.connect(srv.port, srv.host)))
    const watch = watchSocket(client)
    const [{ wedgedAt }] = await Promise.all([wedge(client), wedge(unscoped)])
    expect(getUserTimeout(client)).toBe(1000)
    expect(getUserTimeout(unscoped)).toBe(60_000)

    const failure = await watch.within(5000)
    expect(failure, 'no error within 5 s of the wedge').not.toBeNull()
    const elapsed = failure!.at - wedgedAt
    console.log(`[wedge-global] 1000 ms scope under 60 s default: ETIMEDOUT ${Math.round(elapsed)} ms after the wedge`)
    expect(failure!.error.code).toBe('ETIMEDOUT')
    expect(elapsed).toBeGreaterThanOrEqual(1000)
    expect(elapsed).toBeLessThanOrEqual(2500)
    // The unscoped socket, wedged as long, is still alive under its 60 s bound.
    expect(unscopedWatch.error).toBeUndefined()
    expect(unscoped.destroyed).toBe(false)
  })
})
