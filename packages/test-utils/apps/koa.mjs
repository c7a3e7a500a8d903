import http from 'node:http'
import { answer } from './lib/answer.mjs'
import { listen } from './lib/listen.mjs'
import { adapterForRoutes, awaitedStage, overrideOf, ROUTE_MIDDLEWARE } from './lib/route-middleware.mjs'

export const adapter = {
  kind: 'http',
  package: '@tcp-user-timeout/koa',
  exports: { functions: ['tcpUserTimeout', 'override', 'hardenServer'] },
  example: 'koa',
  // Imported by this fixture beyond the adapter's peers (the packaging test installs them too).
  needs: ['@koa/router', '@koa/bodyparser'],
}

export const contract = {
  ...ROUTE_MIDDLEWARE,
  // The try/catch is the first middleware, upstream of tcpUserTimeout: its
  // code after `await next()` runs in its own context, outside the scope.
  errorHandlerInScope: false,
}

/**
 * Koa 3: the error catcher (with `onError`, first, so it sees every
 * error), `use(app)`, then @koa/bodyparser (with `json`) and the routes on
 * @koa/router (a route's middleware: its override(), its stage, its own).
 * `router: false` takes no router: the one route is the last
 * middleware and answers every request, as in Koa's own hello world. A
 * handler's result becomes ctx.body.
 */
export async function start({ use, json = false, routes, onError, router = true, koa = {} }) {
  const Koa = await load()
  const module = await adapterForRoutes(routes, adapter)
  const { silent, ...settings } = koa
  const app = new Koa(settings)
  // Koa reads it from the instance, not from the constructor's options.
  if (silent !== undefined) app.silent = silent
  if (onError) {
    app.use(async (ctx, next) => {
      try {
        await next()
      } catch (error) {
        const { status, body } = onError(error)
        ctx.status = status
        ctx.body = body
      }
    })
  }
  // A bad adapter option throws here, before anything listens.
  await use?.(app)
  if (json) app.use((await import('@koa/bodyparser')).bodyParser())
  const respond = (route) => (ctx) =>
    answer(
      route.handler,
      [ctx],
      (body) => {
        ctx.body = body
      },
      (error) => Promise.reject(error),
    )
  if (router) {
    const { default: Router } = await import('@koa/router')
    const r = new Router()
    for (const route of routes) {
      const middleware = [...overrideOf(module, route), ...awaitedStage(route), ...(route.middleware ?? [])]
      r[route.method === 'POST' ? 'post' : 'get'](route.path, ...middleware, respond(route))
    }
    app.use(r.routes())
  } else {
    if (routes.length !== 1) throw new Error(`koa without a router takes one route, got ${routes.length}`)
    app.use(respond(routes[0]))
  }
  return listen(http.createServer(app.callback()))
}

export async function load() {
  return (await import('koa')).default
}

export function use(module, ...args) {
  return (app) => app.use(module.tcpUserTimeout(...args))
}

export function als(app, storage, store) {
  app.use(function alsMiddleware(ctx, next) {
    return storage.run(store, next)
  })
}

export function request(ctx) {
  const { method, path, headers, req } = ctx
  return { method, path, headers, rawHeaders: req.rawHeaders, body: ctx.request.body, stream: req }
}
