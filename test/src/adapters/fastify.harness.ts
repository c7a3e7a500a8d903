import Fastify, { type FastifyRequest } from 'fastify'
import supertest from 'supertest'
import { tcpUserTimeout } from '@tcp-user-timeout/fastify'
import type { AdapterHarness, AppSpec, RouteSpec, RunningApp } from '@tcp-user-timeout/test-utils'

const pathOf = (request: FastifyRequest) => request.url.split('?', 1)[0]!

export const fastifyHarness: AdapterHarness<FastifyRequest> = {
  name: 'fastify',
  stages: ['preValidation', 'preHandler'],
  errorHandlerInScope: true,
  overrideName: (route) => `${route.method} ${route.path} config.tcpUserTimeout()`,
  secondsFromPath: (choose) => (request) => choose(pathOf(request)) as number | undefined | false,

  async start(spec: AppSpec<FastifyRequest>): Promise<RunningApp> {
    // Close connections at once: the test clients' keep-alive sockets would hold close() up.
    const app = Fastify({ forceCloseConnections: true })
    try {
      // Awaited: the plugin's onRoute hook only sees routes declared after
      // it has loaded (see the report on registering without await).
      if (spec.use !== undefined) {
        // Without options is a type error now; the contract checks the runtime error plain JavaScript gets.
        if (spec.use.length === 0) await app.register(tcpUserTimeout as never)
        else await app.register(tcpUserTimeout, spec.use[0])
      }
      // Fastify answers 415 to a type it has no parser for: an upload is
      // handed to the handler unread, as Express's and Koa's parsers leave it.
      app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload))
      app.setErrorHandler((error, _request, reply) => {
        reply.code(500).send(spec.onError?.(error) ?? { error: String(error) })
      })
      for (const route of spec.routes) declare(app, route)
      await app.listen({ port: 0, host: '127.0.0.1' })
    } catch (error) {
      await app.close()
      throw error
    }
    const origin = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`
    return { origin, client: supertest(origin), close: () => app.close() }
  },
}

function declare(app: ReturnType<typeof Fastify>, route: RouteSpec<FastifyRequest>): void {
  app.route({
    method: route.method,
    url: route.path,
    config: route.override === undefined ? {} : { tcpUserTimeout: route.override },
    preValidation: async () => {
      await route.stage?.('preValidation')
    },
    preHandler: async () => {
      await route.stage?.('preHandler')
    },
    handler: async (request: FastifyRequest) =>
      route.handler({
        method: request.method,
        path: pathOf(request),
        headers: request.headers,
        rawHeaders: request.raw.rawHeaders,
        body: request.body,
        stream: request.raw,
      }),
  })
}
