// An Express 5 app whose requests call an upstream over fetch, with a
// kernel-enforced TCP_USER_TIMEOUT on every socket a request uses.
//
//   node server.mjs                      listens on 127.0.0.1:3000 (PORT to change it)
//   UPSTREAM_URL=http://host:port node server.mjs   call that upstream instead of the built-in one
//
// Try it: see README.md next to this file.

import express from 'express'
import { tcpUserTimeout, override } from '@tcp-user-timeout/express'
import { currentTimeout, support } from '@tcp-user-timeout/core'
import { callUpstream, closeHttp, exitOnSignals, failure, upstreamFromEnv } from '../shared/upstream.mjs'

const PORT = Number(process.env.PORT ?? 3000)

// A stand-in for the API, database or cache a real service calls. It is
// started before any request, so its sockets are boot sockets: no request
// scope touches them. Give UPSTREAM_URL to call a real one instead.
const upstream = await upstreamFromEnv()
const UPSTREAM_URL = upstream.url

const app = express()

// First, before the routes: everything after it runs in the request's scope.
// 25 s is below a typical 30 s proxy/worker timeout, so a dead upstream fails
// the request while there is still time to answer it. A client may ask for
// less with `x-request-timeout-s: 3`, never for more, and never for none.
app.use(tcpUserTimeout({ seconds: 25, header: 'x-request-timeout-s' }))

// Body parsing runs in the scope too (the core carries the request's body
// events into it), so a handler after express.json() keeps its budget.
app.use(express.json())

app.get('/quote', async (req, res) => {
  await answer(res, '/quote', '/price')
})

// A slow export legitimately waits minutes on its upstream: its own policy
// replaces the app-wide one. An override is the route's whole policy, so it
// repeats `header` to keep letting clients tighten it.
app.get('/export', override({ seconds: 300, header: 'x-request-timeout-s' }), async (req, res) => {
  await answer(res, '/export', '/export')
})

// A route that must not be bound at all (say, a long-poll whose upstream
// legitimately sits on unacknowledged data): no scope, sockets left alone.
app.get('/health', override(false), async (req, res) => {
  await answer(res, '/health', '/ping')
})

// POST with a JSON body: the scope survives the body parser.
app.post('/orders', async (req, res) => {
  await answer(res, '/orders', '/price', req.body)
})

const server = app.listen(PORT, '127.0.0.1', () => {
  const { port } = server.address()
  const why = support().supported ? '' : ` (TCP_USER_TIMEOUT not set here: ${support().reason})`
  // One line, parsed by the repository's tests: keep its shape.
  console.log(`express example listening on http://127.0.0.1:${port} (upstream ${UPSTREAM_URL})${why}`)
})
server.on('error', (err) => {
  console.error(`express example: cannot listen on 127.0.0.1:${PORT}: ${err.message}`)
  process.exit(1)
})

/** Calls the upstream and answers with the budget that was in effect for it. */
async function answer(res, route, path, body) {
  try {
    const upstreamAnswer = await callUpstream(UPSTREAM_URL, path, body, currentTimeout() ?? 25_000)
    // Read after the await: the scope follows the request across it.
    res.json({ route, budgetMs: currentTimeout() ?? null, upstream: upstreamAnswer })
  } catch (err) {
    // ETIMEDOUT here is the kernel giving up on a dead upstream.
    const { status, code } = failure(err)
    res.status(status).json({ route, budgetMs: currentTimeout() ?? null, error: code })
  }
}

// Stop taking connections, let requests in flight finish, then exit.
exitOnSignals('express', () => closeHttp(server, upstream))
