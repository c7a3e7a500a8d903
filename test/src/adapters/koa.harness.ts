import http from 'node:http'
import Koa, { type Context, type Middleware } from 'koa'
import Router from '@koa/router'
import { bodyParser } from '@koa/bodyparser'
import supertest from 'supertest'
import { override, tcpUserTimeout } from '@tcp-user-timeout/koa'
import { serve, type AdapterHarness, type AppSpec, type RouteSpec, type RunningApp } from '@tcp-user-timeout/test-utils'

export const koaHarness: AdapterHarness<Context> = {
  name: 'koa',
  stages: ['route middleware'],
  // The try/catch is the first middleware, upstream of tcpUserTimeout: its
  // code after `await next()` runs in its own context, outside the scope.
  errorHandlerInScope: false,
  overrideName: () => 'override()',
  secondsFromPath: (choose) => (ctx) => choose(ctx.path) as number | undefined | false,

  async start(spec: AppSpec<Context>): Promise<RunningApp> {
    const app = new Koa()
    app.use(async (ctx, next) => {
      try {
        await next()
      } catch (error) {
        ctx.status = 500
        ctx.body = spec.onError?.(error) ?? { error: String(error) }
      }
    })
    // Validation happens here: a bad option throws before anything listens.
    if (spec.use !== undefined) app.use((tcpUserTimeout as (...args: unknown[]) => Middleware)(...spec.use))
    // After the middleware: the body is read inside the scope.
    app.use(bodyParser())
    const router = new Router()
    for (const route of spec.routes) {
      const chain: Middleware[] = []
      if (route.override !== undefined) chain.push(override(route.override))
      chain.push(stage(route), handle(route))
      if (route.method === 'GET') router.get(route.path, ...chain)
      else router.post(route.path, ...chain)
    }
    app.use(router.routes())
    const server = http.createServer(app.callback())
    const served = await serve(server)
    return { origin: served.origin, client: supertest(server), close: served.close }
  },
}

function stage(route: RouteSpec<Context>): Middleware {
  return async (_ctx, next) => {
    await route.stage?.('route middleware')
    await next()
  }
}

function handle(route: RouteSpec<Context>): Middleware {
  return async (ctx) => {
    ctx.body = await route.handler({
      method: ctx.method,
      path: ctx.path,
      headers: ctx.headers,
      rawHeaders: ctx.req.rawHeaders,
      body: ctx.request.body,
      stream: ctx.req,
    })
  }
}
