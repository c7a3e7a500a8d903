// The CommonJS view: in a .cts file TypeScript resolves the packages through
// the `require` condition of their exports maps, to dist/index.d.cts.
import { describe, expect, test } from 'tstyche'
import express = require('express')
import Koa = require('koa')
import Fastify = require('fastify')
import core = require('@tcp-user-timeout/core')
import adapter = require('@tcp-user-timeout/core/adapter')
import expressAdapter = require('@tcp-user-timeout/express')
import koaAdapter = require('@tcp-user-timeout/koa')
import fastifyAdapter = require('@tcp-user-timeout/fastify')

describe('require()d core/adapter', () => {
  test('the policy, and running in its scope', () => {
    const policy = adapter.createPolicy<{ path: string }>({ seconds: (req) => (req.path === '/' ? 5 : undefined) })
    expect(policy).type.toBe<adapter.Policy<{ path: string }>>()
    expect(adapter.runUntilSettled(policy.resolve({ path: '/' }, 3000), async () => 1)).type.toBe<Promise<number>>()
    expect(adapter.createPolicy({ seconds: '5' })).type.toRaiseError()
  })
})

describe('require()d core', () => {
  test('scopes and socket options', () => {
    expect(core.withTimeout(25, () => 1)).type.toBe<number>()
    expect(core.withTimeout(25, async () => 'x')).type.toBe<Promise<string>>()
    expect(core.withJobTimeout(30, () => true)).type.toBe<boolean>()
    expect(core.currentTimeout()).type.toBe<number | undefined>()
    expect(core.setUserTimeout(7, 5000)).type.toBe<boolean>()
    expect(core.getUserTimeout(7)).type.toBe<number | undefined>()
    expect(core.withTimeout('25', () => 1)).type.toRaiseError()
  })

  test('errors and stats', () => {
    expect(new core.InvalidOptionError('m').code).type.toBe<'TUT_ERR_INVALID_OPTION'>()
    expect(new core.SocketOptionError('getsockopt', 'TCP_USER_TIMEOUT', 9).code).type.toBe<'TUT_ERR_SOCKOPT'>()
    expect(core.stats()).type.toBe<core.Stats>()
    expect(core.hardenServer(express().listen(0))).type.toBe<() => void>()
  })
})

describe('require()d adapters', () => {
  test('express', () => {
    expect(expressAdapter.tcpUserTimeout({ seconds: 25 })).type.toBe<express.RequestHandler>()
    expect(
      express().use(expressAdapter.tcpUserTimeout({ seconds: (req) => (req.path === '/r' ? 120 : 25) })),
    ).type.not.toRaiseError()
    expect(express().get('/h', expressAdapter.override(false), (_req, res) => res.end())).type.not.toRaiseError()
    expect(expressAdapter.hardenServer).type.toBe<typeof core.hardenServer>()
    expect(expressAdapter.tcpUserTimeout({ seconds: '25' })).type.toRaiseError()
  })

  test('koa', () => {
    expect(koaAdapter.tcpUserTimeout({ seconds: 25 })).type.toBe<Koa.Middleware>()
    expect(
      new Koa().use(koaAdapter.tcpUserTimeout({ seconds: (ctx) => (ctx.path === '/r' ? 120 : 25) })),
    ).type.not.toRaiseError()
    expect(koaAdapter.override(true)).type.toRaiseError()
  })

  test('fastify: default and named, plugin options, route config', () => {
    expect(fastifyAdapter.default).type.toBe<typeof fastifyAdapter.tcpUserTimeout>()
    const app = Fastify.fastify()
    expect(app.register(fastifyAdapter.tcpUserTimeout, { seconds: 25, hardenServer: true })).type.not.toRaiseError()
    expect(app.register(fastifyAdapter.default, { seconds: 'x' })).type.toRaiseError()
    expect(app.get('/x', { config: { tcpUserTimeout: { seconds: 5 } } }, async () => 'ok')).type.not.toRaiseError()
    expect(app.get('/x', { config: { tcpUserTimeout: false } }, async () => 'ok')).type.not.toRaiseError()
    expect(app.get('/x', { config: { tcpUserTimeout: { seconds: 'x' } } }, async () => 'ok')).type.toRaiseError()
  })
})
