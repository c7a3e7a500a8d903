/**
 * An HTTP/2 stream opened at boot outside any request, which the upstream
 * keeps open, on the session the requests share (boot-stream.ts).
 */
import { describe, it } from 'vitest'
import { bootStreamSetsNoBound } from './boot-stream.js'
import { FRAMEWORKS } from './frameworks.js'
import { H2C } from './links.js'

// Sequential: the global default and stats() are process-wide.
describe.each(FRAMEWORKS)('%s, an HTTP/2 stream opened at boot', (framework) => {
  it(`${H2C.name}: it sets no bound; beside it, requests get their largest, then 0`, async (ctx) => {
    await bootStreamSetsNoBound(ctx, framework, H2C)
  })
  it(`${H2C.name}, setGlobalDefault(7): it leaves 7000; requests get their largest, then 7000`, async (ctx) => {
    await bootStreamSetsNoBound(ctx, framework, H2C, 7)
  })
})
