/**
 * hardenServer on every kind of server a user has, read back with getsockopt
 * on the accepted sockets: node's net/http/https servers, and the servers
 * behind Express (`app.listen`), Koa (`app.listen`) and Fastify (the plugin's
 * `hardenServer` option, applied to `fastify.server`).
 */
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { once } from 'node:events'
import { afterAll, describe, expect, it } from 'vitest'
import { DEFAULT_KEEPALIVE, getKeepAliveProbes, getUserTimeout, hardenServer, type HardenOptions } from '@tcp-user-timeout/core'
import { hardenServer as expressHarden, tcpUserTimeout as expressMiddleware } from '@tcp-user-timeout/express'
import { hardenServer as koaHarden } from '@tcp-user-timeout/koa'
import { tcpUserTimeout as fastifyPlugin } from '@tcp-user-timeout/fastify'
import express from 'express'
import Koa from 'koa'
import Fastify from 'fastify'
import { closeAll, connected, listen, tlsOptions } from './helpers/servers.js'

afterAll(closeAll)

const options: HardenOptions = { userTimeoutSeconds: 7, keepAlive: { idleSeconds: 11, intervalSeconds: 3, count: 4 } }
const expected = { userTimeout: 7000, probes: { enabled: true, idleSeconds: 11, intervalSeconds: 3, count: 4 } }

/** Connects to the server and reads the option back on the socket it accepted. */
async function readBackAccepted(server: net.Server) {
  const port = (server.address() as net.AddressInfo).port
  const accepted = once(server, 'connection') as Promise<[net.Socket]>
  const client = await connected(net.connect(port, '127.0.0.1'))
  const [socket] = await accepted
  try {
    return { userTimeout: getUserTimeout(socket), probes: getKeepAliveProbes(socket) }
  } finally {
    client.destroy()
  }
}

async function listening<S extends net.Server>(server: S): Promise<S> {
  if (!server.listening) await once(server, 'listening')
  return server
}

describe('hardenServer read back on the accepted sockets of each kind of server', { concurrent: true }, () => {
  it('net.Server', async () => {
    const { server } = await listen(net.createServer((s) => s.resume()))
    hardenServer(server, options)
    expect(await readBackAccepted(server)).toEqual(expected)
  })

  it('http.Server', async () => {
    const { server } = await listen(http.createServer((_req, res) => res.end()))
    hardenServer(server, options)
    expect(await readBackAccepted(server)).toEqual(expected)
  })

  it('https.Server (the raw TCP socket under TLS)', async () => {
    const { server } = await listen(https.createServer(tlsOptions, (_req, res) => res.end()))
    hardenServer(server, options)
    expect(await readBackAccepted(server)).toEqual(expected)
  })

  it('Express: hardenServer(app.listen(...)) from the adapter, next to the middleware', async () => {
    const app = express()
    app.use(expressMiddleware({ seconds: 25 }))
    const server = await listening(app.listen(0, '127.0.0.1'))
    expressHarden(server, options)
    try {
      expect(await readBackAccepted(server)).toEqual(expected)
    } finally {
      server.close()
    }
  })

  it('Koa: hardenServer(app.listen(...)) from the adapter', async () => {
    const server = await listening(new Koa().listen(0, '127.0.0.1'))
    koaHarden(server, options)
    try {
      expect(await readBackAccepted(server)).toEqual(expected)
    } finally {
      server.close()
    }
  })

  it('Fastify: the plugin option hardenServer, applied to fastify.server; undone on close', async () => {
    const app = Fastify()
    await app.register(fastifyPlugin, { seconds: 25, hardenServer: options })
    await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      expect(await readBackAccepted(app.server)).toEqual(expected)
    } finally {
      await app.close()
    }
    expect(app.server.listenerCount('connection')).toBeLessThanOrEqual(1) // Node's own http listener only
  })

  it('Fastify: hardenServer: true gives the documented defaults', async () => {
    const app = Fastify()
    await app.register(fastifyPlugin, { seconds: 25, hardenServer: true })
    await app.listen({ port: 0, host: '127.0.0.1' })
    try {
      expect(await readBackAccepted(app.server)).toEqual({
        userTimeout: 150_000,
        probes: { enabled: true, ...DEFAULT_KEEPALIVE },
      })
    } finally {
      await app.close()
    }
  })
})

describe('hardenServer defaults and validation', { concurrent: true }, () => {
  it('no options: Go-style probes 15 s / 15 s / 9, user timeout idle + interval * count = 150 s', async () => {
    expect(DEFAULT_KEEPALIVE).toEqual({ idleSeconds: 15, intervalSeconds: 15, count: 9 })
    const { server } = await listen(net.createServer((s) => s.resume()))
    hardenServer(server)
    expect(await readBackAccepted(server)).toEqual({ userTimeout: 150_000, probes: { enabled: true, idleSeconds: 15, intervalSeconds: 15, count: 9 } })
  })

  it('only a user timeout: the default probes still catch idle ghosts', async () => {
    const { server } = await listen(net.createServer((s) => s.resume()))
    hardenServer(server, { userTimeoutSeconds: 30 })
    expect(await readBackAccepted(server)).toEqual({ userTimeout: 30_000, probes: { enabled: true, ...DEFAULT_KEEPALIVE } })
  })

  it('keepAlive: false leaves the probes off', async () => {
    const { server } = await listen(net.createServer((s) => s.resume()))
    hardenServer(server, { userTimeoutSeconds: 30, keepAlive: false })
    const seen = await readBackAccepted(server)
    expect(seen.userTimeout).toBe(30_000)
    expect(seen.probes?.enabled).toBe(false)
  })

  it('Fastify: a bad hardenServer option rejects the registration with a coded error', async () => {
    const app = Fastify()
    const outcome = await app.register(fastifyPlugin, { seconds: 25, hardenServer: { userTimeoutSeconds: -1 } }).then(
      () => 'registered',
      (error: { code?: string; message?: string }) => `${error.code}: ${error.message}`,
    )
    expect(outcome).toMatch(/^TUT_ERR_INVALID_OPTION: hardenServer: userTimeoutSeconds .*received -1/)
    await app.close()
  })
})
