/**
 * Real kernel, no root: the HTTP frameworks' adapters against a wedged
 * upstream. For each of FRAMEWORKS (@tcp-user-timeout/test-utils/apps),
 * two copies of the same app (kernel/fixtures/adapter-apps.mjs) run in
 * this process, one with the adapter (`{ seconds: 2 }`) and one without
 * it; a client GETs /relay on each, whose handler streams a POST body to
 * its own upstream, a loopback server that accepts and never reads
 * (helpers/wedge.ts). The handler writes until its buffers are full (the
 * wedge): from then on its data stays unacknowledged (zero window).
 *
 * With the adapter the kernel closes the upstream socket with ETIMEDOUT and
 * the app's error handler answers 504 { code: 'ETIMEDOUT' } within
 * budget + 1.5 s of the wedge; without it, the client still has no answer
 * at budget + 5 s.
 *
 * The client hooks are process-wide, and the six apps share this process:
 * the app without the adapter must see no scope (its handler reports
 * `currentTimeout()`) and no global default (never set in this file), and
 * its upstream socket must hold no bound (read back from the kernel).
 */
import { describe, it, type ExpectStatic } from 'vitest'
import { currentTimeout, globalDefault } from '@tcp-user-timeout/core'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils/teardown'
import {
  ANSWER_WITHIN_MS,
  BUDGET_MS,
  BUDGET_S,
  FRAMEWORKS,
  GRACE_MS,
  HANGING_AT_MS,
  ReportLog,
  awaitUntil,
  epochNow,
  get,
  loadAdapterApps,
  type Exchange,
  type Framework,
  type RunningApp,
} from '../helpers/adapter-apps.js'
import { startWedgeServer, type WedgeServer } from '../helpers/wedge.js'

/** Bounds on the setup steps (the app's handler ran, the buffers filled). */
const STEP_MS = 5000

const apps = await loadAdapterApps()

interface Arm {
  log: ReportLog
  exchange: Exchange
}

/**
 * Starts one app (with or without the adapter) against its own wedge
 * server, and its client's request; torn down in reverse with `t`.
 */
async function startArm(t: Teardown, framework: Framework, middleware: boolean): Promise<Arm> {
  const upstream: WedgeServer = await startWedgeServer(t)
  const log = new ReportLog()
  const app: RunningApp = t.defer(
    await apps.startApp({
      framework,
      middleware,
      seconds: BUDGET_S,
      upstream: { host: upstream.host, port: upstream.port },
      pace: apps.PACE.wedge,
      tag: middleware ? 'with' : 'without',
      report: log.report,
    }),
    (a) => a.close(),
  )
  const exchange = t.defer(get(`http://127.0.0.1:${app.port}/relay`), (x) => x.destroy())
  return { log, exchange }
}

async function adapterAgainstWedge(t: Teardown, framework: Framework, expect: ExpectStatic): Promise<void> {
  // Nothing in this test process opened a scope or set a default.
  expect(currentTimeout()).toBeUndefined()
  expect(globalDefault()).toBeUndefined()

  const [withArm, withoutArm] = await Promise.all([startArm(t, framework, true), startArm(t, framework, false)])

  // The handlers ran, in a scope with the adapter and in none without it,
  // and the kernel holds the bound on their upstream sockets, or none.
  const [openWith, openWithout] = await Promise.all([
    withArm.log.next('upstream-open', STEP_MS),
    withoutArm.log.next('upstream-open', STEP_MS),
  ])
  expect(withArm.log.find('handler')).toMatchObject({ scope: BUDGET_MS })
  expect(openWith).toMatchObject({ bound: BUDGET_MS })
  expect(withoutArm.log.find('handler')).toMatchObject({ scope: null })
  expect(openWithout).toMatchObject({ bound: 0 })

  // The wedge: a write whose 'drain' never came (t is when it was made).
  const [wedgeWith, wedgeWithout] = await Promise.all([
    withArm.log.next('wedged', STEP_MS),
    withoutArm.log.next('wedged', STEP_MS),
  ])

  // Both arms run to their end; the first failure is then thrown.
  const arms = await Promise.allSettled([
    (async () => {
      const answer = await awaitUntil(wedgeWith.t + ANSWER_WITHIN_MS + GRACE_MS, (ms) => withArm.exchange.within(ms))
      expect(
        answer,
        `${framework} with the adapter: no answer within ${ANSWER_WITHIN_MS + GRACE_MS} ` +
          `ms of the wedge; reports: ${JSON.stringify(withArm.log.reports)}`,
      ).not.toBeNull()
      const error = withArm.log.find('upstream-error')
      const answeredMs = Math.round(answer!.t - wedgeWith.t)
      const errorMs = error ? Math.round(error.t - wedgeWith.t) : null
      console.log(
        `[adapters-wedge] ${framework}, tcpUserTimeout({ seconds: ${BUDGET_S} }): ` +
          `upstream ${String(error?.code)} ${errorMs} ms after the wedge, ` +
          `client got ${answer!.status} ${JSON.stringify(answer!.body)} ${answeredMs} ` +
          `ms after it (${String(wedgeWith.bytes)} bytes written)`,
      )
      expect(error).toMatchObject({ code: 'ETIMEDOUT' })
      expect(answer).toMatchObject({ status: 504, body: { code: 'ETIMEDOUT' } })
      // The kernel's clock starts at the oldest unacknowledged byte, which
      // is after the upstream socket opened and can be before the 'wedged'
      // report (made when the app saw a write not drain): the lower bound is
      // taken from the first, the upper one from the second.
      expect(Math.round(answer!.t - openWith.t)).toBeGreaterThanOrEqual(BUDGET_MS)
      expect(answeredMs).toBeLessThanOrEqual(ANSWER_WITHIN_MS)
      // Core counted it and published it for this very socket, with its bound.
      const closed = await withArm.log.next('upstream-close', STEP_MS)
      expect(closed).toMatchObject({ code: 'ETIMEDOUT', timeout: { ms: BUDGET_MS, direction: 'outbound' } })
    })(),
    (async () => {
      const answer = await awaitUntil(wedgeWithout.t + HANGING_AT_MS, (ms) => withoutArm.exchange.within(ms))
      const waitedMs = Math.round(epochNow() - wedgeWithout.t)
      console.log(
        `[adapters-wedge] ${framework}, ` +
          `no adapter: ${answer ? `answered ${answer.status}` : 'no answer'} ${waitedMs} ms after the wedge ` +
          `(${String(wedgeWithout.bytes)} bytes written)`,
      )
      expect(answer, `${framework} without the adapter answered: ${JSON.stringify(answer)}`).toBeNull()
      expect(waitedMs).toBeGreaterThanOrEqual(HANGING_AT_MS)
      expect(withoutArm.log.find('upstream-error')).toBeUndefined()
    })(),
  ])
  for (const arm of arms) if (arm.status === 'rejected') throw arm.reason
}

for (const framework of FRAMEWORKS) {
  describe(
    `${framework}: a handler streaming to a wedged upstream (loopback, never reads)`,
    { concurrent: true },
    () => {
      it(`with tcpUserTimeout ${BUDGET_S} s the client gets 504 ETIMEDOUT within ${ANSWER_WITHIN_MS} ms of the wedge; without it, no answer at ${HANGING_AT_MS} ms`, async (ctx) => {
        await adapterAgainstWedge(perTest(ctx), framework, ctx.expect)
      })
    },
  )
}
