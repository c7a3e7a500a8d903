/**
 * Real kernel, root: the HTTP frameworks' adapters against an upstream that
 * goes dark. For each of FRAMEWORKS (@tcp-user-timeout/test-utils/apps) the
 * test makes two network namespaces joined by a veth pair (helpers/veth.ts):
 *
 *   app side (10.200.0.1)                      upstream side (10.200.0.2)
 *   client ──lo── app with the adapter ──┐
 *   client ──lo── app without it ────────┴─veth─ upstream (reads, never answers)
 *
 * Both apps run the same code (kernel/fixtures/adapter-apps.mjs), each in
 * its own process; their handlers stream a POST body to the upstream, which
 * reads it. Once the upstream has both requests, the test takes the
 * upstream's end of the veth down: the handlers' next writes are never
 * acknowledged, while the client↔app path (`lo` in the app side) stays up.
 *
 * With the adapter (`{ seconds: 2 }`) the kernel closes the upstream socket
 * with ETIMEDOUT and the app answers the client 504 { code: 'ETIMEDOUT' }
 * within budget + 1.5 s of the cut; without it, the client still has no
 * answer at budget + 5 s. Times come from the processes that saw the events
 * (epoch ms), measured from the moment `ip link set ... down` returned.
 *
 * Skips where namespaces are unusable (helpers/namespaces.ts: never in CI).
 */
import { describe, it, type ExpectStatic } from 'vitest'
import type { ChildEvent, NetnsChild } from '@tcp-user-timeout/test-utils/netns'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils/teardown'
import {
  ANSWER_WITHIN_MS,
  APP_SCRIPT,
  BUDGET_MS,
  BUDGET_S,
  CLIENT_SCRIPT,
  FRAMEWORKS,
  GRACE_MS,
  HANGING_AT_MS,
  UPSTREAM_SCRIPT,
  awaitUntil,
  epochNow,
  toEpoch,
  type Framework,
} from '../helpers/adapter-apps.js'
import { childInExistingNetns, netnsGate, nextOrNull } from '../helpers/namespaces.js'
import { canLinkNamespaces, createLinkedNamespaces } from '../helpers/veth.js'

const netns = netnsGate('adapters-partition', 'the dead-upstream tests', canLinkNamespaces())

/** Bound on each setup step (a process ready, the upstream reached). */
const READY_MS = 10_000

const ARMS = ['with', 'without'] as const
type Arm = (typeof ARMS)[number]

/** The time of an event: the `t` its process stamped (epoch ms). */
function timeOf(event: ChildEvent): number {
  return event.t as number
}

