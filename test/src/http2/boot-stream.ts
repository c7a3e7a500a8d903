/**
 * A long-lived stream opened at boot, outside any request (an HTTP/2 stream
 * the upstream keeps open, a gRPC server-streaming watch), on the app's one
 * connection: an unscoped stream. It sets no bound of its own; while
 * scoped requests run on the same connection the socket holds their
 * largest budget; once they have ended it holds the global default (or 0)
 * again, the watch still open.
 */
import http from 'node:http'
import type { TestContext } from 'vitest'
import { currentTimeout, getUserTimeout, stats } from '@tcp-user-timeout/core'
import { get, httpGet, perTest, startApp, type Exchange } from '@tcp-user-timeout/test-utils'
import { HARNESSES, type Framework, idleBound } from './frameworks.js'
import { BUDGET_HEADER, TAG_HEADER } from './largest-bound.js'
import type { Transport } from './links.js'

/** Released in this order: after each, the largest still in flight. */
const BUDGETS = [9, 5, 4]

export async function bootStreamSetsNoBound(
  ctx: TestContext,
  framework: Framework,
  transport: Transport,
  globalDefaultSeconds?: number,
): Promise<void> {
  const t = perTest(ctx)
  const { expect } = ctx
  const idle = idleBound(t, globalDefaultSeconds)
  const link = await transport.start(t)

  // Boot: no scope. The connection, then the watch on it.
  expect(currentTimeout()).toBeUndefined()
  await link.connect()
  const socket = link.socket()
  expect(getUserTimeout(socket), 'a connection opened at boot').toBe(idle)
  const setsockoptsBefore = stats().setsockoptCalls
  const watch = link.watch()
  await link.holds.whenHeld(1)
  expect(getUserTimeout(socket), 'with the watch open').toBe(idle)
  expect(stats().setsockoptCalls - setsockoptsBefore, 'setsockopt calls for the watch').toBe(0)

  const app = await startApp(t, HARNESSES[framework], {
    use: [{ seconds: 300, header: BUDGET_HEADER }],
    routes: [get('/relay', ({ headers }) => link.exchange(String(headers[TAG_HEADER])))],
  })
  const agent = t.defer(new http.Agent({ keepAlive: true }), (a) => a.destroy())
  const answers = new Map<number, Promise<Exchange>>()
  for (const s of BUDGETS) {
    const answer = httpGet(`${app.origin}/relay`, {
      agent,
      headers: { [BUDGET_HEADER]: String(s), [TAG_HEADER]: String(s) },
    })
    answer.catch(() => {})
    answers.set(s, answer)
  }
  await link.holds.whenHeld(1 + BUDGETS.length)
  const seen = [getUserTimeout(socket)]
  for (const s of BUDGETS) {
    expect(link.holds.release(String(s)), `stream ${s} held`).toBe(true)
    expect((await answers.get(s)!).status).toBe(200)
    seen.push(getUserTimeout(socket))
  }
  // In flight [9, 5, 4] + watch → 9 s; [5, 4] + watch → 5 s; [4] + watch → 4 s; the watch alone → idle.
  expect(seen, 'requests in flight beside the watch, released from the largest down').toEqual([9000, 5000, 4000, idle])
  expect({ watchOpen: watch.open, watchHeld: link.holds.has('watch') }).toEqual({ watchOpen: true, watchHeld: true })
  expect(link.socket(), 'one connection all along').toBe(socket)
}
