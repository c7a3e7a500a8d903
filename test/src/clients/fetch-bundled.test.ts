/**
 * Global fetch through Node's own bundled undici (its Agent, Pool and Client
 * classes, not npm undici's): this file never imports the undici package,
 * which would install its Agent as the global dispatcher. The first test
 * checks that the global dispatcher is Node's own.
 */
import { createRequire } from 'node:module'
import { afterAll, describe, expect, it } from 'vitest'
import { closeAll } from '../helpers/servers.js'
import { expectNoneCrossed } from './helpers/crossed.js'
import { readBackServer, trackClientSockets } from './helpers/http.js'
import { describeHttpClients } from './helpers/http-suite.js'

// Node 20–24 keep their Agent under .1; Node 26 (undici 8) under .2, with a
// compatibility wrapper under .1.
const GLOBAL_DISPATCHERS = [Symbol.for('undici.globalDispatcher.1'), Symbol.for('undici.globalDispatcher.2')]
const requireCache = createRequire(import.meta.url).cache

const clientSockets = trackClientSockets()
afterAll(async () => {
  clientSockets.stop()
  await closeAll()
})

interface BundledAgent {
  close(): Promise<void>
  constructor: new (options: { connections: number }) => BundledAgent
}

/** Node's own Agent: the global dispatcher, once a fetch has made it. */
async function bundledAgent(): Promise<BundledAgent> {
  await fetch('data:,warm')
  const agent = GLOBAL_DISPATCHERS.map((key) => (globalThis as Record<symbol, unknown>)[key]).filter((d) => d !== undefined).at(-1)
  expect(agent, 'no global dispatcher after a fetch').toBeDefined()
  return agent as BundledAgent
}

describe(`global fetch, Node's bundled undici ${process.versions.undici}`, () => {
  it("the global dispatcher is Node's own Agent: no undici module was loaded from node_modules", async () => {
    const agent = await bundledAgent()
    expect(agent.constructor.name).toBe('Agent')
    const npmUndici = Object.keys(requireCache).filter((file) => /[\\/]node_modules[\\/](?:\.pnpm[\\/][^\\/]+[\\/]node_modules[\\/])?undici[\\/]/.test(file))
    expect(npmUndici).toEqual([])
  })

  it("200 concurrent scopes through Node's own Agent({ connections: 2 }): zero crossed", async () => {
    const Agent = (await bundledAgent()).constructor
    const dispatcher = new Agent({ connections: 2 })
    try {
      const server = await readBackServer(clientSockets)
      await expectNoneCrossed(server, async (path) => (await fetch(server.origin + path, { dispatcher } as unknown as RequestInit)).text())
    } finally {
      await dispatcher.close()
    }
  })
})

describeHttpClients(
  [
    {
      name: 'global fetch (default dispatcher, no connection limit)',
      limited: false,
      yieldBetween: true,
      open: (origin) => ({ get: async (path) => (await fetch(origin + path)).text() }),
    },
  ],
  clientSockets,
)
