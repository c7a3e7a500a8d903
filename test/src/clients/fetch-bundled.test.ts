/**
 * Global fetch through Node's own bundled undici (its Agent, Pool and Client
 * classes, not npm undici's): this file never imports the undici package,
 * which would install its Agent as the global dispatcher. The first test
 * checks that no global dispatcher existed before fetch made its own.
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
  it('no dispatcher was installed before this file\'s first fetch (so fetch uses the bundled one)', () => {
    expect(installedBefore).toBeUndefined()
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
