// The frameworks whose routes take middleware (Express, Koa, Hono): a
// route's own policy is the adapter's override() in that list, and the one
// stage between the body parser and the handler is a middleware too.
export const STAGE = 'route middleware'

/** What the contract needs of such a framework but whether its error handler runs in the scope. */
export const ROUTE_MIDDLEWARE = Object.freeze({ stages: Object.freeze([STAGE]), overrideName: () => 'override()' })

/**
 * The adapter's module when a route has its own policy (`route.override`),
 * for its override(): imported only then, so that an app without the
 * adapter never loads it (nor the core's client hooks).
 */
export async function adapterForRoutes(routes, adapter) {
  return routes.some((route) => route.override !== undefined) ? import(adapter.package) : undefined
}

/** The route middleware that puts a route's own policy in, where the adapter exports override(). */
export function overrideOf(module, route) {
  return route.override === undefined ? [] : [module.override(route.override)]
}

/**
 * The stage, for the frameworks whose middleware is `async (context, next)`
 * (Koa, Hono): the scope must survive an asynchronous step the framework awaits.
 */
export function awaitedStage(route) {
  if (route.stage === undefined) return []
  return [
    async function stage(_context, next) {
      await route.stage(STAGE)
      await next()
    },
  ]
}
