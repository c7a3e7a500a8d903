// The apps under load: one route (GET /) per framework, each in three
// variants that differ only in the one middleware in front of it:
//   none  no middleware
//   als   a bare AsyncLocalStorage.run, the floor any per-request scope pays
//   ours  tcpUserTimeout({ seconds: 25 })
// The package is imported only by `ours`: its client hooks go in at import,
// and none/als must pay nothing of it.
import { AsyncLocalStorage } from 'node:async_hooks'

export const FRAMEWORKS = ['express', 'koa', 'fastify']
export const VARIANTS = ['none', 'als', 'ours']
const SECONDS = 25

// The als middleware is a named function so that profiles (http/profile.mjs) can tell it from the route.
// What `als` stores: a frozen object per request, as ours does (it caches one per budget).
const als = new AsyncLocalStorage()
const store = Object.freeze({ ms: SECONDS * 1000, exempt: undefined })

/**
 * Starts `framework` in `variant` on 127.0.0.1, port 0. `respond` is the body:
 * a string (a synchronous hello world, as each framework's docs write it) or
 * an async function making it; `options` are the adapter's (ours only).
 * Returns { port, close }.
 */
export async function startApp(framework, variant, respond, options = { seconds: SECONDS }) {
  if (!FRAMEWORKS.includes(framework)) throw new Error(`unknown framework ${framework}; one of ${FRAMEWORKS}`)
  if (!VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}; one of ${VARIANTS}`)
  const ours = variant === 'ours' ? (await import(`@tcp-user-timeout/${framework}`)).tcpUserTimeout : undefined
  switch (framework) {
    case 'express':
      return startExpress(variant, ours, respond, options)
    case 'koa':
      return startKoa(variant, ours, respond, options)
    case 'fastify':
      return startFastify(variant, ours, respond, options)
  }
}

async function startExpress(variant, ours, respond, options) {
  const { default: express } = await import('express')
  const app = express()
  if (variant === 'als') app.use(function alsMiddleware(req, res, next) { als.run(store, next) })
  if (variant === 'ours') app.use(ours(options))
  if (typeof respond === 'string') app.get('/', (req, res) => res.send(respond))
  else app.get('/', async (req, res) => res.send(await respond()))
  return listenNode(app.listen(0, '127.0.0.1'))
}

async function startKoa(variant, ours, respond, options) {
  const { default: Koa } = await import('koa')
  const app = new Koa()
  if (variant === 'als') app.use(function alsMiddleware(ctx, next) { return als.run(store, next) })
  if (variant === 'ours') app.use(ours(options))
  // No router: the one route is the last middleware, as in Koa's own hello world.
  if (typeof respond === 'string') {
    app.use((ctx) => {
      ctx.body = respond
    })
  } else {
    app.use(async (ctx) => {
      ctx.body = await respond()
    })
  }
  return listenNode(app.listen(0, '127.0.0.1'))
}

async function startFastify(variant, ours, respond, options) {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  if (variant === 'als') app.addHook('onRequest', function alsMiddleware(req, reply, done) { als.run(store, done) })
  if (variant === 'ours') await app.register(ours, options)
  if (typeof respond === 'string') app.get('/', (req, reply) => reply.send(respond))
  else app.get('/', () => respond())
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { port: app.server.address().port, server: app.server, close: () => app.close() }
}

function listenNode(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.once('listening', () => {
      const close = () => new Promise((r) => {
        server.close(() => r())
        server.closeAllConnections()
      })
      resolve({ port: server.address().port, server, close })
    })
  })
}
