// Socket deadlines as Prometheus metrics with prom-client:
//
//   tcp_user_timeout_bound_total        binds of a non-zero bound
//   tcp_user_timeout_timed_out_total    bound sockets the kernel closed with ETIMEDOUT
//   tcp_user_timeout_reaped_total       of those, inbound ones (hardenServer): dead clients reclaimed
//   tcp_user_timeout_errors_total       setsockopt failures the library kept from the application
//   tcp_user_timeout_bounds_in_force{bound_ms="…"}  open sockets holding each bound, now
//
// The counters are read from stats() when Prometheus scrapes (collect), so
// nothing is counted twice and nothing costs anything between scrapes.
//
//   import client from 'prom-client'
//   import { registerTcpUserTimeoutMetrics } from './prometheus.mjs'
//   registerTcpUserTimeoutMetrics()                 // into client.register
//   app.get('/metrics', async (req, res) =>
//     res.type(client.register.contentType).send(await client.register.metrics()))

import client from 'prom-client'
import { observe, stats } from '@tcp-user-timeout/core'

/** stats() field → counter name (without the prefix) and help. */
const COUNTERS = [
  ['bound', 'bound_total', 'Sockets given a TCP_USER_TIMEOUT bound (binds of a non-zero bound).'],
  [
    'timedOut',
    'timed_out_total',
    'Bound sockets the kernel closed with ETIMEDOUT: data unacknowledged for longer than the bound.',
  ],
  ['reaped', 'reaped_total', 'Inbound sockets of a hardened server closed with ETIMEDOUT (dead clients reclaimed).'],
  ['errors', 'errors_total', 'Socket-option failures the library kept from the application.'],
]

/**
 * Registers the counters and the gauge in `registry`. Returns the observer
 * behind the gauge (`close()` it when the registry goes away).
 *
 * @param {{ registry?: import('prom-client').Registry, prefix?: string }} [options]
 * @returns {import('@tcp-user-timeout/core').Observer}
 */
export function registerTcpUserTimeoutMetrics({ registry = client.register, prefix = 'tcp_user_timeout_' } = {}) {
  for (const [field, name, help] of COUNTERS) {
    new client.Counter({
      name: prefix + name,
      help,
      registers: [registry],
      // The absolute value since the process started: what a counter is.
      collect() {
        this.reset()
        this.inc(stats()[field])
      },
    })
  }
  // Bounds in force are known only from the moment an observer is open.
  const observer = observe()
  new client.Gauge({
    name: `${prefix}bounds_in_force`,
    help: 'Open sockets holding each TCP_USER_TIMEOUT bound, in ms (sockets bound since the metrics were registered).',
    labelNames: ['bound_ms'],
    registers: [registry],
    collect() {
      this.reset()
      for (const [ms, sockets] of Object.entries(observer.inForce())) this.set({ bound_ms: ms }, sockets)
    },
  })
  return observer
}
