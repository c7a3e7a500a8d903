/**
 * Real kernel, root: a multiplexed upstream that goes dark in steady state.
 * The shape of kernel/adapters-partition.test.ts (its fixtures, with their
 * http2 and grpc upstream modes): two network namespaces joined by a veth
 * pair, the upstream on one side, the apps (with and without the adapter)
 * and their client on the other.
 *
 * Each app keeps ONE connection to the upstream (an HTTP/2 session or a
 * grpc-js channel), opened by a warm-up request that has finished before
 * the requests under test are sent. Then N requests per app, with budgets
 * 2..2.75 s (x-budget, the adapter's `header`), each stream a body on that
 * connection to the upstream, which reads and never answers. Once the
 * upstream has every stream, the test takes the upstream's end of the veth
 * down. The connection holds the largest budget in flight, so with the
 * adapter every request fails (http2: ETIMEDOUT; grpc-js: UNAVAILABLE)
 * within its budget + 1.5 s of the cut, and not before its own budget has
 * run; without it, nothing has happened at the largest budget + 5 s.
 *
 * Skips where namespaces are unusable (helpers/namespaces.ts: never in CI).
 */
import { describe, it, type ExpectStatic } from 'vitest'
import type { ChildEvent, NetnsChild } from '@tcp-user-timeout/test-utils/netns'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils/teardown'
import {
  APP_SCRIPT,
  CLIENT_SCRIPT,
  FRAMEWORKS,
  GRACE_MS,
  UPSTREAM_SCRIPT,
  awaitUntil,
  epochNow,
  toEpoch,
  type Framework,
} from '../helpers/adapter-apps.js'
import { childInExistingNetns, netnsGate, nextOrNull } from '../helpers/namespaces.js'
import { canLinkNamespaces, createLinkedNamespaces } from '../helpers/veth.js'

const netns = netnsGate('http2-partition', 'the multiplexed dead-upstream tests', canLinkNamespaces())

/** Bound on each setup step (a process ready, the upstream reached). */
const READY_MS = 10_000
/** The adapter's configured budget; each request's x-budget tightens it. */
const SECONDS = 3
/** The requests under test, per app: distinct budgets in seconds. */
const BUDGETS = [2, 2.25, 2.5, 2.75]
const LARGEST_MS = Math.max(...BUDGETS) * 1000
const FAIL_WITHIN_MS = 1500
const PENDING_AFTER_MS = 5000

const PROTOCOLS = [
  { protocol: 'http2', fails: 'ETIMEDOUT', answer: 504 },
  { protocol: 'grpc', fails: 'UNAVAILABLE', answer: 502 },
] as const
type Protocol = (typeof PROTOCOLS)[number]

const ARMS = ['with', 'without'] as const
type Arm = (typeof ARMS)[number]
const tagOf = (arm: Arm, i: number) => `${arm}-${i}`

/** The time of an event: the `t` its process stamped (epoch ms). */
const timeOf = (event: ChildEvent) => event.t as number

