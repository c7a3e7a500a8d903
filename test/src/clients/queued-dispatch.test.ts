/**
 * Every undici exchange carries the scope where fetch(), request() or
 * dispatch() was called, whatever dispatcher queues it: 200 concurrent
 * scopes through each of npm undici's dispatchers with one or two
 * connections (a limit of 1 makes an Agent use a Client, whose own queue
 * creates each request at dispatch time; 2 makes it a Pool, which queues
 * the dispatch and creates the request later, from another exchange), values read on the client socket while each
 * exchange is in flight. Node's bundled undici is in fetch-bundled.test.ts (a file that
 * never imports npm undici).
 */
import {
  Agent,
  BalancedPool,
  Client,
  Pool,
  ProxyAgent,
  fetch as undiciFetch,
  interceptors,
  request,
  setGlobalDispatcher,
  getGlobalDispatcher,
  type Dispatcher,
} from 'undici'
import { describe, it } from 'vitest'
import { perSuite, perTest } from '@tcp-user-timeout/test-utils'
import { connectProxy } from './helpers/connect-proxy.js'
import { expectNoneCrossed } from './helpers/crossed.js'
import { readBackServer, trackClientSockets } from './helpers/http.js'

const clientSockets = perSuite().defer(trackClientSockets(), (c) => c.stop())
const close = (dispatcher: Dispatcher) => dispatcher.close()

const text = async (response: { text(): Promise<string> }) => response.text()
// Global fetch takes undici's `dispatcher` option; its types know only Node's own undici-types.
const via = (dispatcher: Dispatcher) => ({ dispatcher }) as unknown as RequestInit

describe('200 concurrent scopes, zero crossed, through', () => {
  it('global fetch, with an Agent({ connections: 2 }) as the global dispatcher', async (ctx) => {
    const t = perTest(ctx)
    const server = await readBackServer(t, clientSockets)
    const globalBefore = getGlobalDispatcher()
    setGlobalDispatcher(t.defer(new Agent({ connections: 2 }), close))
    t.add(() => setGlobalDispatcher(globalBefore))
    await expectNoneCrossed(server, async (path) => text(await fetch(server.origin + path)))
  })

  it("npm undici's fetch with an Agent({ connections: 2 })", async (ctx) => {
    const t = perTest(ctx)
    const server = await readBackServer(t, clientSockets)
    const dispatcher = t.defer(new Agent({ connections: 2 }), close)
    await expectNoneCrossed(server, async (path) => text(await undiciFetch(server.origin + path, { dispatcher })))
  })

  it('a Client (one connection, its own queue): request()', async (ctx) => {
    const t = perTest(ctx)
    const server = await readBackServer(t, clientSockets)
    const client = t.defer(new Client(server.origin), close)
    await expectNoneCrossed(server, async (path) => (await client.request({ path, method: 'GET' })).body.text())
  })

  it('a Pool({ connections: 1 }): fetch and request()', async (ctx) => {
    const t = perTest(ctx)
    const server = await readBackServer(t, clientSockets)
    const pool = t.defer(new Pool(server.origin, { connections: 1 }), close)
    await expectNoneCrossed(server, async (path) => text(await fetch(server.origin + path, via(pool))))
    const again = await readBackServer(t, clientSockets)
    const pool2 = t.defer(new Pool(again.origin, { connections: 2 }), close)
    await expectNoneCrossed(again, async (path) =>
      (await request(again.origin + path, { dispatcher: pool2 })).body.text(),
    )
  })

  it('a BalancedPool of one upstream, one connection', async (ctx) => {
    const t = perTest(ctx)
    const server = await readBackServer(t, clientSockets)
    const pool = t.defer(new BalancedPool([server.origin], { connections: 1 }), close)
    await expectNoneCrossed(server, async (path) => text(await fetch(server.origin + path, via(pool))))
  })

  it('a raw dispatch() with a handler of its own, on a Pool({ connections: 1 })', async (ctx) => {
    const t = perTest(ctx)
    const server = await readBackServer(t, clientSockets)
    const pool = t.defer(new Pool(server.origin, { connections: 1 }), close)
    await expectNoneCrossed(server, (path) => rawDispatch(pool, path))
  })

  it('an interceptor chain (dispatcher.compose: retry, redirect, dns) over a Pool({ connections: 1 })', async (ctx) => {
    const t = perTest(ctx)
    const server = await readBackServer(t, clientSockets)
    const pool = t.defer(new Pool(server.origin, { connections: 1 }), close)
    const composed = pool.compose(
      interceptors.retry(),
      interceptors.redirect({ maxRedirections: 1 }),
      interceptors.dns(),
    )
    await expectNoneCrossed(server, async (path) => text(await fetch(server.origin + path, via(composed))))
  })

  it('a ProxyAgent through a CONNECT proxy, two connections', async (ctx) => {
    const t = perTest(ctx)
    const proxy = await connectProxy(t)
    const server = await readBackServer(t, clientSockets, (req) =>
      clientSockets.find(proxy.clientPortOf(req.socket.remotePort), proxy.port),
    )
    const dispatcher = t.defer(new ProxyAgent({ uri: proxy.origin, connections: 2 }), close)
    await expectNoneCrossed(server, async (path) => text(await fetch(server.origin + path, via(dispatcher))))
  })
})

/** dispatch() with a handler object of the old (onConnect/onHeaders/onData/onComplete) shape. */
function rawDispatch(dispatcher: Dispatcher, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    dispatcher.dispatch(
      { path, method: 'GET' },
      /* eslint-disable @typescript-eslint/no-deprecated -- the old handler shape, on purpose */
      {
        onConnect() {},
        onHeaders: () => true,
        onData: (chunk: Buffer) => (chunks.push(chunk), true),
        onComplete: () => resolve(Buffer.concat(chunks).toString()),
        onError: reject,
      },
      /* eslint-enable @typescript-eslint/no-deprecated */
    )
  })
}
