import dc from 'node:diagnostics_channel'
import { describe, it } from 'vitest'
import { CHANNEL_ERROR, type ErrorMessage } from '@tcp-user-timeout/core'
import { get, startApp } from './app.js'
import type { AdapterHarness } from './harness.js'
import { ownPools } from './pools.js'
import { probe, probed } from './probe.js'
import { perTest, type Teardown } from './teardown.js'
import { startUpstream } from './upstream.js'

/**
 * Reports of request-time values on tcp-user-timeout:error. Those carry no
 * socket; a failed implicit bind carries its socket and is not counted.
 */
function requestTimeReports(t: Teardown): ErrorMessage[] {
  const reports: ErrorMessage[] = []
  const onError = (message: unknown) => {
    if ((message as ErrorMessage).socket === null) reports.push(message as ErrorMessage)
  }
  dc.subscribe(CHANNEL_ERROR, onError)
  t.defer(onError, (fn) => dc.unsubscribe(CHANNEL_ERROR, fn))
  return reports
}

/**
 * A `seconds` callback decides the budget from the framework's own request
 * object; workerTimeoutSeconds makes the default leave the worker headroom;
 * a callback that returns garbage or throws falls back to the default,
 * reported once, and the request goes on.
 */
export function callbackContract<Req>(harness: AdapterHarness<Req>): void {
  describe('a seconds callback of the framework request', { concurrent: true }, () => {
    it('a number for some paths (120 s for /reports), undefined → the default, false → no scope', async (ctx) => {
      const t = perTest(ctx)
      const { origin } = await startUpstream(t)
      const seconds = harness.secondsFromPath((path) =>
        path.startsWith('/reports') ? 120 : path === '/public' ? false : undefined,
      )
      const paths = ['/reports', '/reports/daily', '/orders', '/public'] as const
      const app = await startApp(t, harness, {
        use: [{ seconds, workerTimeoutSeconds: 30 }],
        // Pools per route: the no-scope route must not open sockets the others reuse.
        routes: paths.map((path) => {
          const pools = ownPools(t)
          return get<Req>(path, () => probe(origin, pools))
        }),
      })
      const bodies = await Promise.all(
        paths.map(async (path) => (await app.client.get(`${path}?q=1`).expect(200)).body),
      )
      ctx.expect(bodies).toEqual([probed(120000), probed(120000), probed(25000), probed(null)])
    })
  })

  describe('workerTimeoutSeconds: the budget leaves the worker headroom', { concurrent: true }, () => {
    it.for([
      [30, 25000],
      [8, 7200],
    ] as const)('workerTimeoutSeconds %i → %i ms', async ([workerTimeoutSeconds, ms], ctx) => {
      const t = perTest(ctx)
      const { origin } = await startUpstream(t)
      const app = await startApp(t, harness, {
        use: [{ workerTimeoutSeconds }],
        routes: [get('/job', () => probe(origin))],
      })
      ctx.expect((await app.client.get('/job').expect(200)).body).toEqual(probed(ms))
    })
  })

  // Not concurrent: tcp-user-timeout:error is process-wide, and these tests
  // count every request-time report on it.
  describe('a seconds callback returning garbage or throwing', () => {
    const garbage: Record<string, unknown> = {
      '/string': '10',
      '/nan': NaN,
      '/negative': -1,
      '/zero': 0,
      '/infinity': Infinity,
      '/object': { seconds: 10 },
    }

    it('gets the default (headroom of workerTimeoutSeconds), reported once on tcp-user-timeout:error', async (ctx) => {
      const t = perTest(ctx)
      const reports = requestTimeReports(t)
      const { origin } = await startUpstream(t)
      const pools = ownPools(t)
      const app = await startApp(t, harness, {
        use: [{ seconds: harness.secondsFromPath((path) => garbage[path]), workerTimeoutSeconds: 30 }],
        routes: Object.keys(garbage).map((path) => get<Req>(path, () => probe(origin, pools))),
      })
      // One after the other, each twice: the first request reports, no later one does.
      for (const path of [...Object.keys(garbage), ...Object.keys(garbage)]) {
        ctx.expect((await app.client.get(path).expect(200)).body, path).toEqual(probed(25000))
      }
      ctx.expect(reports).toHaveLength(1)
      ctx.expect(reports[0]!.error).toMatchObject({ name: 'InvalidOptionError', code: 'TUT_ERR_INVALID_OPTION' })
      ctx
        .expect(reports[0]!.error.message)
        .toMatch(
          /the seconds callback returned "10"; it must return seconds > 0, undefined \(the default\) or false \(no scope\)/,
        )
    })

    it('a callback that throws: the default, reported once, the request unharmed', async (ctx) => {
      const t = perTest(ctx)
      const reports = requestTimeReports(t)
      const { origin } = await startUpstream(t)
      const app = await startApp(t, harness, {
        use: [
          {
            seconds: harness.secondsFromPath(() => {
              throw new Error('no tenant for this path')
            }),
            workerTimeoutSeconds: 8,
          },
        ],
        routes: [get('/orders', () => probe(origin))],
      })
      for (let i = 0; i < 3; i++) {
        ctx.expect((await app.client.get('/orders').expect(200)).body).toEqual(probed(7200))
      }
      ctx.expect(reports).toHaveLength(1)
      ctx
        .expect(reports[0]!.error.message)
        .toMatch(/the seconds callback threw \(no tenant for this path\); the default budget applies/)
    })
  })
}