async function adapterAgainstDeadUpstream(t: Teardown, framework: Framework, expect: ExpectStatic): Promise<void> {
  // The children are killed before the namespaces they run in are deleted.
  const linked = await createLinkedNamespaces(t)
  const spawn = (ns: string, script: string, args: string[]) => childInExistingNetns(t, ns, script, args)
  const upstream = await spawn(linked.b.ns, UPSTREAM_SCRIPT, [linked.b.address])
  const { port: upstreamPort } = await upstream.next('ready', READY_MS)
  const apps = {} as Record<Arm, NetnsChild>
  const ports = {} as Record<Arm, number>
  await Promise.all(
    ARMS.map(async (arm) => {
      apps[arm] = await spawn(linked.a.ns, APP_SCRIPT, [
        framework,
        arm === 'with' ? 'on' : 'off',
        String(BUDGET_S),
        linked.b.address,
        String(upstreamPort),
        arm,
      ])
      ports[arm] = (await apps[arm].next('ready', READY_MS)).port as number
    }),
  )
  const client = await spawn(
    linked.a.ns,
    CLIENT_SCRIPT,
    ARMS.map((arm) => `${arm}=http://127.0.0.1:${ports[arm]}/relay`),
  )

  // Both exchanges are under way: the upstream has each head and first
  // bytes, and each app read back its upstream socket's bound.
  const [openWith, openWithout] = await Promise.all([
    apps.with.next('upstream-open', READY_MS),
    apps.without.next('upstream-open', READY_MS),
    upstream.next('request:with', READY_MS),
    upstream.next('request:without', READY_MS),
  ])
  expect(apps.with.events.find((e) => e.event === 'handler')).toMatchObject({ scope: BUDGET_MS })
  expect(openWith).toMatchObject({ bound: BUDGET_MS })
  expect(apps.without.events.find((e) => e.event === 'handler')).toMatchObject({ scope: null })
  expect(openWithout).toMatchObject({ bound: 0 })

  const cut = await linked.cut()
  // The latest the link can have gone down; the earliest is cut.startedAt.
  const cutAt = toEpoch(cut.doneAt)

  // Both arms run to their end; the first failure is then thrown.
  const arms = await Promise.allSettled([
    (async () => {
      const answer = await awaitUntil(cutAt + ANSWER_WITHIN_MS + GRACE_MS, (ms) =>
        nextOrNull(client, 'response:with', ms),
      )
      expect(
        answer,
        `${framework} with the adapter: no answer within ${ANSWER_WITHIN_MS + GRACE_MS} ms of the cut; ` +
          `app: ${JSON.stringify(apps.with.events)}; client: ${JSON.stringify(client.events)}`,
      ).not.toBeNull()
      const error = apps.with.events.find((e) => e.event === 'upstream-error')
      const answeredMs = Math.round(timeOf(answer!) - cutAt)
      const errorMs = error ? Math.round(timeOf(error) - cutAt) : null
      console.log(
        `[adapters-partition] ${framework}, tcpUserTimeout({ seconds: ${BUDGET_S} }): ` +
          `upstream ${String(error?.code)} ${errorMs} ms after the cut, ` +
          `client got ${String(answer!.status)} ${JSON.stringify(answer!.body)} ${answeredMs} ms after it`,
      )
      expect(error).toMatchObject({ code: 'ETIMEDOUT' })
      expect(answer).toMatchObject({ status: 504, body: { code: 'ETIMEDOUT' } })
      // Not before the bound has run from the earliest moment the link can have gone down.
      expect(Math.round(timeOf(answer!) - toEpoch(cut.startedAt))).toBeGreaterThanOrEqual(BUDGET_MS)
      expect(answeredMs).toBeLessThanOrEqual(ANSWER_WITHIN_MS)
      // Core counted it and published it for this very socket, with its bound.
      const closed = await apps.with.next('upstream-close', READY_MS)
      expect(closed).toMatchObject({ code: 'ETIMEDOUT', timeout: { ms: BUDGET_MS, direction: 'outbound' } })
    })(),
    (async () => {
      const answer = await awaitUntil(cutAt + HANGING_AT_MS, (ms) => nextOrNull(client, 'response:without', ms))
      const waitedMs = Math.round(epochNow() - cutAt)
      console.log(
        `[adapters-partition] ${framework}, ` +
          `no adapter: ${answer ? `answered ${String(answer.status)}` : 'no answer'} ${waitedMs} ` +
          `ms after the cut`,
      )
      expect(answer, `${framework} without the adapter answered: ${JSON.stringify(answer)}`).toBeNull()
      expect(waitedMs).toBeGreaterThanOrEqual(HANGING_AT_MS)
      expect(client.events.find((e) => e.event === 'error:without')).toBeUndefined()
      expect(apps.without.events.find((e) => e.event === 'upstream-error')).toBeUndefined()
      // Still streaming into the dead link, still alive.
      expect(apps.without.events.find((e) => e.event === 'fatal' || e.event === 'lifetime-over')).toBeUndefined()
    })(),
  ])
  for (const arm of arms) if (arm.status === 'rejected') throw arm.reason
}

describe.skipIf(netns.skip)('adapters against an upstream that goes dark (veth between two network namespaces)', () => {
  netns.requireInSuite()

  for (const framework of FRAMEWORKS) {
    describe(framework, { concurrent: true }, () => {
      it(`with tcpUserTimeout ${BUDGET_S} s the client gets 504 ETIMEDOUT within ${ANSWER_WITHIN_MS} ms of the cut; without it, no answer at ${HANGING_AT_MS} ms`, async (ctx) => {
        await adapterAgainstDeadUpstream(perTest(ctx), framework, ctx.expect)
      })
    })
  }
})
