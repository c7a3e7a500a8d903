export const adapter = {
  kind: 'http',
  package: '@tcp-user-timeout/fastify',
  exports: { functions: ['tcpUserTimeout'], defaultIs: 'tcpUserTimeout' },
  example: 'fastify',
}

export const contract = {
  stages: ['preValidation', 'preHandler'],
  errorHandlerInScope: true,
  overrideName: (route) => `${route.method} ${route.path} config.tcpUserTimeout`,
  // Close connections at once: the test clients' keep-alive sockets would hold close() up.
  app: { fastify: { forceCloseConnections: true } },
}

/**
 * Fastify 5 (`fastify`: its options): `use(app)` awaited (the plugin's
 * onRoute hook only sees routes declared after it has loaded), then, with
 * `json`, an application/octet-stream body left unread for the handler
 * (Fastify parses JSON itself), the error handler (with `onError`) and the
 * routes, each with its own route options (`options`: config, hooks),
 * its policy as config.tcpUserTimeout (`override`) and its stage as the
 * preValidation and preHandler hooks. The
 * handler is Fastify's own: its result is sent.
 */
export async function start({ use, json = false, routes, onError, fastify = {} }) {
  const Fastify = await load()
  const app = Fastify(fastify)
  try {
    await use?.(app)
    // Fastify answers 415 to a type it has no parser for: an upload is
    // handed to the handler unread, as Express's and Koa's parsers leave it.
    if (json) app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload))
    if (onError) {
      app.setErrorHandler((error, _request, reply) => {
        const { status, body } = onError(error)
        reply.code(status).send(body)
      })
    }
    for (const route of routes) {
      app.route({ ...routeOptions(route), method: route.method, url: route.path, handler: route.handler })
    }
    await app.listen({ port: 0, host: '127.0.0.1' })
  } catch (error) {
    await app.close()
    throw error
  }
  const { port } = app.server.address()
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    server: app.server,
    close: () => {
      app.server.closeAllConnections()
      return app.close()
    },
  }
}

function routeOptions(route) {
  const options = { ...route.options }
  if (route.override !== undefined) options.config = { ...options.config, tcpUserTimeout: route.override }
  if (route.stage !== undefined) {
    for (const stage of contract.stages)
      options[stage] = async () => {
        await route.stage(stage)
      }
  }
  return options
}

export async function load() {
  return (await import('fastify')).default
}

export function use(module, ...args) {
  return (app) => app.register(module.tcpUserTimeout, ...args)
}

export function als(app, storage, store) {
  app.addHook('onRequest', function alsMiddleware(req, reply, done) {
    storage.run(store, done)
  })
}

export function request(request) {
  const { method, url, headers, raw, body } = request
  return { method, path: url.split('?', 1)[0], headers, rawHeaders: raw.rawHeaders, body, stream: raw }
}
