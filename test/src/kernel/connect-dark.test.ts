/**
 * The connect phase against a peer that is gone (root): two network
 * namespaces joined by a veth pair whose far end is down, so every SYN to
 * the far address is lost without an answer. Inside withTimeout(2) the
 * connect fails with ETIMEDOUT within 2 + 1.5 s; without a bound it is still
 * pending at 6 s. The rootless black hole is in connect-phase.test.ts.
 */
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { perTest } from '@tcp-user-timeout/test-utils/teardown'
import { childInExistingNetns, netnsGate } from '../helpers/namespaces.js'
import { canLinkNamespaces, createLinkedNamespaces } from '../helpers/veth.js'

const { skip } = netnsGate('connect-dark', 'the dead-peer connect test', canLinkNamespaces())

const SCRIPT = fileURLToPath(new URL('./fixtures/connect-dark.mjs', import.meta.url))
const PORT = 5432

it.skipIf(skip)(
  'a connect to a host whose link is down: ETIMEDOUT within 2 + 1.5 s inside withTimeout(2); pending at 6 s without',
  async (ctx) => {
    const t = perTest(ctx)
    const pair = await createLinkedNamespaces(t)
    await pair.cut()
    const child = await childInExistingNetns(t, pair.a.ns, SCRIPT, [pair.b.address, String(PORT)])
    const bounded = await child.next('bounded', 10_000)
    const unbounded = await child.next('unbounded', 10_000)
    console.log(
      `[connect-dark] withTimeout(2): ${bounded.code} after ${Math.round(bounded.ms as number)} ms; ` +
        `unbounded: ${unbounded.pending ? 'pending' : 'settled'} at ${Math.round(unbounded.ms as number)} ms`,
    )
    expect(bounded.code).toBe('ETIMEDOUT')
    expect(bounded.ms).toBeGreaterThanOrEqual(1950)
    expect(bounded.ms).toBeLessThanOrEqual(3500)
    expect(unbounded.pending).toBe(true)
  },
  30_000,
)
