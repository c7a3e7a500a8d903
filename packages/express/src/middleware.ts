import { createPolicy, type Policy, type TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import type { Request, RequestHandler } from 'express'
import { warnIfLate } from './late.js'

/** The shared options; a `seconds` callback gets Express's `req`. */
export type ExpressTcpUserTimeoutOptions = TcpUserTimeoutOptions<Request>

/**
 * `app.use(tcpUserTimeout({ seconds: 25 }))`: every socket the rest of the
 * request uses (fetch, http, database and Redis clients) gets the request's
 * TCP_USER_TIMEOUT. Options are validated here, once; a request never throws.
 *
 * Register it before the routes: a route declared earlier answers its
 * requests before they reach the middleware, so they run unbound. At its
 * first request the middleware looks for such routes and warns once
 * (TUT_WARN_LATE_REGISTRATION). A route meant to run unbound takes
 * `override(false)` instead.
 */
export function tcpUserTimeout(options: ExpressTcpUserTimeoutOptions): RequestHandler {
  const policy = createPolicy(options, { api: 'tcpUserTimeout', framework: 'express' })
  let checked = false
  return function tcpUserTimeoutMiddleware(req, res, next) {
    if (!checked) {
      checked = true
      warnIfLate(req, tcpUserTimeoutMiddleware)
    }
    policy.run(req, req, res, next)
  }
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
