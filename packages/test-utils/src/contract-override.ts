import { describe, it } from 'vitest'
import { get, startApp } from './app.js'
import type { AdapterHarness, AdapterOptions, RouteSpec } from './harness.js'
import { ownPools } from './pools.js'
import { probe, probed } from './probe.js'
import { perTest, type Teardown } from './teardown.js'
import { startUpstream } from './upstream.js'

const HEADER = 'x-request-timeout-s'

/**
 * A route that probes its scope through pools of its own (see ownPools: a disabled route's sockets are boot sockets).
 */
function probing<Req>(
  t: Teardown,
  origin: string,
  path: string,
  override?: AdapterOptions<Req> | false,
): RouteSpec<Req> {
  const pools = ownPools(t)
  return get(path, () => probe(origin, pools), override === undefined ? {} : { override })
}

/**
 * A route's own policy (Express/Koa `override()`, Fastify
 * `config.tcpUserTimeout`) replaces the app's for that route only: it can
 * lengthen, shorten or disable the budget, and routes without one keep the app's.
 */
export function overrideContract<Req>(harness: AdapterHarness<Req>): void {
  describe('a route override replaces the app budget', { concurrent: true }, () => {
    it('lengthens (25 → 300), shortens (25 → 3), disables (false); a route without one keeps 25', async (ctx) => {
      const t = perTest(ctx)
      const { origin } = await startUpstream(t)
      const app = await startApp(t, harness, {
        use: [{ seconds: 25 }],
        routes: [
          probing(t, origin, '/plain'),
          probing(t, origin, '/long', { seconds: 300 }),
          probing(t, origin, '/short', { seconds: 3 }),
          probing(t, origin, '/off', false),
        ],
      })
      const expected = {
        '/plain': probed(25000),
        '/long': probed(300000),
        '/short': probed(3000),
        '/off': probed(null),
      }
      // Twice, all at once: an override must not leak into the app's routes or the next request.
      const paths = [...Object.keys(expected), ...Object.keys(expected)] as (keyof typeof expected)[]
      const bodies = await Promise.all(paths.map(async (path) => (await app.client.get(path).expect(200)).body))
      ctx.expect(bodies).toEqual(paths.map((path) => expected[path]))
    })

    it("an override is the route's whole policy: the app's header applies only where the override repeats it", async (ctx) => {
      const t = perTest(ctx)
      const { origin } = await startUpstream(t)
      const app = await startApp(t, harness, {
        use: [{ seconds: 25, header: HEADER }],
        routes: [
          probing(t, origin, '/plain'),
          probing(t, origin, '/export', { seconds: 300 }),
          probing(t, origin, '/export-with-header', { seconds: 300, header: HEADER }),
        ],
      })
      const ask = async (path: string) => (await app.client.get(path).set(HEADER, '3').expect(200)).body
      ctx.expect(await ask('/plain')).toEqual(probed(3000))
      ctx.expect(await ask('/export')).toEqual(probed(300000))
      ctx.expect(await ask('/export-with-header')).toEqual(probed(3000))
    })
  })
}
