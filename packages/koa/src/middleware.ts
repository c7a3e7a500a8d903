import { createPolicy, scopeResponseBody, type Policy, type TcpUserTimeoutOptions } from '@tcp-user-timeout/core'
import type { Context, Middleware } from 'koa'

/** The shared options; a `seconds` callback gets Koa's `ctx`. */
export type KoaTcpUserTimeoutOptions = TcpUserTimeoutOptions<Context>

/**
 * `app.use(tcpUserTimeout({ seconds: 25 }))`: every socket the downstream
 * middleware uses (fetch, http, database and Redis clients) gets the
 * request's TCP_USER_TIMEOUT. Options are validated here, once; a request
 * never throws.
 */
export function tcpUserTimeout(options: KoaTcpUserTimeoutOptions): Middleware {
  return middleware(createPolicy(options, 'tcpUserTimeout'))
}

/**
 * A route's own budget, in its middleware list: replaces the request's
 * (longer, shorter, or `false` for none). It is the route's whole policy:
 * give it `header` too if clients may tighten this route.
 */
export function override(options: KoaTcpUserTimeoutOptions | false): Middleware {
  return middleware(createPolicy(options, 'override'))
}

function middleware(policy: Policy<Context>): Middleware {
  return function tcpUserTimeoutMiddleware(ctx, next) {
    // Koa pipes a stream body after the chain returned, outside the scope.
    return policy.run(ctx, ctx.req, ctx.res, () => next().then(() => scopeResponseBody(ctx.req, ctx.body)))
  }
}
