/**
 * A grpc-js server-streaming watch opened at boot outside any request, on
 * the channel the requests' unary calls share (boot-stream.ts).
 */
// Its client patch is active once imported, as in an app that uses the package.
import '@tcp-user-timeout/grpc-js'
import { describe, it } from 'vitest'
import { bootStreamSetsNoBound } from './boot-stream.js'
import { FRAMEWORKS } from './frameworks.js'
import { GRPC } from './links.js'

// Sequential: the global default and stats() are process-wide.
describe.each(FRAMEWORKS)('%s, a grpc-js watch opened at boot', (framework) => {
  it('it sets no bound; beside it, unary calls get their largest, then 0', async (ctx) => {
    await bootStreamSetsNoBound(ctx, framework, GRPC.unary)
  })
  it('setGlobalDefault(7): it leaves 7000; unary calls get their largest, then 7000', async (ctx) => {
    await bootStreamSetsNoBound(ctx, framework, GRPC.unary, 7)
  })
})
