// A tiny real use of each packed adapter: its app fixture (copied here from
// @tcp-user-timeout/test-utils/apps: the framework's own app, the adapter
// put in as its README shows) answering real requests with the budget its
// handler sees. The fixtures import only the frameworks and the packed
// adapters installed here. A job runner's adapter has no app: its packed
// build is checked by checks.mjs alone.
import assert from 'node:assert/strict'
import dc from 'node:diagnostics_channel'
import { CHANNEL_BIND, currentTimeout, InvalidOptionError } from '@tcp-user-timeout/core'
// eslint-disable-next-line n/no-missing-import -- the fixtures are copied in beside this file, in the scratch project
import { ADAPTERS, callFixture, createApp, httpFixture, useAdapter } from './apps/index.mjs'
import { report } from './checks.mjs'

const TIMEOUT_MS = 5_000
const HEADER = 'x-request-timeout-s'
const OPTIONS = { seconds: 25, header: HEADER }
// A deadline past the 25 s budget: it bounds the call, and leaves the budget as it is.
const DEADLINE_MS = 60_000
const budget = () => ({ ms: currentTimeout() ?? null })

async function get(origin, path, headers = {}) {
  const res = await fetch(`${origin}${path}`, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) })
  assert.equal(res.status, 200, `GET ${path}: status ${res.status}`)
  return res.json()
}

/** POSTs { n: 42 } as JSON to `origin`/body. */
async function postBody(origin) {
  const res = await fetch(`${origin}/body`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ n: 42 }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  })
  return res.json()
}

/** What a bad option (seconds: -1) fails with, when the app is built: the core's own error class, not a copy's. */
async function invalid(start) {
  try {
    await (await start()).close()
  } catch (error) {
    return { code: error.code, coreClass: error instanceof InvalidOptionError }
  }
  return null
}

/** The app-wide budget, a header tightening it, a JSON body read in the scope, a route lengthening it, one without. */
async function useHttp(name) {
  const { request, adapter } = httpFixture(name)
  const { hardenServer } = await import(adapter.package)
  const app = await createApp(name, {
    use: await useAdapter(name, OPTIONS),
    json: true,
    routes: [
      { method: 'GET', path: '/quote', handler: budget },
      { method: 'POST', path: '/body', handler: (native) => ({ ...budget(), echoed: request(native).body.n }) },
      { method: 'GET', path: '/export', override: { seconds: 300 }, handler: budget },
      { method: 'GET', path: '/health', override: false, handler: budget },
    ],
  })
  // The adapter's hardenServer, where it exports one (Fastify's is a plugin option), on the app's own server.
  const undo = typeof hardenServer === 'function' ? hardenServer(app.server) : undefined
  try {
    return {
      hardened: typeof undo === 'function',
      quote: await get(app.origin, '/quote'),
      tightened: await get(app.origin, '/quote', { [HEADER]: '3' }),
      body: await postBody(app.origin),
      export: await get(app.origin, '/export'),
      health: await get(app.origin, '/health'),
      invalid: await invalid(async () => createApp(name, { use: await useAdapter(name, { seconds: -1 }), routes: [] })),
    }
  } finally {
    undo?.()
    await app.close()
  }
}

/** The configured budget, and the header (metadata) tightening it. */
async function useCall(name) {
  const { serveOne } = callFixture(name)
  const app = await serveOne({ use: await useAdapter(name, OPTIONS), handler: budget })
  try {
    return {
      quote: await app.call({ deadlineMs: DEADLINE_MS }),
      tightened: await app.call({ deadlineMs: DEADLINE_MS, metadata: { [HEADER]: ['3'] } }),
      invalid: await invalid(async () => serveOne({ use: await useAdapter(name, { seconds: -1 }), handler: budget })),
    }
  } finally {
    await app.close()
  }
}

/**
 * A18: a client channel given the adapter's withUserTimeout credentials
 * binds its connection (the pin, as the core reports it when it sets it),
 * and the adapter's hardenServer takes the RPC server.
 */
async function pinCall(name) {
  const { adapter, start, connect, unary, load } = callFixture(name)
  const { withUserTimeout, hardenServer } = await import(adapter.package)
  const implementation = { unary: (_call, callback) => callback(null, budget()) }
  const app = await start({
    use: await useAdapter(name, OPTIONS),
    implementation,
    before: (server) => hardenServer(server),
  })
  let pinned = null
  const onBind = (m) => (m.direction === 'outbound' ? (pinned = m.ms) : undefined)
  dc.subscribe(CHANNEL_BIND, onBind)
  const { credentials } = await load()
  // A18 pins a channel that sends keepalive pings: to their timeout, 20 s by default.
  const client = connect(app.target, withUserTimeout(credentials.createInsecure()), {
    'grpc.keepalive_time_ms': 10_000,
  })
  try {
    await unary(client, {}, { deadline: Date.now() + DEADLINE_MS })
    return { ms: pinned }
  } finally {
    dc.unsubscribe(CHANNEL_BIND, onBind)
    client.close()
    await app.close()
  }
}

const uses = { http: useHttp, call: async (name) => ({ ...(await useCall(name)), pinned: await pinCall(name) }) }
const result = {}
for (const { name, kind } of ADAPTERS) {
  if (uses[kind] !== undefined) result[name] = await uses[kind](name)
}
report(result)
