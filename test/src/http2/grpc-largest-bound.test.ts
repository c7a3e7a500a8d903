/**
 * @grpc/grpc-js channels through each adapter: 200 concurrent calls with
 * distinct budgets over one channel (largest-bound.ts), for unary,
 * server-streaming and bidi calls, with and without a global default. The
 * calls made while the channel connects are queued by grpc-js; with
 * @tcp-user-timeout/grpc-js imported, each still starts its stream in its
 * own caller's scope.
 */
// Its client patch is active once imported.
import '@tcp-user-timeout/grpc-js'
import { describe, it } from 'vitest'
import { FRAMEWORKS } from './frameworks.js'
import { largestBoundInFlight } from './largest-bound.js'
import { GRPC } from './links.js'

// Sequential: the global default and stats() are process-wide.
describe.each(FRAMEWORKS)('%s, one grpc-js channel shared by 200 calls', (framework) => {
  for (const transport of Object.values(GRPC)) {
    it(`${transport.name}: the socket holds the largest budget in flight, then 0`, async (ctx) => {
      await largestBoundInFlight(ctx, framework, transport)
    })
    it(`${transport.name}, setGlobalDefault(7): then 7000`, async (ctx) => {
      await largestBoundInFlight(ctx, framework, transport, 7)
    })
  }
})
