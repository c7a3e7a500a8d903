/**
 * The multiplexed rule through an adapter, with many requests at once: 200
 * requests with budgets 2..201 s (the adapter's `header` option: a client
 * budget can only tighten the configured 300 s) each make one exchange over
 * the app's ONE connection to the upstream, which holds them all. The
 * connection's socket must hold the largest budget in flight; released from
 * the largest down, after each release the largest still in flight; once
 * none is, the global default (or 0). One setsockopt per change of the
 * value held. The handlers wait until all 200 are in, then all start their
 * exchange in the same tick: the first opens the connection and the other
 * 199 are queued behind its connect (grpc-js's call queues, the session's
 * pending requests), where a stream most easily gets another's scope.
 */
import http from 'node:http'
import type { TestContext } from 'vitest'
import { getUserTimeout, stats } from '@tcp-user-timeout/core'
import { Barrier, get, httpGet, perTest, startApp, type Exchange } from '@tcp-user-timeout/test-utils'
import { HARNESSES, type Framework, idleBound } from './frameworks.js'
import type { Transport } from './links.js'

export const BUDGET_HEADER = 'x-budget'
export const TAG_HEADER = 'x-tag'
/** 2..201 s, distinct: the tag of each request is its budget. */
const BUDGETS = Array.from({ length: 200 }, (_, i) => i + 2)
/**
 * The order they are sent in: a fixed permutation (83 is prime to 200), so
 * that the request that opens the connection has neither the smallest nor
 * the largest budget (75 s), and budgets arrive out of order.
 */
const SENT = BUDGETS.map((_, i) => ((i * 83 + 73) % BUDGETS.length) + BUDGETS[0])

export async function largestBoundInFlight(
  ctx: TestContext,
  framework: Framework,
  transport: Transport,
  globalDefaultSeconds?: number,
): Promise<void> {
  const t = perTest(ctx)
  const { expect } = ctx
  const idle = idleBound(t, globalDefaultSeconds)
  const link = await transport.start(t)
  const inHandlers = new Barrier(BUDGETS.length, 'requests in their handler')
  const app = await startApp(t, HARNESSES[framework], {
    use: [{ seconds: 300, header: BUDGET_HEADER }],
    routes: [
      get('/relay', async ({ headers }) => {
        await inHandlers.arrive()
        return link.exchange(String(headers[TAG_HEADER]))
      }),
    ],
  })
  // One connection per request to the app: all 200 are in their handlers at once.
  const agent = t.defer(new http.Agent({ keepAlive: true, maxSockets: Infinity }), (a) => a.destroy())
  const answers = new Map<number, Promise<Exchange>>()
  for (const s of SENT) {
    const answer = httpGet(`${app.origin}/relay`, {
      agent,
      headers: { [BUDGET_HEADER]: String(s), [TAG_HEADER]: String(s) },
    })
    // Awaited one by one below; one failing earlier is no unhandled rejection.
    answer.catch(() => {})
    answers.set(s, answer)
  }

  await link.holds.whenHeld(BUDGETS.length)
  const socket = link.socket()
  expect.soft(getUserTimeout(socket), `all ${BUDGETS.length} in flight: the largest budget`).toBe(201_000)

  const setsockoptsBefore = stats().setsockoptCalls
  const wrong: { released: number; expected: number; got: number | undefined }[] = []
  for (const s of [...BUDGETS].reverse()) {
    expect(link.holds.release(String(s)), `stream ${s} held`).toBe(true)
    const answer = await answers.get(s)!
    expect({ status: answer.status, body: JSON.parse(answer.body) as unknown }).toEqual({
      status: 200,
      body: { tag: String(s) },
    })
    const expected = s > BUDGETS[0] ? (s - 1) * 1000 : idle
    const got = getUserTimeout(socket)
    if (got !== expected) wrong.push({ released: s, expected, got })
  }
  expect
    .soft(
      { wrong: wrong.length, first: wrong.slice(0, 4), last: wrong.at(-1) },
      'after each release: the largest budget still in flight, then the idle value',
    )
    .toEqual({ wrong: 0, first: [], last: undefined })
  expect(link.socket(), 'one connection all along').toBe(socket)
  expect(stats().setsockoptCalls - setsockoptsBefore, 'one setsockopt per change of the value held').toBe(
    BUDGETS.length,
  )
}
