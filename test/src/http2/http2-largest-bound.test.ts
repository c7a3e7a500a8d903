/**
 * node:http2 client sessions through each adapter: 200 concurrent requests
 * with distinct budgets over one session (largest-bound.ts), h2c with and
 * without a global default, and over TLS.
 */
import { describe, it } from 'vitest'
import { FRAMEWORKS } from './frameworks.js'
import { largestBoundInFlight } from './largest-bound.js'
import { H2C, H2_TLS } from './links.js'

// Sequential: the global default and stats() are process-wide.
describe.each(FRAMEWORKS)('%s, one HTTP/2 session shared by 200 requests', (framework) => {
  it(`${H2C.name}: the socket holds the largest budget in flight, then 0`, async (ctx) => {
    await largestBoundInFlight(ctx, framework, H2C)
  })
  it(`${H2C.name}, setGlobalDefault(7): then 7000`, async (ctx) => {
    await largestBoundInFlight(ctx, framework, H2C, 7)
  })
  it(`${H2_TLS.name}: the socket holds the largest budget in flight, then 0`, async (ctx) => {
    await largestBoundInFlight(ctx, framework, H2_TLS)
  })
})
