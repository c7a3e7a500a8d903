// Socket deadlines as OpenTelemetry metrics, through @opentelemetry/api:
// whatever MeterProvider and exporter the application set up (OTLP,
// Prometheus, ...) receives them.
//
//   tcp_user_timeout.bound, .timed_out, .reaped, .errors   observable counters, from stats()
//   tcp_user_timeout.bounds_in_force {bound_ms}             observable gauge, from an observer's inForce()
//
//   import { metrics } from '@opentelemetry/api'
//   import { instrumentTcpUserTimeout } from './opentelemetry.mjs'
//   instrumentTcpUserTimeout(metrics.getMeter('my-service'))

import { metrics } from '@opentelemetry/api'
import { observe, stats } from '@tcp-user-timeout/core'

/** stats() field → instrument name (after the prefix) and description. */
const COUNTERS = [
  ['bound', 'bound', 'Sockets given a TCP_USER_TIMEOUT bound'],
  ['timedOut', 'timed_out', 'Bound sockets the kernel closed with ETIMEDOUT'],
  ['reaped', 'reaped', 'Inbound sockets of a hardened server closed with ETIMEDOUT'],
  ['errors', 'errors', 'Socket-option failures kept from the application'],
]

/**
 * Creates the instruments on `meter` and reads them on every collection
 * (one stats() call for all of them). Returns `close()`, which removes the
 * callback and closes the observer behind the gauge.
 *
 * @param {import('@opentelemetry/api').Meter} [meter]
 * @param {{ prefix?: string }} [options]
 * @returns {{ observer: import('@tcp-user-timeout/core').Observer, close(): void }}
 */
export function instrumentTcpUserTimeout(
  meter = metrics.getMeter('@tcp-user-timeout/core'),
  { prefix = 'tcp_user_timeout.' } = {},
) {
  const counters = COUNTERS.map(([field, name, description]) => [
    field,
    meter.createObservableCounter(prefix + name, { description, unit: '{socket}' }),
  ])
  const inForce = meter.createObservableGauge(`${prefix}bounds_in_force`, {
    description: 'Open sockets holding each TCP_USER_TIMEOUT bound (bound_ms), sockets bound since instrumenting',
    unit: '{socket}',
  })
  const observer = observe()
  const instruments = [...counters.map(([, counter]) => counter), inForce]
  function recordTcpUserTimeout(result) {
    const now = stats()
    for (const [field, counter] of counters) result.observe(counter, now[field])
    for (const [ms, sockets] of Object.entries(observer.inForce()))
      result.observe(inForce, sockets, { bound_ms: Number(ms) })
  }
  meter.addBatchObservableCallback(recordTcpUserTimeout, instruments)
  return {
    observer,
    close() {
      meter.removeBatchObservableCallback(recordTcpUserTimeout, instruments)
      observer.close()
    },
  }
}
