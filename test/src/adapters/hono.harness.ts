import type { IncomingMessage } from 'node:http'
import type { HttpBindings } from '@hono/node-server'
import type { Context, MiddlewareHandler } from 'hono'
import supertest from 'supertest'
import { override, tcpUserTimeout } from '@tcp-user-timeout/hono'
import { createApp } from '@tcp-user-timeout/test-utils/apps'
import type { AdapterHarness, AppSpec, RouteSpec, RunningApp } from '@tcp-user-timeout/test-utils'

export const honoHarness: AdapterHarness<Context> = {
  name: 'hono',
  stages: ['route middleware'],
  // app.onError is called by the compose step that caught the throw: inside the scope.
  errorHandlerInScope: true,
  overrideName: () => 'override()',
  secondsFromPath: (choose) => (c) => choose(c.req.path) as number | undefined | false,

  async start(spec: AppSpec<Context>): Promise<RunningApp> {
    const app = await createApp('hono', {
      onError: (error) => ({ status: 500, body: spec.onError?.(error) ?? { error: String(error) } }),
      // Validation happens here: a bad option throws before anything listens.
      use: spec.use && ((app) => app.use((tcpUserTimeout as (...args: unknown[]) => MiddlewareHandler)(...spec.use!))),
      // After the middleware: the body is read inside the scope.
      json: true,
      routes: spec.routes.map((route) => ({
        method: route.method,
        path: route.path,
        middleware: [...(route.override === undefined ? [] : [override(route.override)]), stage(route)],
        // The fixture's parser sets c.get('body').
        handler: (c: Context<{ Bindings: HttpBindings; Variables: { body?: unknown } }>) => {
          const incoming: IncomingMessage = c.env.incoming
          return route.handler({
            method: c.req.method,
            path: c.req.path,
            headers: incoming.headers,
            rawHeaders: incoming.rawHeaders,
            body: c.get('body'),
            stream: incoming,
          })
        },
      })),
    })
    return { origin: app.origin, client: supertest(app.server), close: app.close }
  },
}

function stage(route: RouteSpec<Context>): MiddlewareHandler {
  return async function stageMiddleware(_c, next) {
    await route.stage?.('route middleware')
    await next()
  }
}
