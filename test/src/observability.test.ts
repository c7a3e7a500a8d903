/**
 * examples/observability, imported as a user imports it: a real ETIMEDOUT
 * (the write-side wedge) inside an Express request scope (the shared app
 * fixture with the adapter), read back from each integration — the pino
 * line, the prom-client /metrics text scraped over HTTP, the OpenTelemetry
 * in-memory exporter's data points — and the cluster example's summed
 * metrics, from real workers.
 *
 * The tests run one after another, each from resetStats(): the counters and
 * the observers are process-wide.
 */
import { createRequire } from 'node:module'
import http from 'node:http'
import net from 'node:net'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { getUserTimeout, resetStats, stats, withTimeout } from '@tcp-user-timeout/core'
import { listen, perTest, startTcpSink, type Teardown } from '@tcp-user-timeout/test-utils'
import { createApp, useAdapter } from '@tcp-user-timeout/test-utils/apps'
import { startNode } from './helpers/child.js'
import { startWedgeServer, watchSocket, wedge } from './helpers/wedge.js'

const DIR = fileURLToPath(new URL('../../examples/observability/', import.meta.url))
// The integrations' packages belong to the example: resolved from its folder.
const fromExample = createRequire(`${DIR}package.json`)
const pino = fromExample('pino')
const promClient = fromExample('prom-client')
const otel = fromExample('@opentelemetry/sdk-metrics')
const example = async (file: string) => import(pathToFileURL(DIR + file).href)

const REQUEST_TIMEOUT_MS = 10_000
const BUDGET_S = 1

interface Relayed {
  code: string | undefined
  boundMs: number
  upstream: string
}

/**
 * An Express app with the adapter (`{ seconds: 1 }`) whose handler connects
 * to a server that never reads and writes until the socket is wedged: the
 * kernel closes it with ETIMEDOUT after the request's bound. Resolves with
 * the handler's answer, once the socket has closed (the timeout published).
 */
async function timeOutInARequest(t: Teardown): Promise<Relayed> {
  const upstream = await startWedgeServer(t)
  const app = t.defer(
    await createApp('express', {
      use: await useAdapter('express', { seconds: BUDGET_S }),
      routes: [
        {
          method: 'GET',
          path: '/relay',
          async handler() {
            const socket = upstream.track(net.connect(upstream.port, upstream.host))
            const watch = watchSocket(socket)
            await wedge(socket)
            const boundMs = getUserTimeout(socket)
            await watch.closed()
            return { code: watch.error?.error.code, boundMs, upstream: `${upstream.host}:${upstream.port}` }
          },
        },
      ],
    }),
    (a) => a.close(),
  )
  const res = await fetch(`${app.origin}/relay`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  expect(res.status).toBe(200)
  const relayed = (await res.json()) as Relayed
  expect(relayed).toMatchObject({ code: 'ETIMEDOUT', boundMs: BUDGET_S * 1000 })
  return relayed
}

/** A socket to a sink, bound by `withTimeout(seconds)` and held open with the test: a bound in force. */
async function holdBound(t: Teardown, seconds: number): Promise<net.Socket> {
  const { port } = await startTcpSink(t)
  const socket = t.defer(
    withTimeout(seconds, () => net.connect(port, '127.0.0.1')),
    (s) => s.destroy(),
  )
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  expect(getUserTimeout(socket)).toBe(seconds * 1000)
  return socket
}

/** Prometheus text → { 'name{labels}': value } for the samples (comments left out). */
function samples(text: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    out[line.slice(0, at)] = Number(line.slice(at + 1))
  }
  return out
}

