import type { Request, RequestHandler } from 'express'
import supertest from 'supertest'
import { override, tcpUserTimeout } from '@tcp-user-timeout/express'
import { createApp } from '@tcp-user-timeout/test-utils/apps'
import type { AdapterHarness, AppSpec, RouteSpec, RunningApp } from '@tcp-user-timeout/test-utils'

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
      const app = await createApp('express', {
        express,
        // Validation happens here: a bad option throws before anything listens.
        use: spec.use && ((app) => app.use((tcpUserTimeout as (...args: unknown[]) => RequestHandler)(...spec.use!))),
        // After the middleware: the body is read inside the scope.
        json: true,
        routes: spec.routes.map((route) => ({
          method: route.method,
          path: route.path,
          middleware: [...(route.override === undefined ? [] : [override(route.override)]), stage(route)],
          handler: (req: Request) =>
            route.handler({ method: req.method, path: req.path, headers: req.headers, rawHeaders: req.rawHeaders, body: req.body, stream: req }),
        })),
        onError: (error) => ({ status: 500, body: spec.onError?.(error) ?? { error: String(error) } }),
      })
      return { origin: app.origin, client: supertest(app.server), close: app.close }
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
