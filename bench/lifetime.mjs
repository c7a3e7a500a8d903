// What the lifetime rule costs per request (a bound never outlives its
// request): the same request body run in a plain scope (`runInScope`, the
// old rule: sockets keep the bound for life) and in a scope that ends when
// the request settles (`runUntilSettled`, what BullMQ jobs run in; the
// adapters end theirs on the response's 'close' the same way). Two bodies:
// one that opens no socket (it must cost nothing) and one that opens a
// loopback connection and closes it after the request (one extra setsockopt
// at the end, to put it back). Wall-clock µs per request, every variant in
// the same rounds in rotating order; medians and per-round ratios.
import { once } from 'node:events'
import net from 'node:net'
import { stats, support } from '@tcp-user-timeout/core'
import { createPolicy, runInScope, runUntilSettled } from '@tcp-user-timeout/core/adapter'
import { QUICK, skip, writeResult } from './lib/result.mjs'
import { alternate, fmt, fmtSummary, pct, ratios, summarize } from './lib/stats.mjs'

if (!support().supported) skip('lifetime', support().reason)

const ROUNDS = QUICK ? 3 : 15
const REQUESTS = QUICK ? 300 : 3000

const sockets = new Set()
const sink = net.createServer((s) => {
  sockets.add(s)
  s.on('error', () => {})
    .on('close', () => sockets.delete(s))
    .resume()
})
sink.listen(0, '127.0.0.1')
await once(sink, 'listening')
const { port } = sink.address()

const scope = createPolicy({ seconds: 25 }).resolve(undefined)
const nothing = async () => {}
const opens = async () => {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  return socket
}

/** µs per request and setsockopt calls per request, for `count` sequential requests. */
async function sample(run, body) {
  const callsBefore = stats().setsockoptCalls
  const start = process.hrtime.bigint()
  for (let i = 0; i < REQUESTS; i++) {
    const socket = await run(scope, body)
    // Closed after the request, as a pooled connection outlives it.
    if (socket) {
      socket.destroy()
      await once(socket, 'close')
    }
  }
  const us = Number(process.hrtime.bigint() - start) / 1000 / REQUESTS
  return { us, calls: (stats().setsockoptCalls - callsBefore) / REQUESTS }
}

const variants = {
  'no socket, plain scope': () => sample(runInScope, nothing),
  'no socket, until settled': () => sample(runUntilSettled, nothing),
  'one socket, plain scope': () => sample(runInScope, opens),
  'one socket, until settled': () => sample(runUntilSettled, opens),
}
for (const run of Object.values(variants)) await run() // warm-up
const samples = await alternate(ROUNDS, variants)
for (const s of sockets) s.destroy()
sink.close()

const us = (name) => samples[name].map((s) => s.us)
const calls = (name) => samples[name][0].calls
const rows = Object.keys(variants).map((name) => ({ name, us: summarize(us(name)), setsockoptPerRequest: calls(name) }))
const noSocket = ratios(us('no socket, until settled'), us('no socket, plain scope'))
const oneSocket = ratios(us('one socket, until settled'), us('one socket, plain scope'))

console.log(`lifetime: ${REQUESTS} requests × ${ROUNDS} rounds`)
for (const r of rows)
  console.log(
    `  ${r.name.padEnd(28)} ${fmtSummary(r.us, 2, ' µs')}  setsockopt/request ${fmt(r.setsockoptPerRequest, 2)}`,
  )
console.log(`  no socket: until settled / plain ${pct(noSocket.median)}; one socket: ${pct(oneSocket.median)}`)

writeResult('lifetime', {
  requests: REQUESTS,
  rounds: ROUNDS,
  rows,
  ratios: { noSocket, oneSocket },
  targets: [
    {
      what: 'a request that opens no socket makes no setsockopt for the lifetime rule',
      target: '0 calls',
      measured: `${fmt(calls('no socket, until settled'), 2)} calls`,
      met: calls('no socket, until settled') === 0,
    },
    {
      what: 'a request that opens one socket pays one setsockopt to put it back',
      target: '1 extra call per socket',
      measured: `${fmt(calls('one socket, until settled') - calls('one socket, plain scope'), 2)} extra calls`,
      met: calls('one socket, until settled') - calls('one socket, plain scope') === 1,
    },
  ],
})
