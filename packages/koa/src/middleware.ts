import { createPolicy, scopeResponseBody, type Policy, type TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import type Application from 'koa'
import type { Context, Middleware, Response } from 'koa'

/** The shared options; a `seconds` callback gets Koa's `ctx`. */
export type KoaTcpUserTimeoutOptions = TcpUserTimeoutOptions<Context>

/**
 * `app.use(tcpUserTimeout({ seconds: 25 }))`: every socket the downstream
 * middleware uses (fetch, http, database and Redis clients) gets the
 * request's TCP_USER_TIMEOUT. Options are validated here, once; a request
 * never throws.
 *
 * Register it before the routes (`app.use(router.routes())`) and any
 * middleware that calls out: Koa runs middleware in the order of `app.use`,
 * and whatever answers a request before this one runs unbound. Koa keeps
 * no route table this could check, so nothing warns about it.
 */
export function tcpUserTimeout(options: KoaTcpUserTimeoutOptions): Middleware {
  return middleware(
    createPolicy(options, {
      label: 'tcpUserTimeout()',
      off: 'answer false from a seconds callback ({ seconds: (ctx) => (ctx.path === "/stream" ? false : 25) }), or put override(false) in the route\'s list',
    }),
  )
}

/**
 * A route's own budget, in its middleware list: replaces the request's
 * (longer, shorter, or `false` for none). It is the route's whole policy:
 * give it `header` too if clients may tighten this route.
 */
export function override(options: KoaTcpUserTimeoutOptions | false): Middleware {
  return middleware(createPolicy(options, { label: 'override()', off: 'give override(false)' }))
}

function middleware(policy: Policy<Context>): Middleware {
  return function tcpUserTimeoutMiddleware(ctx, next) {
    const app = ctx.app as Application | undefined
    if (app !== undefined && !scopingBodies.has(app)) scopeBodies(app)
    return policy.run(ctx, ctx.req, ctx.res, next)
  }
}

const scopingBodies = new WeakSet<Application>()

/**
 * Koa pipes a stream body (`ctx.body = stream`) after the middleware chain
 * has returned, outside the scope: a lazily produced body would open
 * unbound sockets. So each body set during a request reads in the
 * request's scope (scopeResponseBody), through a `body` setter put once on
 * the app's `app.response` (Koa's documented extension point): no promise
 * or closure per request, as a `.then` after `next()` would cost.
 */
function scopeBodies(app: Application): void {
  scopingBodies.add(app)
  if (app.response === null || typeof app.response !== 'object') return
  let holder: object | null = app.response
  let descriptor: PropertyDescriptor | undefined
  while (holder !== null && (descriptor = Object.getOwnPropertyDescriptor(holder, 'body')) === undefined) holder = Object.getPrototypeOf(holder) as object | null
  const get = descriptor?.get
  const set = descriptor?.set
  // Not the Koa this was written for: its bodies are left as they are.
  if (get === undefined || set === undefined) return
  Object.defineProperty(app.response, 'body', {
    configurable: true,
    enumerable: descriptor!.enumerable ?? false,
    get(this: Response) {
      return get.call(this) as unknown
    },
    set(this: Response, value: unknown) {
      set.call(this, value)
      // A response object made outside a request (a test's stub) has no req.
      if (this.req !== undefined) scopeResponseBody(this.req, value)
    },
  })
}
