import { createPolicy, type Policy, type TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import type { Request, RequestHandler } from 'express'

/** The shared options; a `seconds` callback gets Express's `req`. */
export type ExpressTcpUserTimeoutOptions = TcpUserTimeoutOptions<Request>

/**
 * `app.use(tcpUserTimeout({ seconds: 25 }))`: every socket the rest of the
 * request uses (fetch, http, database and Redis clients) gets the request's
 * TCP_USER_TIMEOUT. Options are validated here, once; a request never throws.
 */
export function tcpUserTimeout(options: ExpressTcpUserTimeoutOptions): RequestHandler {
  return middleware(createPolicy(options, 'tcpUserTimeout'))
}

/**
 * A route's own budget, in its middleware list: replaces the request's
 * (longer, shorter, or `false` for none). It is the route's whole policy:
 * give it `header` too if clients may tighten this route.
 */
export function override(options: ExpressTcpUserTimeoutOptions | false): RequestHandler {
  return middleware(createPolicy(options, 'override'))
}

function middleware(policy: Policy<Request>): RequestHandler {
  return function tcpUserTimeoutMiddleware(req, res, next) {
    policy.run(req, req, res, next)
  }
}
