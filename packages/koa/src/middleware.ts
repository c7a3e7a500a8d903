import {
  createPolicy,
  scopeResponseBody,
  wrap,
  type Policy,
  type TcpUserTimeoutOptions,
} from '@tcp-user-timeout/core/adapter'
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
  return middleware(createPolicy(options, { api: 'tcpUserTimeout', framework: 'koa' }))
}

/**
 * A route's own budget, in its middleware list: replaces the request's
 * (longer, shorter, or `false` for none). It is the route's whole policy:
 * give it `header` too if clients may tighten this route.
 */
export function override(options: KoaTcpUserTimeoutOptions | false): Middleware {
  return middleware(createPolicy(options, { api: 'override', framework: 'koa' }))
}

function middleware(policy: Policy<Context>): Middleware {
  return function tcpUserTimeoutMiddleware(ctx, next) {
    const app = ctx.app as Application | undefined
    if (app !== lastApp && app !== undefined) {
      lastApp = app
      if (!scopingBodies.has(app)) scopeBodies(app)
    }
    return policy.run(ctx, ctx.req, ctx.res, next)
  }
}

const scopingBodies = new WeakSet<Application>()
// The app of the last request: a process serves one app, mostly, which is then looked up once.
let lastApp: Application | undefined

/**
 * Koa pipes a stream body (`ctx.body = stream`) after the middleware chain
 * has returned, outside the scope: a lazily produced body would open
 * unbound sockets. So each body set during a request reads in the
 * request's scope (scopeResponseBody), through the `body` setter of Koa's
 * response prototype, wrapped once per copy of Koa (core's wrap(): undone
 * by uninstall(), never a second layer): no promise or closure per
 * request, as a `.then` after `next()` would cost. Bodies set outside a
 * scope are left alone.
 */
function scopeBodies(app: Application): void {
  scopingBodies.add(app)
  let owner: object | null = app.response
  while (owner !== null && typeof owner === 'object' && !Object.hasOwn(owner, 'body'))
    owner = Object.getPrototypeOf(owner) as object | null
  // Not the Koa this was written for: its bodies are left as they are.
  if (owner !== null && typeof owner === 'object') wrap(owner, 'body', setBodyHook, 'set')
}

function setBodyHook(original: Function, response: Response, args: IArguments): unknown {
  const result = Reflect.apply(original, response, args) as unknown
  // A response object made outside a request (a test's stub) has no req.
  if (response.req !== undefined) scopeResponseBody(response.req, args[0])
  return result
}
