import { AsyncLocalStorage } from 'node:async_hooks'
import { once } from 'node:events'
import http, { IncomingMessage } from 'node:http'
import express from 'express'
import { beforeAll, describe, expect, it } from 'vitest'
import { currentTimeout } from '@tcp-user-timeout/core'
import { tcpUserTimeout } from '@tcp-user-timeout/express'
import { listen, perSuite, perTest, type Teardown } from '@tcp-user-timeout/test-utils'

// The request's events run in its scope (request.ts), which costs one
// AsyncLocalStorage.run per emit that has a listener. Node's own 'end'
// listener on a request answered before its body was read (clearIncoming)
// runs no user code: it must not cost a run, while a listener of the
// application's own still gets the scope. A request nobody listens to
// keeps Node's own emit: only the first listener added to a scoped request
// wraps that request's emit.
const SECONDS = 7
let runs = 0
const run = AsyncLocalStorage.prototype.run
const emit = IncomingMessage.prototype.emit
const suite = perSuite()
let port: number

beforeAll(async () => {
  // Counts only the runs that enter this test's scope (ms 7000), not vitest's own.
  suite.add(() => {
    AsyncLocalStorage.prototype.run = run
  })
  AsyncLocalStorage.prototype.run = function countRuns(
    this: AsyncLocalStorage<unknown>,
    store: unknown,
    ...rest: unknown[]
  ) {
    if ((store as { ms?: unknown } | undefined)?.ms === SECONDS * 1000) runs++
    return Reflect.apply(run, this, [store, ...rest]) as unknown
  } as typeof run
  const app = express()
  app.use(tcpUserTimeout({ seconds: SECONDS }))
  app.get('/', (req, res) => {
    // Node's emit, not a wrapper: this request has no listener of the application's.
    res.send(Object.hasOwn(req, 'emit') || req.emit !== emit ? 'wrapped' : 'ok')
  })
  app.put('/', (req, res) => {
    req.resume()
    void once(req, 'end').then(() => res.send(String(currentTimeout())))
  })
  app.post('/', (req, res) => {
    let seen: number | undefined
    req.on('data', () => {})
    req.on('end', () => {
      seen = currentTimeout()
      res.send(String(seen))
    })
  })
  ;({ port } = await listen(suite, http.createServer(app)))
})

/** One connection at a time, kept alive between requests; destroyed with `t`. */
const oneConnection = (t: Teardown) => t.defer(new http.Agent({ keepAlive: true, maxSockets: 1 }), (a) => a.destroy())

function request(agent: http.Agent, method: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: '/', agent }, (res) => {
      let text = ''
      res
        .setEncoding('utf8')
        .on('data', (d: string) => (text += d))
        .on('end', () => resolve(text))
    })
    req.on('error', reject)
    req.end(body)
  })
}

describe("a request's own events", () => {
  it("a GET answered before its body was read costs one run of the scope: Node's clearIncoming runs outside it", async (ctx) => {
    const agent = oneConnection(perTest(ctx))
    await request(agent, 'GET')
    runs = 0
    for (let i = 0; i < 20; i++) expect(await request(agent, 'GET')).toBe('ok')
    expect(runs).toBe(20)
  })

  it("an 'end' listener of the application still runs in the request's scope", async (ctx) => {
    const agent = oneConnection(perTest(ctx))
    expect(await request(agent, 'POST', 'x'.repeat(100))).toBe(String(SECONDS * 1000))
  })

  it("a once listener (events.once, through the emitter's on) runs in the request's scope", async (ctx) => {
    const agent = oneConnection(perTest(ctx))
    expect(await request(agent, 'PUT', 'x'.repeat(100))).toBe(String(SECONDS * 1000))
  })
})
