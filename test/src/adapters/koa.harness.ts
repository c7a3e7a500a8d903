import type { Context, Middleware } from 'koa'
// The fixture's parser sets ctx.request.body; its types say so.
import type {} from '@koa/bodyparser'
import supertest from 'supertest'
import { override, tcpUserTimeout } from '@tcp-user-timeout/koa'
import { createApp } from '@tcp-user-timeout/test-utils/apps'
import type { AdapterHarness, AppSpec, RouteSpec, RunningApp } from '@tcp-user-timeout/test-utils'

export const koaHarness: AdapterHarness<Context> = {
  name: 'koa',
  stages: ['route middleware'],
  // The try/catch is the first middleware, upstream of tcpUserTimeout: its
  // code after `await next()` runs in its own context, outside the scope.
  errorHandlerInScope: false,
  overrideName: () => 'override()',
  secondsFromPath: (choose) => (ctx) => choose(ctx.path) as number | undefined | false,

  async start(spec: AppSpec<Context>): Promise<RunningApp> {
    const app = await createApp('koa', {
      onError: (error) => ({ status: 500, body: spec.onError?.(error) ?? { error: String(error) } }),
      // Validation happens here: a bad option throws before anything listens.
      use: spec.use && ((app) => app.use((tcpUserTimeout as (...args: unknown[]) => Middleware)(...spec.use!))),
      // After the middleware: the body is read inside the scope.
      json: true,
      routes: spec.routes.map((route) => ({
        method: route.method,
        path: route.path,
        middleware: [...(route.override === undefined ? [] : [override(route.override)]), stage(route)],
        handler: (ctx: Context) =>
          route.handler({
            method: ctx.method,
            path: ctx.path,
            headers: ctx.headers,
            rawHeaders: ctx.req.rawHeaders,
            body: ctx.request.body,
            stream: ctx.req,
          }),
      })),
    })
    return { origin: app.origin, client: supertest(app.server), close: app.close }
  },
}

function stage(route: RouteSpec<Context>): Middleware {
  return async (_ctx, next) => {
    await route.stage?.('route middleware')
    await next()
  }
}
