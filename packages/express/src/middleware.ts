import { createPolicy, type Policy, type TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import type { Request, RequestHandler } from 'express'
import { warnIfLate, watchForLateRegistration } from './late.js'

/** The shared options; a `seconds` callback gets Express's `req`. */
export type ExpressTcpUserTimeoutOptions = TcpUserTimeoutOptions<Request>

/**
 * `app.use(tcpUserTimeout({ seconds: 25 }))`: every socket the rest of the
 * request uses (fetch, http, database and Redis clients) gets the request's
 * TCP_USER_TIMEOUT. Options are validated here, once; a request never throws.
 *
 * Register it before the routes: a route declared earlier answers its
 * requests before they reach the middleware, so they run unbound. When the
 * app's server starts listening (`app.listen()`,
 * `http.createServer(app).listen()`), and again at the middleware's first
 * request, it looks for such routes and warns once
 * (TUT_WARN_LATE_REGISTRATION). A route meant to run unbound takes
 * `override(false)` instead.
 */
export function tcpUserTimeout(options: ExpressTcpUserTimeoutOptions): RequestHandler {
  const policy = createPolicy(options, { api: 'tcpUserTimeout', framework: 'express' })
  let checked = false
  const handler: RequestHandler = function tcpUserTimeoutMiddleware(req, res, next) {
    if (!checked) {
      checked = true
      warnIfLate(req.app as unknown as Record<string, unknown> | undefined, (handle) => handle === handler)
    }
    policy.run(req, req, res, next)
  }
  watchForLateRegistration(handler)
  return handler
}

/**
 * A route's own budget, in its middleware list: replaces the request's
 * (longer, shorter, or `false` for none). It is the route's whole policy:
 * give it `header` too if clients may tighten this route.
 */
export function override(options: ExpressTcpUserTimeoutOptions | false): RequestHandler {
  return middleware(createPolicy(options, { api: 'override', framework: 'express' }))
}

function middleware(policy: Policy<Request>): RequestHandler {
  return function tcpUserTimeoutOverride(req, res, next) {
    policy.run(req, req, res, next)
  }
}
