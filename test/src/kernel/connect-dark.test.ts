/**
 * The connect phase against a peer that is gone (root): two network
 * namespaces joined by a veth pair whose far end is down, so every SYN to
 * the far address is lost without an answer. Inside withTimeout(2) the
 * connect fails with ETIMEDOUT within 2 + 1.5 s; without a bound it is still
 * pending at 6 s. The rootless black hole is in connect-phase.test.ts.
 */
import { fileURLToPath } from 'node:url'
import { afterAll, expect, it } from 'vitest'
import { cleanupNetns, spawnInExistingNetns, type NetnsChild } from '@tcp-user-timeout/test-utils/netns'
import { canLinkNamespaces, createLinkedNamespaces, type LinkedNamespaces } from '../helpers/veth.js'

const support = canLinkNamespaces()
const skip = !support.ok && !process.env.CI
if (skip) console.log(`[connect-dark] skipping the dead-peer connect test: ${support.reason}`)

const SCRIPT = fileURLToPath(new URL('./fixtures/connect-dark.mjs', import.meta.url))
const PORT = 5432

let pair: LinkedNamespaces | undefined
let child: NetnsChild | undefined
afterAll(async () => {
  await child?.close()
  await pair?.close()
  await cleanupNetns()
})

it.skipIf(skip)('a connect to a host whose link is down: ETIMEDOUT within 2 + 1.5 s inside withTimeout(2); pending at 6 s without', async () => {
  pair = await createLinkedNamespaces()
  await pair.cut()
  child = await spawnInExistingNetns(pair.a.ns, SCRIPT, [pair.b.address, String(PORT)])
  const bounded = await child.next('bounded', 10_000)
  const unbounded = await child.next('unbounded', 10_000)
  console.log(`[connect-dark] withTimeout(2): ${bounded.code} after ${Math.round(bounded.ms as number)} ms; unbounded: ${unbounded.pending ? 'pending' : 'settled'} at ${Math.round(unbounded.ms as number)} ms`)
  expect(bounded.code).toBe('ETIMEDOUT')
  expect(bounded.ms).toBeGreaterThanOrEqual(1950)
  expect(bounded.ms).toBeLessThanOrEqual(3500)
  expect(unbounded.pending).toBe(true)
}, 30_000)
