// The load generator: autocannon, driven programmatically, in its own
// process so that it never shares a CPU slice's event loop with the server
// or the orchestrator. One process serves a whole bench: each `run` command
// is one autocannon run (fixed duration, or a fixed `amount` of requests).
import autocannon from 'autocannon'
import { serveCommands } from './children.mjs'

function run({ url, connections, duration, amount }) {
  return new Promise((resolve, reject) => {
    const options = { url, connections, pipelining: 1, timeout: 10 }
    if (amount !== undefined) options.amount = amount
    else options.duration = duration
    autocannon(options, (error, result) => {
      if (error) return reject(error)
      const seconds = result.duration // actual elapsed time, in seconds
      resolve({
        requests: result.requests.total,
        seconds,
        rps: result.requests.total / seconds,
        // Responses, not requests: a sample is void when any of these is non-zero.
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
        latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
      })
    })
  })
}

const send = serveCommands({ run })
send({ event: 'ready', pid: process.pid })
