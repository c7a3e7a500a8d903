import http from 'node:http'
import { answer } from './lib/answer.mjs'
import { listen } from './lib/listen.mjs'
import { adapterForRoutes, overrideOf, ROUTE_MIDDLEWARE, STAGE } from './lib/route-middleware.mjs'

export const adapter = {
  kind: 'http',
  package: '@tcp-user-timeout/express',
  exports: { functions: ['tcpUserTimeout', 'override', 'hardenServer'] },
  example: 'express',
}

export const contract = { ...ROUTE_MIDDLEWARE, errorHandlerInScope: true }

/**
 * Express 4 or 5 (`options.express`, default the installed `express`):
 * `use(app)`, then `express.json()` (with `json`), the routes, and the error
 * handler (with `onError`). A route's middleware: its override(), its stage,
 * its own. A handler's result is sent (a string with res.send, anything else
 * with res.json) unless it answered itself or the response is gone.
 */
export async function start({ use, json = false, routes, onError, express }) {
  express ??= await load()
  const module = await adapterForRoutes(routes, adapter)
  const app = express()
  // A bad adapter option throws here, before anything listens.
  await use?.(app)
  if (json) app.use(express.json())
  for (const route of routes) {
    const method = route.method === 'POST' ? 'post' : 'get'
    const middleware = [...overrideOf(module, route), ...stageOf(route), ...(route.middleware ?? [])]
    app[method](route.path, ...middleware, (req, res, next) => {
      const send = (result) => {
        if (res.headersSent || res.destroyed) return
        if (typeof result === 'string') res.send(result)
        else res.json(result)
      }
      // Express 4 ignores a handler's promise: its rejection is passed on by hand.
      answer(route.handler, [req, res], send, next)
    })
  }
  if (onError) {
    app.use((error, _req, res, _next) => {
      const { status, body } = onError(error)
      res.status(status).json(body)
    })
  }
  return listen(http.createServer(app))
}

// Express 4 ignores a middleware's promise: its result and rejection are passed on by hand.
function stageOf(route) {
  if (route.stage === undefined) return []
  return [
    (_req, _res, next) => {
      Promise.resolve()
        .then(() => route.stage(STAGE))
        .then(() => next(), next)
    },
  ]
}

/** The installed Express. */
export async function load() {
  return (await import('express')).default
}

export function use(module, ...args) {
  return (app) => app.use(module.tcpUserTimeout(...args))
}

export function als(app, storage, store) {
  app.use(function alsMiddleware(req, res, next) {
    storage.run(store, next)
  })
}

export function request(req) {
  const { method, path, headers, rawHeaders, body } = req
  return { method, path, headers, rawHeaders, body, stream: req }
}
