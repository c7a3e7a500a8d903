/**
 * The tests every HTTP client gets (http-clients.test.ts, fetch-bundled.test.ts),
 * against readBackServer (helpers/http.ts): values are read on the client's
 * socket while the server holds each request.
 *
 * The rule for HTTP exchanges (docs/rules.md, "Which sockets get bound"): each
 * exchange made in a scope binds the socket carrying it with the scope where
 * the request was created; an unscoped exchange on a socket a scope opened puts it back to 0
 * (no global default here); a socket opened at boot (first exchange outside
 * any scope) is left alone by scopes.
 */
import { setImmediate as yieldToPool } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { getUserTimeout, withTimeout } from '@tcp-user-timeout/core'
// Not the kit's main entry, which loads npm undici: fetch-bundled.test.ts uses this file.
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils/teardown'
import { recordBinds } from './binds.js'
import { readBackServer, type ClientSockets, type ReadBackServer } from './http.js'

export interface Opened {
  get(path: string): Promise<string>
}

export interface ClientSpec {
  name: string
  /** Whether the client takes a connection limit (`oneConnection`), so that concurrent requests queue. */
  limited: boolean
  /**
   * undici's pool takes a connection back one turn after the response body
   * ended; without a connection limit, a request sent in that same turn opens
   * a second connection. Set for clients whose pool has no limit here, so
   * that sequential exchanges do share one socket.
   */
  yieldBetween?: boolean
  /**
   * `oneConnection`: limit the pool to one connection where the client takes a
   * limit. Pools it makes are closed with `t`.
   */
  open(origin: string, oneConnection: boolean, t: Teardown): Opened
}

function exchange(server: ReadBackServer, path: string) {
  const seen = server.exchanges.get(path)
  expect(seen, `the server saw no request for ${path}`).toBeDefined()
  expect(seen!.socket, `no client socket found for ${path}`).toBeDefined()
  return { socket: seen!.socket!, port: seen!.socket!.localPort, inFlight: seen!.inFlight }
}

export function describeHttpClients(specs: ClientSpec[], clientSockets: ClientSockets): void {
  describe.each(specs)('$name', (spec) => {
    /**
     * Sequential exchanges, each awaited to its body's end (and, where needed, until the pool took its socket back).
     */
    async function inSequence(steps: (() => Promise<string>)[]): Promise<string[]> {
      const bodies: string[] = []
      for (const step of steps) {
        if (spec.yieldBetween) await yieldToPool()
        bodies.push(await step())
      }
      return bodies
    }

    it('exchanges in scopes of 3 s then 5 s on one pooled socket carry 3000 then 5000; an unscoped one after puts it back to 0', async (ctx) => {
      const t = perTest(ctx)
      const server = await readBackServer(t, clientSockets)
      const client = spec.open(server.origin, true, t)
      const bodies = await inSequence([
        () => withTimeout(3, () => client.get('/scoped-3')),
        () => withTimeout(5, () => client.get('/scoped-5')),
        () => client.get('/unscoped'),
      ])
      expect(bodies).toEqual(['ok /scoped-3', 'ok /scoped-5', 'ok /unscoped'])
      const seen = ['/scoped-3', '/scoped-5', '/unscoped'].map((p) => exchange(server, p))
      expect(seen.map((s) => s.inFlight)).toEqual([3000, 5000, 0])
      expect(new Set(seen.map((s) => s.port)).size, 'the three exchanges did not share one socket').toBe(1)
      expect(getUserTimeout(seen[0].socket)).toBe(0)
    })

    it('a socket warmed at boot (first exchange outside any scope) stays 0, never set, under scoped exchanges', async (ctx) => {
      const t = perTest(ctx)
      const server = await readBackServer(t, clientSockets)
      const client = spec.open(server.origin, true, t)
      expect(await inSequence([() => client.get('/warm')])).toEqual(['ok /warm'])
      const warm = exchange(server, '/warm')
      const log = t.defer(recordBinds(), (l) => l.stop())
      const bodies = await inSequence([
        () => withTimeout(7, () => client.get('/scoped-7')),
        () => withTimeout(9, () => client.get('/scoped-9')),
      ])
      expect(bodies).toEqual(['ok /scoped-7', 'ok /scoped-9'])
      const seen = ['/warm', '/scoped-7', '/scoped-9'].map((p) => exchange(server, p))
      expect(
        seen.map((s) => s.port),
        'the scoped exchanges did not reuse the warm socket',
      ).toEqual([warm.port, warm.port, warm.port])
      expect(seen.map((s) => s.inFlight)).toEqual([0, 0, 0])
      expect(getUserTimeout(warm.socket)).toBe(0)
      expect(log.on(warm.socket)).toEqual([])
    })

    const how = spec.limited ? 'queued behind one connection' : 'on a dispatcher without a connection limit'
    it(`concurrent exchanges in scopes of 3, 5 and 9 s each carry their own value (${how})`, async (ctx) => {
      const t = perTest(ctx)
      const server = await readBackServer(t, clientSockets)
      const client = spec.open(server.origin, spec.limited, t)
      const seconds = [3, 5, 9]
      const bodies = await Promise.all(seconds.map((s) => withTimeout(s, () => client.get(`/concurrent-${s}`))))
      expect(bodies).toEqual(seconds.map((s) => `ok /concurrent-${s}`))
      const seen = seconds.map((s) => exchange(server, `/concurrent-${s}`))
      expect(seen.map((s) => s.inFlight)).toEqual([3000, 5000, 9000])
      if (spec.limited) {
        // One connection: the later exchanges were queued and handed the socket from another's context.
        expect(new Set(seen.map((s) => s.port)).size).toBe(1)
      }
    })
  })
}
