import type { FastifyRequest } from 'fastify'
import supertest from 'supertest'
import { tcpUserTimeout } from '@tcp-user-timeout/fastify'
import { createApp } from '@tcp-user-timeout/test-utils/apps'
import type { AdapterHarness, AppSpec, RouteSpec, RunningApp } from '@tcp-user-timeout/test-utils'

const pathOf = (request: FastifyRequest) => request.url.split('?', 1)[0]!

export const fastifyHarness: AdapterHarness<FastifyRequest> = {
  name: 'fastify',
  stages: ['preValidation', 'preHandler'],
  errorHandlerInScope: true,
  overrideName: (route) => `${route.method} ${route.path} config.tcpUserTimeout`,
  secondsFromPath: (choose) => (request) => choose(pathOf(request)) as number | undefined | false,

  async start(spec: AppSpec<FastifyRequest>): Promise<RunningApp> {
    const app = await createApp('fastify', {
      // Close connections at once: the test clients' keep-alive sockets would hold close() up.
      fastify: { forceCloseConnections: true },
      use:
        spec.use &&
        // Without options is a type error now; the contract checks the runtime error plain JavaScript gets.
        ((app) => (spec.use!.length === 0 ? app.register(tcpUserTimeout as never) : app.register(tcpUserTimeout, spec.use![0]))),
      json: true,
      onError: (error) => ({ status: 500, body: spec.onError?.(error) ?? { error: String(error) } }),
      routes: spec.routes.map((route) => ({ method: route.method, path: route.path, options: stages(route), handler: handle(route) })),
    })
    return { origin: app.origin, client: supertest(app.origin), close: app.close }
  },
}

function stages(route: RouteSpec<FastifyRequest>): Record<string, unknown> {
  return {
    config: route.override === undefined ? {} : { tcpUserTimeout: route.override },
    preValidation: async () => {
      await route.stage?.('preValidation')
    },
    preHandler: async () => {
      await route.stage?.('preHandler')
    },
  }
}

function handle(route: RouteSpec<FastifyRequest>) {
  return async (request: FastifyRequest) =>
    route.handler({
      method: request.method,
      path: pathOf(request),
      headers: request.headers,
      rawHeaders: request.raw.rawHeaders,
      body: request.body,
      stream: request.raw,
    })
}