async function multiplexedAgainstDeadUpstream(
  t: Teardown,
  framework: Framework,
  { protocol, fails, answer }: Protocol,
  expect: ExpectStatic,
): Promise<void> {
  // The children are killed before the namespaces they run in are deleted.
  const linked = await createLinkedNamespaces(t)
  const spawn = (ns: string, script: string, args: string[]) => childInExistingNetns(t, ns, script, args)
  const upstream = await spawn(linked.b.ns, UPSTREAM_SCRIPT, [linked.b.address, protocol])
  const { port: upstreamPort } = await upstream.next('ready', READY_MS)
  const apps = {} as Record<Arm, NetnsChild>
  const urls = {} as Record<Arm, string>
  await Promise.all(
    ARMS.map(async (arm) => {
      const on = arm === 'with' ? 'on' : 'off'
      apps[arm] = await spawn(linked.a.ns, APP_SCRIPT, [
        framework,
        on,
        String(SECONDS),
        linked.b.address,
        String(upstreamPort),
        arm,
        protocol,
      ])
      urls[arm] = `http://127.0.0.1:${(await apps[arm].next('ready', READY_MS)).port as number}`
    }),
  )
  // The warm-ups open each app's connection and finish; then the requests under test.
  const client = await spawn(linked.a.ns, CLIENT_SCRIPT, [
    ...ARMS.map((arm) => `warm-${arm}=${urls[arm]}/warm`),
    '--then',
    ...ARMS.flatMap((arm) => BUDGETS.map((s, i) => `${tagOf(arm, i)}:${s}=${urls[arm]}/relay`)),
  ])
  for (const arm of ARMS) expect(await client.next(`response:warm-${arm}`, READY_MS)).toMatchObject({ status: 200 })

  // Every stream is under way: the upstream has its first bytes, its app saw them leave.
  await Promise.all(
    ARMS.flatMap((arm) =>
      BUDGETS.map(async (_, i) => {
        await upstream.next(`request:${tagOf(arm, i)}`, READY_MS)
        await apps[arm].next(`upstream-open:${tagOf(arm, i)}`, READY_MS)
      }),
    ),
  )
  for (const [i, s] of BUDGETS.entries()) {
    expect(apps.with.events.find((e) => e.event === `handler:${tagOf('with', i)}`)).toMatchObject({ scope: s * 1000 })
    expect(apps.without.events.find((e) => e.event === `handler:${tagOf('without', i)}`)).toMatchObject({ scope: null })
  }
  const bounds = await Promise.all(
    ARMS.map((arm) => {
      apps[arm].send({ cmd: 'bound' })
      return apps[arm].next('bound', READY_MS)
    }),
  )
  // Soft: when it is wrong, what the kernel then does is worth seeing too.
  expect
    .soft(
      bounds.map((b) => b.ms),
      'the connection, every stream in flight: with, without',
    )
    .toEqual([LARGEST_MS, 0])

  const cut = await linked.cut()
  // The latest the link can have gone down; the earliest is cut.startedAt.
  const cutAt = toEpoch(cut.doneAt)

  // Both arms run to their end; the first failure is then thrown.
  const outcomes = BUDGETS.map((s) => `${s} s: no answer`)
  const arms = await Promise.allSettled([
    ...BUDGETS.map(async (s, i) => {
      const tag = tagOf('with', i)
      const budgetMs = s * 1000
      const answered = await awaitUntil(cutAt + budgetMs + FAIL_WITHIN_MS + GRACE_MS, (ms) =>
        nextOrNull(client, `response:${tag}`, ms),
      )
      expect(
        answered,
        `${framework} ${protocol} ${tag}: no answer within ${budgetMs + FAIL_WITHIN_MS + GRACE_MS} ` +
          `ms of the cut; app: ${JSON.stringify(apps.with.events)}`,
      ).not.toBeNull()
      const error = apps.with.events.find((e) => e.event === `upstream-error:${tag}`)
      const failedMs = error ? Math.round(timeOf(error) - cutAt) : null
      const answeredMs = Math.round(timeOf(answered!) - cutAt)
      outcomes[i] = `${s} s: ${String(error?.code)} at ${failedMs} ms, ${String(answered!.status)} at ${answeredMs} ms`
      expect(error).toMatchObject({ code: fails })
      expect(answered).toMatchObject({ status: answer, body: { code: fails } })
      // Not before its own budget has run from the earliest moment the link can have gone down.
      expect(Math.round(timeOf(error!) - toEpoch(cut.startedAt))).toBeGreaterThanOrEqual(budgetMs)
      expect(answeredMs).toBeLessThanOrEqual(budgetMs + FAIL_WITHIN_MS)
    }),
    (async () => {
      const deadline = cutAt + LARGEST_MS + PENDING_AFTER_MS
      // Waits out the window (or until a first failure), then: none of them failed or was answered.
      const settled = await awaitUntil(deadline, (ms) =>
        nextOrNull(apps.without, `upstream-error:${tagOf('without', 0)}`, ms),
      )
      const waitedMs = Math.round(epochNow() - cutAt)
      const failed = apps.without.events.filter((e) => e.event.startsWith('upstream-error:'))
      const answered = client.events.filter((e) => /^(response|error):without-/.test(e.event))
      console.log(
        `[http2-partition] ${framework} ${protocol}, no adapter: ${failed.length} ` +
          `failed, ${answered.length} answered ${waitedMs} ms after the cut`,
      )
      expect(settled).toBeNull()
      expect({ failed, answered }).toEqual({ failed: [], answered: [] })
      expect(waitedMs).toBeGreaterThanOrEqual(LARGEST_MS + PENDING_AFTER_MS)
      // Still streaming into the dead link, still alive.
      expect(apps.without.events.find((e) => e.event === 'fatal' || e.event === 'lifetime-over')).toBeUndefined()
    })(),
  ])
  console.log(`[http2-partition] ${framework} ${protocol}, with the adapter, after the cut: ${outcomes.join('; ')}`)
  for (const arm of arms) if (arm.status === 'rejected') throw arm.reason
}

// Concurrent: each case spends most of its time waiting for the kernel.
describe.skipIf(netns.skip)(
  'multiplexed upstreams that go dark in steady state (veth between two network namespaces)',
  { concurrent: true },
  () => {
    netns.requireInSuite()

    for (const framework of FRAMEWORKS) {
      describe(framework, () => {
        for (const protocol of PROTOCOLS) {
          it(`${protocol.protocol}: requests with budgets ${BUDGETS.join(', ')} s on one connection each fail ${protocol.fails} within budget + ${FAIL_WITHIN_MS} ms of the cut; without the adapter, none has at ${LARGEST_MS + PENDING_AFTER_MS} ms`, async (ctx) => {
            await multiplexedAgainstDeadUpstream(perTest(ctx), framework, protocol, ctx.expect)
          })
        }
      })
    }
  },
)
