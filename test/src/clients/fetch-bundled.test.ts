/**
 * Global fetch through Node's own bundled undici (its Agent, Pool and Client
 * classes, not npm undici's): this file never imports the undici package,
 * which would install its Agent as the global dispatcher. The first test
 * checks that only Node's own dispatcher existed before the first fetch.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { closeAll } from '../helpers/servers.js'
import { trackClientSockets } from './helpers/http.js'
import { describeHttpClients } from './helpers/http-suite.js'

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1')
const installedBefore = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER]

const clientSockets = trackClientSockets()
afterAll(async () => {
  clientSockets.stop()
  await closeAll()
})

describe(`global fetch, Node's bundled undici ${process.versions.undici}`, () => {
  it('no dispatcher but Node\'s own was installed before this file\'s first fetch (so fetch uses the bundled one)', () => {
    // Node 20 makes its Agent at the first fetch; Node 22+ as soon as an
    // undici:* diagnostics channel has a subscriber, which the core's hooks are.
    if (installedBefore === undefined) return
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22)
    expect((installedBefore as object).constructor.name).toBe('Agent')
  })
})

describeHttpClients(
  [
    {
      name: 'global fetch (default dispatcher, no connection limit)',
      queuedKeepsScope: false,
      yieldBetween: true,
      open: (origin) => ({ get: async (path) => (await fetch(origin + path)).text() }),
    },
  ],
  clientSockets,
)
