// A tiny real use of the packed adapters, as a user writes it: an Express app
// on 127.0.0.1:0 answering real requests with the budget its handler sees;
// then the same through Koa, Fastify (its route config included), Hono
// on @hono/node-server, and a grpc-js service called over a pinned channel.
import assert from 'node:assert/strict'
import express from 'express'
import Koa from 'koa'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { tcpUserTimeout, override, hardenServer } from '@tcp-user-timeout/express'
import * as koaAdapter from '@tcp-user-timeout/koa'
import fastifyPlugin from '@tcp-user-timeout/fastify'
import * as honoAdapter from '@tcp-user-timeout/hono'
import * as grpcAdapter from '@tcp-user-timeout/grpc-js'
import grpc from '@grpc/grpc-js'
import dc from 'node:diagnostics_channel'
import { CHANNEL_BIND, currentTimeout } from '@tcp-user-timeout/core'
import { report } from './checks.mjs'

const TIMEOUT_MS = 5_000
const budget = () => ({ ms: currentTimeout() ?? null })

/** POSTs { n: 42 } as JSON to `origin`/body. */
function postBody(origin) {
  return fetch(`${origin}/body`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ n: 42 }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  })
}

async function get(origin, path, headers = {}) {
  const res = await fetch(`${origin}${path}`, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) })
  assert.equal(res.status, 200, `GET ${path}: status ${res.status}`)
  return res.json()
}

async function listen(server) {
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject))
  return `http://127.0.0.1:${server.address().port}`
}

async function close(server) {
  server.closeAllConnections?.()
  await new Promise((resolve) => server.close(resolve))
}

const result = {}

// Express
{
  const app = express()
  app.use(tcpUserTimeout({ seconds: 25, header: 'x-request-timeout-s' }))
  app.use(express.json())
  app.get('/quote', (_req, res) => res.json(budget()))
  app.post('/body', (req, res) => res.json({ ...budget(), echoed: req.body.n }))
  app.get('/export', override({ seconds: 300 }), (_req, res) => res.json(budget()))
  app.get('/health', override(false), (_req, res) => res.json(budget()))
  const server = app.listen(0, '127.0.0.1')
  const undo = hardenServer(server)
  assert.equal(typeof undo, 'function', 'hardenServer returns an undo')
  const origin = await listen(server)
  try {
    const post = await postBody(origin)
    result.express = {
      quote: await get(origin, '/quote'),
      tightened: await get(origin, '/quote', { 'x-request-timeout-s': '3' }),
      body: await post.json(),
      export: await get(origin, '/export'),
      health: await get(origin, '/health'),
    }
  } finally {
    undo()
    await close(server)
  }
}

// Koa
{
  const app = new Koa()
  app.use(koaAdapter.tcpUserTimeout({ seconds: (ctx) => (ctx.path === '/reports' ? 120 : 25) }))
  app.use((ctx) => {
    ctx.body = budget()
  })
  const server = app.listen(0, '127.0.0.1')
  const origin = await listen(server)
  try {
    result.koa = { quote: await get(origin, '/quote'), reports: await get(origin, '/reports') }
  } finally {
    await close(server)
  }
}

// Fastify (inject: no socket needed for the plugin's scope)
{
  const app = Fastify()
  await app.register(fastifyPlugin, { seconds: 25 })
  app.get('/quote', async () => budget())
  app.get('/export', { config: { tcpUserTimeout: { seconds: 300 } } }, async () => budget())
  app.get('/health', { config: { tcpUserTimeout: false } }, async () => budget())
  try {
    const inject = async (url) => (await app.inject({ url })).json()
    result.fastify = { quote: await inject('/quote'), export: await inject('/export'), health: await inject('/health') }
  } finally {
    await app.close()
  }
}

// Hono on @hono/node-server
{
  const app = new Hono()
  app.use(honoAdapter.tcpUserTimeout({ seconds: 25 }))
  app.get('/quote', (c) => c.json(budget()))
  app.post('/body', async (c) => c.json({ ...budget(), echoed: (await c.req.json()).n }))
  app.get('/export', honoAdapter.override({ seconds: 300 }), (c) => c.json(budget()))
  app.get('/health', honoAdapter.override(false), (c) => c.json(budget()))
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' })
  const undo = honoAdapter.hardenServer(server)
  const origin = await listen(server)
  try {
    const post = await postBody(origin)
    result.hono = { quote: await get(origin, '/quote'), body: await post.json(), export: await get(origin, '/export'), health: await get(origin, '/health') }
  } finally {
    undo()
    await close(server)
  }
}

// gRPC: a service whose handler answers with its budget, called over a channel pinned as A18 says
{
  const json = { serialize: (v) => Buffer.from(JSON.stringify(v ?? null)), deserialize: (b) => JSON.parse(b.toString()) }
  const Unary = { path: '/tut.Use/Unary', requestStream: false, responseStream: false, originalName: 'unary', requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize }
  const server = new grpc.Server()
  const undo = grpcAdapter.hardenServer(server)
  server.addService({ Unary }, grpcAdapter.tcpUserTimeout({ unary: (_call, callback) => callback(null, budget()) }, { seconds: 25, header: 'x-request-timeout-s' }))
  const port = await new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))))
  // The pin, as the core reports it when it sets it on the channel's connection.
  let pinned = null
  const onBind = (m) => (m.direction === 'outbound' ? (pinned = m.ms) : undefined)
  dc.subscribe(CHANNEL_BIND, onBind)
  const client = new grpc.Client(`127.0.0.1:${port}`, grpcAdapter.withUserTimeout(grpc.credentials.createInsecure()), { 'grpc.keepalive_time_ms': 10_000 })
  const call = (header) => {
    const metadata = new grpc.Metadata()
    if (header !== undefined) metadata.set('x-request-timeout-s', header)
    return new Promise((resolve, reject) =>
      // A deadline past the 25 s budget: it bounds the call, and leaves the budget as it is.
      client.makeUnaryRequest(Unary.path, Unary.requestSerialize, Unary.responseDeserialize, {}, metadata, { deadline: Date.now() + 60_000 }, (e, v) => (e ? reject(e) : resolve(v))),
    )
  }
  try {
    result.grpc = { quote: await call(), tightened: await call('3'), pinned: { ms: pinned } }
  } finally {
    dc.unsubscribe(CHANNEL_BIND, onBind)
    client.close()
    undo()
    server.forceShutdown()
  }
}

report(result)
