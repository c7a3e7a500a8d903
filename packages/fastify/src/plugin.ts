import { hardenServer, type HardenOptions } from '@tcp-user-timeout/core'
import { createPolicy, type Policy, type TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import type { FastifyPluginCallback, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'

/** The shared options; a `seconds` callback gets Fastify's `request`. */
export type FastifyTcpUserTimeoutOptions = TcpUserTimeoutOptions<FastifyRequest>

/** The plugin's options: the shared ones, and `hardenServer` for `fastify.server`'s accepted sockets. */
export type FastifyTcpUserTimeoutPluginOptions = FastifyTcpUserTimeoutOptions & {
  /** Reaps connections whose client vanished (`hardenServer` of the core; `true`: its defaults). */
  hardenServer?: HardenOptions | true
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** This route's own budget: replaces the plugin's (longer, shorter, or `false` for none). */
    tcpUserTimeout?: FastifyTcpUserTimeoutOptions | false
  }
}

// Fastify copies a route's config (own symbols included) into request.routeOptions.config.
const kPolicy = Symbol('tcp-user-timeout.policy')
type RouteConfig = { [kPolicy]?: Policy<FastifyRequest> }

const plugin: FastifyPluginCallback<FastifyTcpUserTimeoutPluginOptions> = (fastify, options, done) => {
  const { hardenServer: harden, ...shared } = options
  let policy: Policy<FastifyRequest>
  try {
    // Fastify hands a plugin registered without options {}: validation says what is missing.
    policy = createPolicy<FastifyRequest>(shared as FastifyTcpUserTimeoutOptions, 'tcpUserTimeout')
    if (harden !== undefined) {
      const undo = hardenServer(fastify.server, harden === true ? {} : harden)
      fastify.addHook('onClose', (_instance, closed) => {
        undo()
        closed()
      })
    }
  } catch (error) {
    done(error as Error)
    return
  }

  // Route options are validated when the route is declared, not when it is hit.
  fastify.addHook('onRoute', (route) => {
    const own = route.config?.tcpUserTimeout
    if (own === undefined) return
    const name = `${String(route.method)} ${route.url} config.tcpUserTimeout`
    route.config = { ...route.config, [kPolicy]: createPolicy<FastifyRequest>(own, name) } as typeof route.config
  })

  // onRequest is the first hook: everything after it (body parsing,
  // preValidation, preHandler, the handler, error handlers) runs in the scope.
  fastify.addHook('onRequest', function tcpUserTimeoutHook(request, reply, next) {
    routePolicy(request, policy).run(request, request.raw, reply.raw, next)
  })

  done()
}

// A route declared before the plugin loaded (`app.register()` not awaited)
// never reached onRoute: its options are read at its first request instead,
// and a bad one must not fail requests, so it is logged and the plugin's
// budget applies.
const lateRoutes = new WeakMap<object, Policy<FastifyRequest>>()

function routePolicy(request: FastifyRequest, fallback: Policy<FastifyRequest>): Policy<FastifyRequest> {
  const config = request.routeOptions.config as RouteConfig & { tcpUserTimeout?: unknown }
  const own = config[kPolicy]
  if (own !== undefined) return own
  if (config.tcpUserTimeout === undefined) return fallback
  let late = lateRoutes.get(config)
  if (late === undefined) {
    try {
      late = createPolicy<FastifyRequest>(config.tcpUserTimeout as FastifyTcpUserTimeoutOptions, `${request.method} ${request.routeOptions.url} config.tcpUserTimeout`)
    } catch (error) {
      request.log.error({ err: error }, 'tcp-user-timeout: bad route option, the plugin\'s budget applies; register the plugin with `await` to get this error at startup')
      late = fallback
    }
    lateRoutes.set(config, late)
  }
  return late
}

/**
 * `app.register(tcpUserTimeout, { seconds: 25 })`: every socket a request
 * uses (fetch, http, database and Redis clients) gets the request's
 * TCP_USER_TIMEOUT. Register it before the routes it should cover.
 */
export const tcpUserTimeout = fp(plugin, { fastify: '5.x', name: '@tcp-user-timeout/fastify' })
