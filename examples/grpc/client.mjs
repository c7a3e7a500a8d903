// Calls the example server (server.mjs) through a channel pinned as gRPC A18
// says, and prints one JSON line per call with the budget the server's
// handler ran with, then one for the channel's connection.
//
//   node client.mjs [host:port]          default 127.0.0.1:50051

import * as grpc from '@grpc/grpc-js'
import { withUserTimeout } from '@tcp-user-timeout/grpc-js'
import { observe } from '@tcp-user-timeout/core'
import { KEEPALIVE, Quotes } from './quotes.mjs'

const target = process.argv[2] ?? '127.0.0.1:50051'

// Every connection of this channel gets TCP_USER_TIMEOUT = the keepalive
// timeout (10 s): a call stuck on a connection whose peer vanished fails
// with UNAVAILABLE after about 10 s, whatever keepalive's ping can do.
const pins = []
const observer = observe((event) => {
  if (event.type === 'bind' && event.direction === 'outbound') pins.push({ pinnedMs: event.ms, peer: event.peer })
})
const client = new Quotes(target, withUserTimeout(grpc.credentials.createInsecure()), KEEPALIVE)

// A deadline on every call, as gRPC recommends: the server sees it, and a
// far one (30 s) leaves its 25 s budget as it is.
const DEADLINE_MS = 30_000
const print = (call, fields) => console.log(JSON.stringify({ call, ...fields }))

function unary(method, request, { deadlineMs = DEADLINE_MS, header } = {}) {
  const metadata = new grpc.Metadata()
  if (header !== undefined) metadata.set('x-request-timeout-s', header)
  return new Promise((resolve, reject) =>
    client[method](request, metadata, { deadline: Date.now() + deadlineMs }, (err, quote) =>
      err ? reject(err) : resolve(quote),
    ),
  )
}

const cases = [
  ['GetQuote', {}], //                                     25 s
  ['GetQuote deadline 3 s', { deadlineMs: 3000 }], //      the time left to the deadline: just under 3 s
  ['GetQuote x-request-timeout-s: 2', { header: '2' }], // 2 s: the metadata may tighten it
  ['GetQuote x-request-timeout-s: 600', { header: '600' }], // 25 s: never lengthen it
  ['GetQuote x-request-timeout-s: abc', { header: 'abc' }], // 25 s: malformed, ignored
  ['Export deadline 10 min', { deadlineMs: 600_000 }], //  300 s: its own budget
]
try {
  for (const [call, options] of cases) {
    const method = call.startsWith('Export') ? 'export' : 'getQuote'
    const quote = await unary(method, { symbol: 'TUT' }, options)
    print(call, { budgetMs: quote.budgetMs, price: quote.price })
  }
  const stream = client.watchQuotes({ symbol: 'TUT', count: 2 }, { deadline: Date.now() + DEADLINE_MS })
  const budgets = []
  for await (const quote of stream) budgets.push(quote.budgetMs)
  print('WatchQuotes', { budgetsMs: budgets })
  print('connection', pins[0] ?? { pinnedMs: null })
} catch (err) {
  console.error(`grpc example client: ${err.message}`)
  process.exitCode = 1
} finally {
  observer.close()
  client.close()
}
