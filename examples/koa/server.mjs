// A Koa 3 app whose requests call an upstream over fetch, with a
// kernel-enforced TCP_USER_TIMEOUT on every socket a request uses.
//
//   node server.mjs                      listens on 127.0.0.1:3000 (PORT to change it)
//   UPSTREAM_URL=http://host:port node server.mjs   call that upstream instead of the built-in one
//
// Try it: see README.md next to this file.

import Koa from 'koa'
import Router from '@koa/router'
import { bodyParser } from '@koa/bodyparser'
import { tcpUserTimeout, override } from '@tcp-user-timeout/koa'
import { currentTimeout, support } from '@tcp-user-timeout/core'
import { callUpstream, closeHttp, exitOnSignals, failure, upstreamFromEnv } from '../shared/upstream.mjs'

const PORT = Number(process.env.PORT ?? 3000)

// A stand-in for the API, database or cache a real service calls. It is
// started before any request, so its sockets are boot sockets: no request
// scope touches them. Give UPSTREAM_URL to call a real one instead.
const upstream = await upstreamFromEnv()
const UPSTREAM_URL = upstream.url

const app = new Koa()
const router = new Router()

// First, before the router: every downstream middleware runs in the
// request's scope. 25 s is below a typical 30 s proxy/worker timeout, so a
// dead upstream fails the request while there is still time to answer it.
// A client may ask for less with `x-request-timeout-s: 3`, never for more,
// and never for none.
app.use(tcpUserTimeout({ seconds: 25, header: 'x-request-timeout-s' }))

// Body parsing runs in the scope too (the core carries the request's body
// events into it), so the handlers after it keep their budget.
app.use(bodyParser())

router.get('/quote', async (ctx) => {
  await answer(ctx, '/price')
})

// A slow export legitimately waits minutes on its upstream: its own policy
// replaces the app-wide one. An override is the route's whole policy, so it
// repeats `header` to keep letting clients tighten it.
router.get('/export', override({ seconds: 300, header: 'x-request-timeout-s' }), async (ctx) => {
  await answer(ctx, '/export')
})

// A route that must not be bound at all (say, a long-poll whose upstream
// legitimately sits on unacknowledged data): no scope, sockets left alone.
router.get('/health', override(false), async (ctx) => {
  await answer(ctx, '/ping')
})

// POST with a JSON body: the scope survives the body parser.
router.post('/orders', async (ctx) => {
  await answer(ctx, '/price', ctx.request.body)
})

app.use(router.routes()).use(router.allowedMethods())

const server = app.listen(PORT, '127.0.0.1', () => {
  const { port } = server.address()
  const why = support().supported ? '' : ` (TCP_USER_TIMEOUT not set here: ${support().reason})`
  // One line, parsed by the repository's tests: keep its shape.
  console.log(`koa example listening on http://127.0.0.1:${port} (upstream ${UPSTREAM_URL})${why}`)
})
server.on('error', (err) => {
  console.error(`koa example: cannot listen on 127.0.0.1:${PORT}: ${err.message}`)
  process.exit(1)
})

/** Calls the upstream and answers with the budget that was in effect for it. */
async function answer(ctx, path, body) {
  try {
    const upstreamAnswer = await callUpstream(UPSTREAM_URL, path, body, currentTimeout() ?? 25_000)
    // Read after the await: the scope follows the request across it.
    ctx.body = { route: ctx.path, budgetMs: currentTimeout() ?? null, upstream: upstreamAnswer }
  } catch (err) {
    // ETIMEDOUT here is the kernel giving up on a dead upstream.
    const { status, code } = failure(err)
    ctx.status = status
    ctx.body = { route: ctx.path, budgetMs: currentTimeout() ?? null, error: code }
  }
}

// Stop taking connections, let requests in flight finish, then exit.
exitOnSignals('koa', () => closeHttp(server, upstream))
