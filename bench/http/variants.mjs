// The apps under load: one route (GET /) per framework (the fixture of
// @tcp-user-timeout/test-utils/apps), each in three variants that differ only
// in the one middleware in front of it:
//   none  no middleware
//   als   a bare AsyncLocalStorage.run where the middleware goes (the
//         fixture's `als`), the floor any per-request scope pays
//   ours  tcpUserTimeout({ seconds: 25 })
// The package is imported only by `ours`: its client hooks go in at import,
// and none/als must pay nothing of it.
import { AsyncLocalStorage } from 'node:async_hooks'
import { createApp, FRAMEWORKS, httpFixture, useAdapter } from '@tcp-user-timeout/test-utils/apps'

export const VARIANTS = ['none', 'als', 'ours']
const SECONDS = 25

// What `als` stores: a frozen object per request, as ours does (it caches one per budget).
// The fixtures name their als middleware alsMiddleware, so that profiles (http/profile.mjs) tell it from the route.
const als = new AsyncLocalStorage()
const store = Object.freeze({ ms: SECONDS * 1000, exempt: undefined })

/**
 * Starts `framework` in `variant` on 127.0.0.1, port 0. `respond` is the body:
 * a string (a synchronous hello world, as each framework's docs write it) or
 * a function making it (called with the framework's handler arguments, its
 * promise awaited); `options` are the adapter's (ours only).
 * Returns { port, server, close }.
 */
export async function startApp(framework, variant, respond, options = { seconds: SECONDS }) {
  if (!FRAMEWORKS.includes(framework)) throw new Error(`unknown framework ${framework}; one of ${FRAMEWORKS}`)
  if (!VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}; one of ${VARIANTS}`)
  const floor = (app) => httpFixture(framework).als(app, als, store)
  const use = variant === 'ours' ? await useAdapter(framework, options) : variant === 'als' ? floor : undefined
  const handler =
    typeof respond === 'string'
      ? function route() {
          return respond
        }
      : respond
  // Koa: no router, the one route is the last middleware, as in Koa's own hello world.
  return createApp(framework, { use, routes: [{ method: 'GET', path: '/', handler }], router: false })
}
