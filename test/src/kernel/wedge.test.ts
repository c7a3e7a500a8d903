/**
 * Real kernel, no root: the write-side wedge. A loopback server accepts and
 * never reads; the client writes until its send buffer is full, so its data
 * stays unacknowledged (zero window). With TCP_USER_TIMEOUT the kernel closes
 * the socket with ETIMEDOUT; without it nothing happens.
 *
 * The two cases run concurrently; neither touches the global default (that is
 * wedge-global.test.ts, in its own process).
 */
import dc from 'node:diagnostics_channel'
import net from 'node:net'
import { describe, it } from 'vitest'
import {
  CHANNEL_TIMEOUT,
  currentTimeout,
  getUserTimeout,
  globalDefault,
  stats,
  withTimeout,
  type TimeoutMessage,
} from '@tcp-user-timeout/core'
import { perTest } from '@tcp-user-timeout/test-utils'
import { startWedgeServer, watchSocket, wedge } from '../helpers/wedge.js'

describe.concurrent('write-side wedge (loopback, server never reads)', () => {
  it('inside withTimeout(1.5) the wedged client gets ETIMEDOUT 1.5-3 s after the wedge; counted and published', async ({
    expect,
    onTestFinished,
  }) => {
    const t = perTest({ onTestFinished })
    const srv = await startWedgeServer(t)
    const messages: TimeoutMessage[] = []
    const onTimeout = (m: unknown) => messages.push(m as TimeoutMessage)
    dc.subscribe(CHANNEL_TIMEOUT, onTimeout)
    t.add(() => dc.unsubscribe(CHANNEL_TIMEOUT, onTimeout))
    const timedOutBefore = stats().timedOut
    const client = srv.track(withTimeout(1.5, () => net.connect(srv.port, srv.host)))
    const watch = watchSocket(client)
    const { wedgedAt, bytes } = await wedge(client)
    // Read back from the kernel: the scope's value was set at 'connect'.
    expect(getUserTimeout(client)).toBe(1500)

    const failure = await watch.within(5000)
    expect(failure, 'no error within 5 s of the wedge').not.toBeNull()
    const elapsed = failure!.at - wedgedAt
    console.log(`[wedge] 1500 ms scope: ETIMEDOUT ${Math.round(elapsed)} ms after the wedge (${bytes} bytes written)`)
    expect(failure!.error.code).toBe('ETIMEDOUT')
    expect(elapsed).toBeGreaterThanOrEqual(1500)
    expect(elapsed).toBeLessThanOrEqual(3000)

    // Core counts and publishes in its 'close' listener.
    await watch.closed()
    expect(stats().timedOut).toBe(timedOutBefore + 1)
    const mine = messages.filter((m) => m.socket === client)
    expect(mine).toHaveLength(1)
    // The peer, captured at bind time (a closed socket knows it only if someone asked before).
    expect(mine[0]).toEqual({
      socket: client,
      ms: 1500,
      direction: 'outbound',
      remoteAddress: srv.host,
      remotePort: srv.port,
    })
  })

  it('without a bound (no scope, no global default) the wedged client gets no error within 5 s', async ({
    expect,
    onTestFinished,
  }) => {
    const t = perTest({ onTestFinished })
    const srv = await startWedgeServer(t)
    expect(currentTimeout()).toBeUndefined()
    expect(globalDefault()).toBeUndefined()
    const client = srv.track(net.connect(srv.port, srv.host))
    const watch = watchSocket(client)
    const { bytes } = await wedge(client)
    expect(getUserTimeout(client)).toBe(0)

    const failure = await watch.within(5000)
    console.log(
      `[wedge] unbounded: ${failure ? `error ${failure.error.code}` : 'no error'} within 5 s (${bytes} bytes written)`,
    )
    expect(failure).toBeNull()
    expect(client.destroyed).toBe(false)
    expect(client.writableLength).toBeGreaterThan(0)
  })
})
