import http from 'node:http'
import type { ErrorRequestHandler, Request, RequestHandler } from 'express'
import supertest from 'supertest'
import { override, tcpUserTimeout } from '@tcp-user-timeout/express'
import { serve, type AdapterHarness, type AppSpec, type RouteSpec, type RunningApp } from '@tcp-user-timeout/test-utils'

type Express = typeof import('express')

/** Express 4 and 5 share the harness; only the framework module differs. */
export function expressHarness(name: string, express: Express): AdapterHarness<Request> {
  return {
    name,
    stages: ['route middleware'],
    errorHandlerInScope: true,
    overrideName: () => 'override()',
    secondsFromPath: (choose) => (req) => choose(req.path) as number | undefined | false,

    async start(spec: AppSpec<Request>): Promise<RunningApp> {
      const app = express()
      // Validation happens here: a bad option throws before anything listens.
      if (spec.use !== undefined) app.use((tcpUserTimeout as (...args: unknown[]) => RequestHandler)(...spec.use))
      // After the middleware: the body is read inside the scope.
      app.use(express.json())
      for (const route of spec.routes) {
        const chain: RequestHandler[] = []
        if (route.override !== undefined) chain.push(override(route.override))
        chain.push(stage(route), handle(route))
        if (route.method === 'GET') app.get(route.path, ...chain)
        else app.post(route.path, ...chain)
      }
      const onError: ErrorRequestHandler = (error, _req, res, _next) => {
        res.status(500).json(spec.onError?.(error) ?? { error: String(error) })
      }
      app.use(onError)
      const server = http.createServer(app)
      const served = await serve(server)
      return { origin: served.origin, client: supertest(server), close: served.close }
    },
  }
}

// Express 4 ignores a middleware's promise: results and rejections are
// passed on by hand (Express 5 would also catch them itself).
function stage(route: RouteSpec<Request>): RequestHandler {
  return (_req, _res, next) => {
    Promise.resolve()
      .then(() => route.stage?.('route middleware'))
      .then(() => next(), next)
  }
}

function handle(route: RouteSpec<Request>): RequestHandler {
  return (req, res, next) => {
    const neutral = { method: req.method, path: req.path, headers: req.headers, rawHeaders: req.rawHeaders, body: req.body, stream: req }
    // A synchronous throw becomes a rejection too: one path to the error handler.
    new Promise((resolve) => resolve(route.handler(neutral))).then((result) => res.json(result), next)
  }
}