describe('examples/observability', () => {
  it('pino.mjs: a warn line for the timeout and a debug line for the bind, with peer, bound and direction; an error line', async (ctx) => {
    const t = perTest(ctx)
    const lines: Record<string, unknown>[] = []
    const logger = pino(
      { level: 'debug', base: null, timestamp: false },
      { write: (line: string) => void lines.push(JSON.parse(line)) },
    )
    const { logTcpUserTimeouts } = await example('pino.mjs')
    t.defer(logTcpUserTimeouts(logger), (o: { close(): void }) => o.close())

    const { upstream } = await timeOutInARequest(t)
    const timeouts = lines.filter((l) => l.type === 'timeout')
    expect(timeouts).toEqual([
      {
        level: 40,
        type: 'timeout',
        ms: 1000,
        direction: 'outbound',
        peer: upstream,
        code: 'ETIMEDOUT',
        msg: `socket to ${upstream} timed out: no acknowledgement within 1000 ms (outbound)`,
      },
    ])
    expect(lines.filter((l) => l.type === 'bind' && l.peer === upstream)).toEqual([
      { level: 20, type: 'bind', ms: 1000, direction: 'outbound', peer: upstream, msg: 'socket bounded to 1000 ms' },
    ])

    // A seconds callback that throws: the request goes on with the default, the log says why.
    const broken = t.defer(
      await createApp('express', {
        use: await useAdapter('express', {
          seconds: () => {
            throw new Error('bug in the callback')
          },
        }),
        routes: [{ method: 'GET', path: '/', handler: () => 'ok' }],
      }),
      (a) => a.close(),
    )
    const res = await fetch(broken.origin, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    expect(await res.text()).toBe('ok')
    expect(lines.filter((l) => l.type === 'error')).toEqual([
      {
        level: 50,
        type: 'error',
        code: 'TUT_ERR_INVALID_OPTION',
        message: expect.stringMatching(/callback threw \(bug in the callback\)/),
        msg: expect.stringMatching(/^tcp-user-timeout kept an error from the application: /),
      },
    ])
  })

  it('prometheus.mjs: /metrics over HTTP shows the timeout once, the binds, and the bound still in force', async (ctx) => {
    const t = perTest(ctx)
    resetStats()
    const registry = new promClient.Registry()
    const { registerTcpUserTimeoutMetrics } = await example('prometheus.mjs')
    t.defer(registerTcpUserTimeoutMetrics({ registry }), (o: { close(): void }) => o.close())
    const server = http.createServer(async function serveMetrics(_req, res) {
      res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics())
    })
    const { origin } = await listen(t, server)
    const scrape = async () => {
      const res = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
      return samples(await res.text())
    }

    await holdBound(t, 7)
    await timeOutInARequest(t)
    const first = await scrape()
    // Two binds: the held socket (7 s) and the request's upstream socket (1 s), which timed out.
    expect(stats()).toMatchObject({ bound: 2, timedOut: 1, reaped: 0, errors: 0 })
    expect(first).toEqual({
      tcp_user_timeout_bound_total: 2,
      tcp_user_timeout_timed_out_total: 1,
      tcp_user_timeout_reaped_total: 0,
      tcp_user_timeout_errors_total: 0,
      'tcp_user_timeout_bounds_in_force{bound_ms="7000"}': 1,
    })
    // Read from stats() at each scrape: a second scrape counts nothing twice.
    expect(await scrape()).toEqual(first)
  })

  it('opentelemetry.mjs: the in-memory exporter gets the counters and the gauge of bounds in force', async (ctx) => {
    const t = perTest(ctx)
    resetStats()
    const exporter = new otel.InMemoryMetricExporter(otel.AggregationTemporality.CUMULATIVE)
    // Exported on forceFlush only: the interval is far beyond the test.
    const reader = new otel.PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 600_000 })
    const provider = t.defer(
      new otel.MeterProvider({ readers: [reader] }),
      (p: { getMeter(name: string): unknown; shutdown(): Promise<void> }) => p.shutdown(),
    )
    const { instrumentTcpUserTimeout } = await example('opentelemetry.mjs')
    t.defer(instrumentTcpUserTimeout(provider.getMeter('observability-test')), (i: { close(): void }) => i.close())

    await holdBound(t, 7)
    await timeOutInARequest(t)
    await reader.forceFlush()
    const points: Record<string, { value: number; attributes: Record<string, unknown> }[]> = {}
    for (const resource of exporter.getMetrics()) {
      for (const scope of resource.scopeMetrics) {
        for (const metric of scope.metrics) {
          points[metric.descriptor.name] = metric.dataPoints.map(
            (p: { value: number; attributes: Record<string, unknown> }) => ({
              value: p.value,
              attributes: p.attributes,
            }),
          )
        }
      }
    }
    expect(points).toEqual({
      'tcp_user_timeout.bound': [{ value: 2, attributes: {} }],
      'tcp_user_timeout.timed_out': [{ value: 1, attributes: {} }],
      'tcp_user_timeout.reaped': [{ value: 0, attributes: {} }],
      'tcp_user_timeout.errors': [{ value: 0, attributes: {} }],
      'tcp_user_timeout.bounds_in_force': [{ value: 1, attributes: { bound_ms: 7000 } }],
    })
  })

  it("cluster.mjs: the primary's /metrics sums every worker's counters and bounds in force (prom-client AggregatorRegistry)", async (ctx) => {
    const t = perTest(ctx)
    const WORKERS = 2
    const CONNECTIONS = 4
    const primary = startNode(t, ['cluster.mjs'], {
      cwd: DIR,
      env: { ...process.env, PORT: '0', METRICS_PORT: '0', WORKERS: String(WORKERS) },
      label: 'examples/observability/cluster.mjs',
    })
    const [, metricsUrl] = await primary.line(/cluster metrics on (http:\/\/\S+\/metrics)/, 15_000)
    const [, appOrigin] = await primary.line(/\d+ workers listening on (http:\/\/127\.0\.0\.1:\d+)/, 15_000)

    // Four connections at once, kept open: each accepted by one worker and bound by its hardenServer.
    const agent = t.defer(new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS }), (a) => a.destroy())
    const sockets = new Set<net.Socket>()
    const answers = await Promise.all(
      Array.from(
        { length: CONNECTIONS },
        () =>
          new Promise<{ pid: number; bound: number }>((resolve, reject) => {
            http
              .get(appOrigin, { agent, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }, (res) => {
                let body = ''
                res
                  .setEncoding('utf8')
                  .on('data', (c: string) => (body += c))
                  .on('end', () => resolve(JSON.parse(body)))
              })
              .on('socket', (socket: net.Socket) => sockets.add(socket))
              .on('error', reject)
          }),
      ),
    )
    const pids = new Set(answers.map((a) => a.pid))
    console.log(`[cluster] ${CONNECTIONS} connections served by ${pids.size} of ${WORKERS} workers`)
    expect(sockets.size).toBe(CONNECTIONS)

    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    const text = await res.text()
    expect(res.status, text).toBe(200)
    expect(samples(text)).toMatchObject({
      tcp_user_timeout_bound_total: CONNECTIONS,
      tcp_user_timeout_timed_out_total: 0,
      'tcp_user_timeout_bounds_in_force{bound_ms="30000"}': CONNECTIONS,
    })

    // SIGTERM: the primary stops its workers and its metrics server, and exits by itself.
    expect(await primary.stop(10_000)).toEqual({ code: 0, signal: null })
    expect(primary.lines.filter((l) => /exited \(/.test(l))).toEqual([])
  })
})
