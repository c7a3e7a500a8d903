/**
 * Real kernel, root: ghost connections. Each case gets its own network
 * namespace (only `lo`) and a child Node process inside it
 * (fixtures/ghosts.mjs) holding an HTTP server on 127.0.0.1 and all its
 * clients in one process. The parent runs `ip link set lo down` in that
 * namespace: every client is gone for the server, which now holds ghosts.
 *
 *   busy: 2,000 clients, each receiving a response the server streams
 *         (a chunk every 250 ms, so there is always unacknowledged data).
 *         hardenServer(server, { userTimeoutSeconds: 2 }).
 *   idle: 500 keep-alive connections that made one request each.
 *         hardenServer(server, { keepAlive: { idleSeconds: 1, intervalSeconds: 1, count: 2 } })
 *         (user timeout: 1 + 1 * 2 = 3 s).
 *
 * Hardened, every server-side socket is closed within 5 s of the cut
 * (server.getConnections() polled in the child every 100 ms, cross-checked
 * with `ss` inside the namespace) and counted in stats().reaped; the fd count
 * comes back to its baseline; with `lo` back up the server answers a new
 * connection. Unhardened, the server still holds every one of them 10 s on.
 * Hardened and unhardened run concurrently.
 *
 * Skips where namespaces are unusable (helpers/namespaces.ts: never in CI).
 */
import { execFile } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, it, type ExpectStatic } from 'vitest'
import type { ChildEvent, NetnsChild } from '@tcp-user-timeout/test-utils/netns'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils/teardown'
import { childInNetns, netnsGate } from '../helpers/namespaces.js'

const execFileAsync = promisify(execFile)
const FIXTURE = fileURLToPath(new URL('./fixtures/ghosts.mjs', import.meta.url))
const netns = netnsGate('ghosts', 'the ghost-connection tests')

const BUSY = 2000
const IDLE = 500
const READY_MS = 30_000
const RECLAIM_BOUND_MS = 5000
// How long 'drained' is waited for: past the bound, so a late reclaim is measured, not just failed.
const DRAINED_WAIT_MS = 10_000
const HOLD_MS = 10_000
const TEST_MS = 90_000

type Mode = 'busy' | 'idle'

async function start(
  t: Teardown,
  mode: Mode,
  hardened: boolean,
  clients: number,
): Promise<{ child: NetnsChild; ready: ChildEvent }> {
  const child = await childInNetns(t, FIXTURE, [mode, hardened ? '1' : '0', String(clients)])
  // A child that failed ('fatal', also on its stderr) exits: this rejects with its stderr.
  return { child, ready: await child.next('ready', READY_MS) }
}

/** Server-side ESTABLISHED sockets on `port` inside the namespace, as the kernel lists them. */
async function established(ns: string, port: number): Promise<number> {
  const { stdout } = await execFileAsync(
    'ip',
    ['netns', 'exec', ns, 'ss', '-Htn', 'state', 'established', '(', 'sport', '=', `:${port}`, ')'],
    {
      timeout: 5000,
      maxBuffer: 16 * 1024 * 1024,
    },
  )
  return stdout.split('\n').filter((line) => line.trim() !== '').length
}

