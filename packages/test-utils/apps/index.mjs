// One app per framework, for the tests, the benches and the demo: built from
// the caller's middleware and routes, listening on 127.0.0.1 port 0. Plain
// JavaScript (typed by index.d.ts): the benches and the demo run under plain
// `node`. Each framework's module, and its adapter, is imported only when
// first used: a process loads only its own, and an app without the adapter
// pays nothing of the adapter's client hooks.

/** The frameworks with an adapter; each has a module here named after it. */
export const FRAMEWORKS = Object.freeze(['express', 'koa', 'fastify', 'hono'])

const ADAPTERS = {
  express: '@tcp-user-timeout/express',
  koa: '@tcp-user-timeout/koa',
  fastify: '@tcp-user-timeout/fastify',
  hono: '@tcp-user-timeout/hono',
}

function known(framework) {
  if (!FRAMEWORKS.includes(framework)) throw new Error(`unknown framework ${framework}; one of ${FRAMEWORKS.join(', ')}`)
}

/** Builds `framework`'s app from `options` and listens on 127.0.0.1 port 0 (see index.d.ts). */
export async function createApp(framework, options) {
  const { start } = await loadFramework(framework)
  return start(options)
}

/** Imports the framework now (createApp otherwise does on first use): a clock started later does not count it. */
export async function loadFramework(framework) {
  known(framework)
  const module = await import(`./${framework}.mjs`)
  await module.load()
  return module
}

/**
 * The `use` that puts the framework's adapter in as its README shows it:
 * `app.use(tcpUserTimeout(...args))` (Express, Koa, Hono), Fastify `app.register(tcpUserTimeout, ...args)`.
 */
export async function useAdapter(framework, ...args) {
  known(framework)
  const { tcpUserTimeout } = await import(ADAPTERS[framework])
  if (framework === 'fastify') return (app) => app.register(tcpUserTimeout, ...args)
  return (app) => app.use(tcpUserTimeout(...args))
}
