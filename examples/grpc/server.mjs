// A grpc-js service whose handlers call an upstream over fetch, with a
// kernel-enforced TCP_USER_TIMEOUT on every socket a call uses: the budget
// is 25 s, tightened by the call's deadline and by the `x-request-timeout-s`
// metadata; Export gets 300 s.
//
//   node server.mjs                      listens on 127.0.0.1:50051 (PORT to change it)
//   UPSTREAM_URL=http://host:port node server.mjs   call that upstream instead of the built-in one
//   node client.mjs 127.0.0.1:50051      calls it (see README.md next to this file)

import * as grpc from '@grpc/grpc-js'
import { hardenServer, tcpUserTimeout } from '@tcp-user-timeout/grpc-js'
import { currentTimeout, support } from '@tcp-user-timeout/core'
import { callUpstream, exitOnSignals, failure, upstreamFromEnv } from '../shared/upstream.mjs'
import { KEEPALIVE, Quotes } from './quotes.mjs'

const PORT = Number(process.env.PORT ?? 50051)

// A stand-in for the API, database or cache a real service calls. It is
// started before any call, so its sockets are boot sockets: no call's scope
// touches them. Give UPSTREAM_URL to call a real one instead.
const upstream = await upstreamFromEnv()
const UPSTREAM_URL = upstream.url

const server = new grpc.Server(KEEPALIVE)

// A18 on the server side: every accepted connection gets keep-alive probes
// and a TCP_USER_TIMEOUT of grpc.keepalive_timeout_ms (10 s), so a client
// that vanished while we stream to it is reaped, not kept for 15 minutes.
hardenServer(server)

/** Calls the upstream in the call's scope; answers with the budget that bound its socket. */
async function quote(symbol, path) {
  const answer = await callUpstream(UPSTREAM_URL, path, undefined, currentTimeout() ?? 25_000)
  // Read after the await: the scope follows the call across it.
  return { symbol, price: answer.price, budgetMs: currentTimeout() ?? 0 }
}

const handlers = {
  async getQuote(call, callback) {
    try {
      callback(null, await quote(call.request.symbol, '/price'))
    } catch (err) {
      // ETIMEDOUT here is the kernel giving up on a dead upstream.
      callback({ code: grpc.status.UNAVAILABLE, details: failure(err).code })
    }
  },
  async watchQuotes(call) {
    try {
      for (let i = 0; i < call.request.count && !call.cancelled; i++)
        call.write(await quote(call.request.symbol, '/price'))
      call.end()
    } catch (err) {
      // grpc-js turns an 'error' on a server stream into its status.
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: failure(err).code })
    }
  },
  async export(call, callback) {
    try {
      callback(null, await quote(call.request.symbol, '/export'))
    } catch (err) {
      callback({ code: grpc.status.UNAVAILABLE, details: failure(err).code })
    }
  },
}

// Each handler, and every event of its call, runs in the call's scope until
// the call ends. 25 s, or less if the call's deadline (or the metadata
// x-request-timeout-s) is closer; never more. Export legitimately waits
// minutes on its upstream: the seconds callback gives it its own budget.
server.addService(
  Quotes.service,
  tcpUserTimeout(handlers, {
    seconds: (call) => (call.getPath() === '/quotes.Quotes/Export' ? 300 : 25),
    header: 'x-request-timeout-s',
  }),
)

server.bindAsync(`127.0.0.1:${PORT}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error(`grpc example: cannot listen on 127.0.0.1:${PORT}: ${err.message}`)
    process.exit(1)
  }
  const why = support().supported ? '' : ` (TCP_USER_TIMEOUT not set here: ${support().reason})`
  // One line, parsed by the repository's tests: keep its shape.
  console.log(`grpc example listening on 127.0.0.1:${port} (upstream ${UPSTREAM_URL})${why}`)
})

// Stop taking calls, let those in flight finish, then exit.
exitOnSignals(
  'grpc',
  () =>
    new Promise((resolve) => {
      server.tryShutdown(() => {
        upstream.close()
        resolve()
      })
    }),
)
