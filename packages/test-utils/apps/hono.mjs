import { answer } from './lib/answer.mjs'
import { listen } from './lib/listen.mjs'
import { adapterForRoutes, awaitedStage, overrideOf, ROUTE_MIDDLEWARE } from './lib/route-middleware.mjs'

export const adapter = {
  kind: 'http',
  package: '@tcp-user-timeout/hono',
  exports: { functions: ['tcpUserTimeout', 'override', 'hardenServer'] },
  example: 'hono',
}

export const contract = {
  ...ROUTE_MIDDLEWARE,
  // app.onError is called by the compose step that caught the throw: inside the scope.
  errorHandlerInScope: true,
}

/**
 * Hono 4 on @hono/node-server: the error handler (with `onError`,
 * app.onError), `use(app)`, then (with `json`) a middleware that parses an
 * application/json body with c.req.json() and sets it as c.get('body'),
 * leaving any other body unread, and the routes (a route's middleware: its
 * override(), its stage, its own). A handler's result is answered with
 * c.text (a string) or c.json, unless it is a Response already.
 */
export async function start({ use, json = false, routes, onError }) {
  const { Hono, createAdaptorServer } = await load()
  const module = await adapterForRoutes(routes, adapter)
  const app = new Hono()
  if (onError) {
    app.onError((error, c) => {
      const { status, body } = onError(error)
      return c.json(body, status)
    })
  }
  // A bad adapter option throws here, before anything listens.
  await use?.(app)
  if (json) {
    app.use(async function parseJson(c, next) {
      if (c.req.header('content-type')?.startsWith('application/json')) c.set('body', await c.req.json())
      await next()
    })
  }
  for (const route of routes) {
    const method = route.method === 'POST' ? 'post' : 'get'
    const middleware = [...overrideOf(module, route), ...awaitedStage(route), ...(route.middleware ?? [])]
    app[method](route.path, ...middleware, (c) => {
      const send = (result) => {
        if (isResponse(result)) return result
        return typeof result === 'string' ? c.text(result) : c.json(result)
      }
      return answer(route.handler, [c], send, (error) => Promise.reject(error))
    })
  }
  return listen(createAdaptorServer({ fetch: app.fetch }))
}

// Not `instanceof Response`: node-server replaces the global Response with a
// subclass of its own, and fetch's Responses are not instances of that.
function isResponse(value) {
  return Object.prototype.toString.call(value) === '[object Response]'
}

/** Hono and the Node server it runs on. */
export async function load() {
  const [{ Hono }, { createAdaptorServer }] = await Promise.all([import('hono'), import('@hono/node-server')])
  return { Hono, createAdaptorServer }
}

export function use(module, ...args) {
  return (app) => app.use(module.tcpUserTimeout(...args))
}

export function als(app, storage, store) {
  app.use(function alsMiddleware(c, next) {
    return storage.run(store, next)
  })
}

// The Node request under @hono/node-server (c.env.incoming) carries the raw headers and the unread body.
export function request(c) {
  const { incoming } = c.env
  const { headers, rawHeaders } = incoming
  return { method: c.req.method, path: c.req.path, headers, rawHeaders, body: c.get('body'), stream: incoming }
}
