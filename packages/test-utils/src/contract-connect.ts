import { once } from 'node:events'
import net from 'node:net'
import { describe, it } from 'vitest'
import { get, startApp } from './app.js'
import { startBlackHole } from './black-hole.js'
import type { AdapterHarness } from './harness.js'
import { perTest } from './teardown.js'

const BUDGET_S = 2
const SLACK_MS = 1500

/** The connect phase is bounded: a handler whose upstream never answers its SYN fails within the budget. */
export function connectContract<Req>(harness: AdapterHarness<Req>): void {
  describe('an upstream that never answers the handshake', { concurrent: true }, () => {
    it(`a handler connecting to a black hole answers 5xx within the budget (${BUDGET_S} s) + ${SLACK_MS} ms, with ETIMEDOUT`, async (ctx) => {
      const t = perTest(ctx)
      const hole = await startBlackHole(t)
      const app = await startApp(t, harness, {
        use: [{ seconds: BUDGET_S }],
        routes: [
          get('/upstream', async () => {
            const socket = t.defer(net.connect(hole.port, hole.hosts[0]), (s) => s.destroy())
            await once(socket, 'connect')
            return { connected: true }
          }),
        ],
        onError: (error) => ({ code: (error as NodeJS.ErrnoException).code }),
      })
      const started = performance.now()
      const res = await app.client.get('/upstream')
      const elapsed = performance.now() - started
      ctx.expect(res.status).toBeGreaterThanOrEqual(500)
      ctx.expect(res.body).toEqual({ code: 'ETIMEDOUT' })
      ctx.expect(elapsed).toBeLessThanOrEqual(BUDGET_S * 1000 + SLACK_MS)
    })
  })
}
