import { hardenServer, warningCodes, type HardenOptions } from '@tcp-user-timeout/core'
import { createPolicy, warn, type Policy, type TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import type { PolicyRoute } from '@tcp-user-timeout/core/adapter'
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
    const label = { api: 'tcpUserTimeout', framework: 'fastify' } as const
    policy = createPolicy<FastifyRequest>(shared, label)
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

  // Route options are validated when the route is declared, not when it is hit. Every
  // route declared from here on carries its policy (its own, or the plugin's): a request
  // then reads it in one step. Fastify declares a GET's HEAD route with the same config:
  // one policy (and one warning) for both.
  const declared = new WeakMap<object, Policy<FastifyRequest>>()
  fastify.addHook('onRoute', (route) => {
    const own = route.config?.tcpUserTimeout
    let routePolicy = own === undefined ? policy : own === false ? undefined : declared.get(own)
    if (routePolicy === undefined) {
      routePolicy = createPolicy<FastifyRequest>(own!, routeLabel(route.method, route.url))
      if (own !== false) declared.set(own!, routePolicy)
    }
    route.config = { ...route.config, [kPolicy]: routePolicy } as typeof route.config
  })

  // onRequest is the first hook: everything after it (body parsing,
  // preValidation, preHandler, the handler, error handlers) runs in the scope.
  const late = { warned: false }
  fastify.addHook('onRequest', function tcpUserTimeoutHook(request, reply, next) {
    const config = configOf(request)
    ;(config[kPolicy] ?? latePolicy(request, config, policy, late)).run(request, request.raw, reply.raw, next)
  })

  done()
}

// A route declared before the plugin loaded (`app.register()` not awaited)
// never reached onRoute. Fastify 5 still gives it the plugin's onRequest
// hook (a route's hooks are gathered when the app starts), so it is
// covered; but its own options are read at its first request instead of at
// startup, and a bad one must not fail requests: it is logged and the
// plugin's budget applies. The first such route warns once
// (TUT_WARN_LATE_REGISTRATION), with the fix.
const lateRoutes = new WeakMap<object, Policy<FastifyRequest>>()

function latePolicy(
  request: FastifyRequest,
  config: Config,
  fallback: Policy<FastifyRequest>,
  late: { warned: boolean },
): Policy<FastifyRequest> {
  if (config.tcpUserTimeout === undefined) return fallback
  let policy = lateRoutes.get(config)
  if (policy === undefined) {
    const route = `${request.method} ${request.routeOptions.url}`
    if (!late.warned) {
      late.warned = true
      warnLate(route)
    }
    try {
      const own = config.tcpUserTimeout as FastifyTcpUserTimeoutOptions
      policy = createPolicy<FastifyRequest>(own, routeLabel(request.method, request.routeOptions.url))
    } catch (error) {
      request.log.error(
        { err: error },
        "tcp-user-timeout: bad route option, the plugin's budget applies; " +
          'register the plugin with `await` to get this error at startup',
      )
      policy = fallback
    }
    lateRoutes.set(config, policy)
  }
  return policy
}

type Config = RouteConfig & { tcpUserTimeout?: unknown }

// Where Fastify keeps a request's route. Its public view, request.routeOptions, builds a
// new object of a dozen fields on every read (the route's limits, handler, schema...): a
// per-request cost of its own. The route's context, whose `config` that view hands out,
// is found once by its symbol's description; a Fastify without it gets the public view.
let kContext: symbol | null | undefined

function configOf(request: FastifyRequest): Config {
  if (kContext === undefined) kContext = contextSymbol(request)
  const context = kContext === null ? undefined : (request as unknown as Record<symbol, { config?: Config }>)[kContext]
  return context?.config ?? request.routeOptions.config ?? NO_CONFIG
}

const NO_CONFIG: Config = Object.freeze({})

function contextSymbol(request: FastifyRequest): symbol | null {
  const own = Object.getOwnPropertySymbols(request).find((s) => s.description === 'fastify.context')
  // Its config is the one routeOptions reads, or the symbol is not what it was.
  const context = own === undefined ? undefined : (request as unknown as Record<symbol, { config?: unknown }>)[own]
  return context !== undefined && context.config === request.routeOptions.config ? own! : null
}

/** A route's config, for messages: a place, not a call. */
function routeLabel(method: unknown, url: unknown): PolicyRoute {
  return { framework: 'fastify', route: `${String(method)} ${String(url)}` }
}

function warnLate(route: string): void {
  warn(
    warningCodes.LATE_REGISTRATION,
    `@tcp-user-timeout/fastify: the route ${route} was declared before the plugin loaded, ` +
      `so its config.tcpUserTimeout is checked at its first request, not at startup. ` +
      'Register the plugin first, with await: await app.register(tcpUserTimeout, { ... }), then declare the routes.',
  )
}

/**
 * `app.register(tcpUserTimeout, { seconds: 25 })`: every socket a request
 * uses (fetch, http, database and Redis clients) gets the request's
 * TCP_USER_TIMEOUT. Register it, with `await`, before declaring the
 * routes: a route's `config.tcpUserTimeout` is then checked at startup. A
 * route declared before the plugin loaded is still covered (Fastify 5 gives
 * it the plugin's hook when the app starts), but its config is only read at
 * its first request: the first such route warns once
 * (TUT_WARN_LATE_REGISTRATION). A plugin registered inside another plugin
 * covers only that plugin's routes (Fastify's encapsulation).
 */
export const tcpUserTimeout = fp(plugin, { fastify: '5.x', name: '@tcp-user-timeout/fastify' })
