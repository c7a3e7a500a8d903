// A Fastify 5 app whose requests call an upstream over fetch, with a
// kernel-enforced TCP_USER_TIMEOUT on every socket a request uses.
//
//   node server.mjs                      listens on 127.0.0.1:3000 (PORT to change it)
//   UPSTREAM_URL=http://host:port node server.mjs   call that upstream instead of the built-in one
//
// Try it: see README.md next to this file.

import Fastify from 'fastify'
import { tcpUserTimeout } from '@tcp-user-timeout/fastify'
import { currentTimeout, support } from '@tcp-user-timeout/core'
import { callUpstream, exitOnSignals, failure, upstreamFromEnv } from '../shared/upstream.mjs'

const PORT = Number(process.env.PORT ?? 3000)

// A stand-in for the API, database or cache a real service calls. It is
// started before any request, so its sockets are boot sockets: no request
// scope touches them. Give UPSTREAM_URL to call a real one instead.
const upstream = await upstreamFromEnv()
const UPSTREAM_URL = upstream.url

const app = Fastify()

// Registered, and awaited, before the routes: the plugin then reads each route's config as the
// route is declared, and its onRequest hook opens the scope that body
// parsing, the other hooks and the handler all run in. 25 s is below a
// typical 30 s proxy/worker timeout, so a dead upstream fails the request
// while there is still time to answer it. A client may ask for less with
// `x-request-timeout-s: 3`, never for more, and never for none.
await app.register(tcpUserTimeout, { seconds: 25, header: 'x-request-timeout-s' })

app.get('/quote', async (request, reply) => answer(reply, '/quote', '/price'))

// A slow export legitimately waits minutes on its upstream: its own policy
// replaces the app-wide one. It is the route's whole policy, so it repeats
// `header` to keep letting clients tighten it.
app.get(
  '/export',
  { config: { tcpUserTimeout: { seconds: 300, header: 'x-request-timeout-s' } } },
  async (request, reply) => answer(reply, '/export', '/export'),
)

// A route that must not be bound at all (say, a long-poll whose upstream
// legitimately sits on unacknowledged data): no scope, sockets left alone.
app.get('/health', { config: { tcpUserTimeout: false } }, async (request, reply) => answer(reply, '/health', '/ping'))

// POST with a JSON body: Fastify parses it inside the scope.
app.post('/orders', async (request, reply) => answer(reply, '/orders', '/price', request.body))

let address
try {
  address = await app.listen({ port: PORT, host: '127.0.0.1' })
} catch (err) {
  console.error(`fastify example: cannot listen on 127.0.0.1:${PORT}: ${err.message}`)
  process.exit(1)
}
const why = support().supported ? '' : ` (TCP_USER_TIMEOUT not set here: ${support().reason})`
// One line, parsed by the repository's tests: keep its shape.
console.log(`fastify example listening on ${address} (upstream ${UPSTREAM_URL})${why}`)

/** Calls the upstream and answers with the budget that was in effect for it. */
async function answer(reply, route, path, body) {
  try {
    const upstreamAnswer = await callUpstream(UPSTREAM_URL, path, body, currentTimeout() ?? 25_000)
    // Read after the await: the scope follows the request across it.
    return { route, budgetMs: currentTimeout() ?? null, upstream: upstreamAnswer }
  } catch (err) {
    // ETIMEDOUT here is the kernel giving up on a dead upstream.
    const { status, code } = failure(err)
    reply.code(status)
    return { route, budgetMs: currentTimeout() ?? null, error: code }
  }
}

// Fastify's close() ends idle keep-alive connections and waits for the rest.
exitOnSignals('fastify', async () => {
  await app.close()
  upstream.close()
})
