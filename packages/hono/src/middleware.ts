import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  createPolicy,
  scopeResponseBody,
  type Policy,
  type TcpUserTimeoutOptions,
} from '@tcp-user-timeout/core/adapter'
import type { Context, MiddlewareHandler } from 'hono'

/** The shared options; a `seconds` callback gets Hono's Context `c`. */
export type HonoTcpUserTimeoutOptions = TcpUserTimeoutOptions<Context>

/**
 * `app.use(tcpUserTimeout({ seconds: 25 }))`, before the routes: every socket
 * the rest of the request uses (fetch, http, database and Redis clients) gets
 * its TCP_USER_TIMEOUT until the Node response closes. Options are validated
 * here, once; a request never throws. Off @hono/node-server it calls next().
 */
export function tcpUserTimeout(options: HonoTcpUserTimeoutOptions): MiddlewareHandler {
  return middleware(createPolicy(options, { api: 'tcpUserTimeout', framework: 'hono' }))
}

/**
 * A route's own budget, in its handler list: replaces the request's (longer,
 * shorter, or `false` for none). It is the route's whole policy: give it
 * `header` too if clients may tighten this route.
 */
export function override(options: HonoTcpUserTimeoutOptions | false): MiddlewareHandler {
  return middleware(createPolicy(options, { api: 'override', framework: 'hono' }))
}

function middleware(policy: Policy<Context>): MiddlewareHandler {
  return function tcpUserTimeoutMiddleware(c, next) {
    const env = c.env as { incoming?: IncomingMessage; outgoing?: ServerResponse } | undefined
    // Not on @hono/node-server (Bun, Deno, workers, app.request()): nothing to bind.
    if (typeof env?.incoming?.on !== 'function' || typeof env.outgoing?.once !== 'function') return next()
    // @hono/node-server reads a stream body after this returned, outside the scope: its reads are put back in it.
    return policy.run(c, env.incoming, env.outgoing, () =>
      next().then(() => scopeResponseBody(env.incoming!, streamOf(c.res))),
    )
  }
}

/**
 * The body @hono/node-server will write. Its own Response keeps [status,
 * body, headers] under a symbol (reading `res.body` would build a web
 * Response per string answer); the symbol, once found, is tried first,
 * and a response without it is read as a web Response.
 */
function streamOf(res: Response): unknown {
  if (cacheKey === undefined || !cached(res, cacheKey))
    cacheKey = Object.getOwnPropertySymbols(res).find((k) => cached(res, k)) ?? cacheKey
  return cacheKey !== undefined && cached(res, cacheKey) ? (Reflect.get(res, cacheKey) as unknown[])[1] : res.body
}

let cacheKey: symbol | undefined

function cached(res: Response, key: symbol): boolean {
  return Array.isArray(Reflect.get(res, key))
}
