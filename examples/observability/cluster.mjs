// stats() and inForce() are per process: under `cluster`, each worker
// registers its metrics as usual (prometheus.mjs) and the primary serves
// their sum, which prom-client's AggregatorRegistry asks each worker for
// over the cluster's IPC channel at every scrape.
//
//   node cluster.mjs      workers on 127.0.0.1:3000, the cluster's metrics on 127.0.0.1:9464/metrics
//   PORT=0 METRICS_PORT=0 WORKERS=4 node cluster.mjs   any free ports, four workers
//
// The workers' app is a plain node:http server hardened with hardenServer:
// every connection it accepts holds a 30 s bound.

import cluster from 'node:cluster'
import http from 'node:http'
import client from 'prom-client'
import { hardenServer, stats } from '@tcp-user-timeout/core'
import { registerTcpUserTimeoutMetrics } from './prometheus.mjs'

const WORKERS = Number(process.env.WORKERS ?? 2)
const PORT = Number(process.env.PORT ?? 3000)
const METRICS_PORT = Number(process.env.METRICS_PORT ?? 9464)

// Created in every process: in the primary it gathers, in a worker it is
// what answers the primary's requests (prom-client installs that listener
// in its constructor).
const aggregator = new client.AggregatorRegistry()

if (cluster.isPrimary) startPrimary()
else startWorker()

function startPrimary() {
  const metrics = http.createServer(async function serveClusterMetrics(req, res) {
    if (req.url !== '/metrics') return void res.writeHead(404).end()
    try {
      const text = await aggregator.clusterMetrics()
      res.writeHead(200, { 'content-type': aggregator.contentType }).end(text)
    } catch (error) {
      // A worker that did not answer in time (prom-client waits 5 s).
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`cluster metrics failed: ${error?.message}\n`)
    }
  })
  metrics.listen(METRICS_PORT, '127.0.0.1', () =>
    console.log(`cluster metrics on http://127.0.0.1:${metrics.address().port}/metrics`),
  )

  let listening = 0
  cluster.on('listening', (worker, address) => {
    if (++listening === WORKERS) console.log(`${WORKERS} workers listening on http://127.0.0.1:${address.port}`)
  })
  let stopping = false
  cluster.on('exit', (worker, code, signal) => {
    if (!stopping) console.error(`worker ${worker.process.pid} exited (${signal ?? code})`)
  })
  for (let i = 0; i < WORKERS; i++) cluster.fork()

  const stop = () => {
    stopping = true
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill()
    metrics.closeAllConnections()
    metrics.close()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

function startWorker() {
  // Into prom-client's global registry, the one the workers' IPC answers read.
  registerTcpUserTimeoutMetrics()
  const server = http.createServer(function answer(req, res) {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ pid: process.pid, bound: stats().bound }))
  })
  hardenServer(server, { userTimeoutSeconds: 30 })
  server.listen(PORT, '127.0.0.1')
}