async function linkUp(ns: string): Promise<void> {
  await execFileAsync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'], { timeout: 5000 })
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

describe.skipIf(netns.skip)(
  'ghost connections: lo cut under a server holding many clients',
  { concurrent: true },
  () => {
    netns.requireInSuite()

    async function hardenedCase(
      t: Teardown,
      mode: Mode,
      clients: number,
      label: string,
      expectedBound: number,
      expect: ExpectStatic,
    ) {
      const { child, ready } = await start(t, mode, true, clients)
      const port = Number(ready.port)
      expect(ready).toMatchObject({
        clients,
        connections: clients,
        bound: expectedBound,
        stats: { hardened: clients, reaped: 0 },
      })
      expect(await established(child.ns, port)).toBe(clients)

      const cutAt = await child.cut()
      const drained = await child.next('drained', DRAINED_WAIT_MS)
      const parentMs = Math.round(performance.now() - cutAt)
      const ssAfter = await established(child.ns, port)
      console.log(
        `[ghosts] ${mode}, ${clients}, hardened ${label}: ` +
          `all closed ${seconds(Number(drained.lastCloseMs))} after the cut ` +
          `(first ${seconds(Number(drained.firstCloseMs))}; ` +
          `getConnections() 0 at ${seconds(Number(drained.polledMs))}; ` +
          `parent saw it ${seconds(parentMs)} after the cut; ss: ${ssAfter} ` +
          `established; closed with ${JSON.stringify(drained.closeCodes)})`,
      )
      expect(parentMs).toBeLessThanOrEqual(RECLAIM_BOUND_MS)
      expect(ssAfter).toBe(0)
      // Every one closed by the kernel with ETIMEDOUT, counted and published as inbound.
      expect(drained).toMatchObject({
        stats: { hardened: clients, reaped: clients, timedOut: clients },
        inbound: clients,
        timeouts: clients,
        timeoutMs: [expectedBound],
      })

      // File descriptors. At the drain only the client ends (still ESTABLISHED:
      // they have nothing to send) are left over the baseline; the child then
      // destroys them, and the count must be the baseline again.
      const fds = await child.next('fds', 10_000)
      console.log(
        `[ghosts] ${mode}, ${clients}, hardened ${label}: ` +
          `fds baseline ${fds.baseline} (after listen, before the clients), ` +
          `${fds.atDrain} when the server held none (${fds.clientsOpenAtDrain} client ` +
          `sockets open), ${fds.afterClientsDestroyed} once those were destroyed`,
      )
      expect(fds.clientsOpenAtDrain).toBe(clients)
      expect(Number(fds.atDrain) - Number(fds.baseline)).toBe(clients)
      expect(fds.afterClientsDestroyed).toBe(fds.baseline)

      // The server itself is fine: with lo back up, a new connection is served.
      await linkUp(child.ns)
      child.send({ cmd: 'probe' })
      const probe = await child.next('probe', 10_000)
      expect(probe).toMatchObject({ status: 200, body: 'ok', hardened: clients + 1 })
    }

    async function unhardenedCase(t: Teardown, mode: Mode, clients: number, expect: ExpectStatic) {
      const { child, ready } = await start(t, mode, false, clients)
      const port = Number(ready.port)
      expect(ready).toMatchObject({ clients, connections: clients, bound: 0, stats: { hardened: 0 } })
      const cutAt = await child.cut()
      await sleep(HOLD_MS)
      child.send({ cmd: 'count' })
      const count = await child.next('count', 10_000)
      const ss = await established(child.ns, port)
      const parentMs = Math.round(performance.now() - cutAt)
      console.log(
        `[ghosts] ${mode}, ${clients}, unhardened: ${count.connections} still ` +
          `held ${seconds(parentMs)} after the cut (ss: ${ss} established, fds ${count.fds})`,
      )
      expect(count).toMatchObject({ connections: clients, stats: { reaped: 0, timedOut: 0 } })
      expect(ss).toBe(clients)
      expect(child.events.find((e) => e.event === 'drained')).toBeUndefined()
    }

    it(
      `busy: ${BUSY} streaming clients, hardenServer({ userTimeoutSeconds: 2 }): ` +
        `all reaped within 5 s of the cut, fds back to baseline, server still serves`,
      { timeout: TEST_MS },
      async (ctx) => {
        await hardenedCase(perTest(ctx), 'busy', BUSY, '2 s', 2000, ctx.expect)
      },
    )

    it(
      `busy: ${BUSY} streaming clients, unhardened: all ${BUSY} still held 10 s after the cut`,
      { timeout: TEST_MS },
      async (ctx) => {
        await unhardenedCase(perTest(ctx), 'busy', BUSY, ctx.expect)
      },
    )

    it(
      `idle: ${IDLE} keep-alive connections, hardenServer({ keepAlive: ` +
        `1/1/2 }): all reaped within 5 s of the cut, fds back to baseline`,
      { timeout: TEST_MS },
      async (ctx) => {
        await hardenedCase(perTest(ctx), 'idle', IDLE, 'keep-alive 1/1/2, 3 s', 3000, ctx.expect)
      },
    )

    it(
      `idle: ${IDLE} keep-alive connections, unhardened: all ${IDLE} still held 10 s after the cut`,
      { timeout: TEST_MS },
      async (ctx) => {
        await unhardenedCase(perTest(ctx), 'idle', IDLE, ctx.expect)
      },
    )
  },
)
