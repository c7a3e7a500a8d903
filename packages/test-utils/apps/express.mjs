import http from 'node:http'
import { answer } from './answer.mjs'
import { listen } from './listen.mjs'

/**
 * Express 4 or 5 (`options.express`, default the installed `express`):
 * `use(app)`, then `express.json()` (with `json`), the routes, and the error
 * handler (with `onError`). A handler's result is sent (a string with
 * res.send, anything else with res.json) unless it answered itself or the
 * response is gone.
 */
export async function start({ use, json = false, routes, onError, express }) {
  express ??= await load()
  const app = express()
  // A bad adapter option throws here, before anything listens.
  await use?.(app)
  if (json) app.use(express.json())
  for (const route of routes) {
    const method = route.method === 'POST' ? 'post' : 'get'
    app[method](route.path, ...(route.middleware ?? []), (req, res, next) => {
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

/** The installed Express. */
export async function load() {
  return (await import('express')).default
}
