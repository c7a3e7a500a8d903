/**
 * Global fetch through Node's own bundled undici (its Agent, Pool and Client
 * classes, not npm undici's): this file never loads the undici package's
 * entry, which would install its Agent as the global dispatcher. The first
 * test proves that the dispatcher fetch uses is Node's own.
 */
import { createRequire } from 'node:module'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { withTimeout } from '@tcp-user-timeout/core'
// Not the kit's main entry: it loads npm undici.
import { perSuite, perTest } from '@tcp-user-timeout/test-utils/teardown'
import { expectNoneCrossed } from './helpers/crossed.js'
import { readBackServer, trackClientSockets } from './helpers/http.js'
import { describeHttpClients } from './helpers/http-suite.js'

// Node 20–24 keep their Agent under .1; Node 26 (undici 8) under .2, with a
// compatibility wrapper under .1.
const GLOBAL_DISPATCHERS = [Symbol.for('undici.globalDispatcher.1'), Symbol.for('undici.globalDispatcher.2')]
const require = createRequire(import.meta.url)

const clientSockets = perSuite().defer(trackClientSockets(), (c) => c.stop())

type Dispatch = (options: { path: string }, handler: unknown) => boolean

interface BundledAgent {
  dispatch: Dispatch
  close(): Promise<void>
  constructor: new (options: { connections: number }) => BundledAgent
}

/** Node's own Agent: the global dispatcher, once a fetch has made it. */
async function bundledAgent(): Promise<BundledAgent> {
  await fetch('data:,warm')
  const agent = GLOBAL_DISPATCHERS.map((key) => (globalThis as Record<symbol, unknown>)[key])
    .filter((d) => d !== undefined)
    .at(-1)
  expect(agent, 'no global dispatcher after a fetch').toBeDefined()
  return agent as BundledAgent
}

/** Modules loaded from a node_modules copy of undici (any package manager's layout). */
function npmUndiciModules(): string[] {
  return Object.keys(require.cache).filter((file) =>
    /[\\/]node_modules[\\/](?:\.pnpm[\\/][^\\/]+[\\/]node_modules[\\/])?undici[\\/]/.test(file),
  )
}

/**
 * npm undici's Agent class, loaded from its own file: the package's entry
 * (lib/global.js) would install an Agent of its own as the global
 * dispatcher where none is yet.
 */
function npmUndiciAgent(): abstract new (...args: never[]) => unknown {
  return require(path.join(path.dirname(require.resolve('undici')), 'lib', 'dispatcher', 'agent.js'))
}

describe(`global fetch, Node's bundled undici ${process.versions.undici}`, () => {
  it("the global dispatcher is Node's own Agent: no undici module was loaded from node_modules", async (ctx) => {
    const t = perTest(ctx)
    const agent = await bundledAgent()
    // Nothing from node_modules can have made it: no npm undici module is
    // loaded (until npmUndiciAgent() below, which only reads the class).
    expect(npmUndiciModules()).toEqual([])
    expect(agent.constructor.name).toBe('Agent')
    expect(agent, "the global dispatcher is npm undici's Agent").not.toBeInstanceOf(npmUndiciAgent())

    // It is what global fetch dispatches through, and the scope binds the
    // socket that fetch used: read on that client socket while in flight.
    const dispatched: string[] = []
    const dispatch = agent.dispatch
    agent.dispatch = function (this: BundledAgent, options, handler) {
      dispatched.push(options.path)
      return dispatch.call(this, options, handler)
    }
    t.add(() => {
      agent.dispatch = dispatch
    })
    const server = await readBackServer(t, clientSockets)
    expect(await withTimeout(6, async () => (await fetch(`${server.origin}/bundled`)).text())).toBe('ok /bundled')
    expect(dispatched).toEqual(['/bundled'])
    expect(server.exchanges.get('/bundled')?.inFlight).toBe(6000)
  })

  it("200 concurrent scopes through Node's own Agent({ connections: 2 }): zero crossed", async (ctx) => {
    const t = perTest(ctx)
    const Agent = (await bundledAgent()).constructor
    const dispatcher = t.defer(new Agent({ connections: 2 }), (d) => d.close())
    const server = await readBackServer(t, clientSockets)
    await expectNoneCrossed(server, async (path) =>
      (await fetch(server.origin + path, { dispatcher } as unknown as RequestInit)).text(),
    )
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
