import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import { describe, it } from 'vitest'
import { currentTimeout, getUserTimeout } from '@tcp-user-timeout/core'
import { get, startApp } from './app.js'
import type { AdapterHarness } from './harness.js'
import { httpGet } from './http-get.js'
import { orNull } from './probe.js'
import { perTest, type Teardown } from './teardown.js'
import { startTcpSink } from './tcp-sink.js'
import { startUpstream } from './upstream.js'

async function connect(t: Teardown, port: number): Promise<net.Socket> {
  const socket = t.defer(net.connect(port, '127.0.0.1'), (s) => s.destroy())
  await once(socket, 'connect')
  return socket
}

/**
 * Sockets opened at boot (DB pools, warmed HTTP pools) are never bound by a
 * request that uses them: they are shared by every request, so no one
 * request's budget may stay on them.
 */
export function bootContract<Req>(harness: AdapterHarness<Req>): void {
  describe('sockets opened at boot', { concurrent: true }, () => {
    it('a raw socket and a warmed keep-alive agent, used by a request, read 0 in flight and after', async (ctx) => {
      const t = perTest(ctx)
      const sink = await startTcpSink(t)
      const upstream = await startUpstream(t)
      // Boot: before the app exists, outside any scope.
      const raw = await connect(t, sink.port)
      const agent = t.defer(new http.Agent({ keepAlive: true, maxSockets: 1 }), (a) => a.destroy())
      const warm = await httpGet(`${upstream.origin}/warm`, { agent })

      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [
          get('/work', async () => {
            raw.write('written by a request')
            const rawInFlight = getUserTimeout(raw)
            const pooled = await httpGet(`${upstream.origin}/work`, { agent })
            // The control: a socket the request opens itself is bound.
            const own = await connect(t, sink.port)
            return {
              timeout: orNull(currentTimeout()),
              raw: orNull(rawInFlight),
              pooled: orNull(pooled.inFlight),
              sameSocket: pooled.socket === warm.socket,
              own: orNull(getUserTimeout(own)),
            }
          }),
        ],
      })
      for (let i = 0; i < 2; i++) {
        const res = await app.client.get('/work').expect(200)
        ctx.expect(res.body).toEqual({ timeout: 25000, raw: 0, pooled: 0, sameSocket: true, own: 25000 })
      }
      ctx.expect(getUserTimeout(raw)).toBe(0)
      ctx.expect(getUserTimeout(warm.socket)).toBe(0)
    })
  })
}
