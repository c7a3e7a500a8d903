import Fastify, { type FastifyPluginCallback, type FastifyRequest } from 'fastify'
import { describe, expect, test } from 'tstyche'
import type { HardenOptions } from '@tcp-user-timeout/core'
import type { TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import tcpUserTimeout, {
  tcpUserTimeout as named,
  type FastifyTcpUserTimeoutOptions,
  type FastifyTcpUserTimeoutPluginOptions,
} from '@tcp-user-timeout/fastify'

const app = Fastify()

describe('the plugin', () => {
  test('default and named export are the same plugin', () => {
    expect(tcpUserTimeout).type.toBe<typeof named>()
    expect(tcpUserTimeout).type.toBe<FastifyPluginCallback<FastifyTcpUserTimeoutPluginOptions>>()
  })

  test('registers with typed options', () => {
    expect(app.register(tcpUserTimeout, { seconds: 25, header: 'x-request-timeout-s' })).type.not.toRaiseError()
    expect(
      app.register(named, { workerTimeoutSeconds: 30, headerFormat: 'grpc-timeout', header: 'grpc-timeout' }),
    ).type.not.toRaiseError()
    expect(app.register(tcpUserTimeout, { seconds: 25, hardenServer: true })).type.not.toRaiseError()
    expect(
      app.register(tcpUserTimeout, {
        seconds: 25,
        hardenServer: { keepAlive: { idleSeconds: 30, intervalSeconds: 10, count: 3 } },
      }),
    ).type.not.toRaiseError()
  })

  test('a seconds callback gets Fastify’s request', () => {
    app.register(tcpUserTimeout, {
      seconds: (request) => {
        expect(request).type.toBe<FastifyRequest>()
        return request.routeOptions.url === '/reports/:id' ? 120 : 25
      },
    })
    expect<FastifyTcpUserTimeoutOptions>().type.toBe<TcpUserTimeoutOptions<FastifyRequest>>()
    expect<FastifyTcpUserTimeoutPluginOptions>().type.toHaveProperty('hardenServer')
    expect<FastifyTcpUserTimeoutPluginOptions['hardenServer']>().type.toBe<HardenOptions | true | undefined>()
  })

  test('wrong plugin options are errors', () => {
    expect(app.register(tcpUserTimeout, { seconds: 'x' })).type.toRaiseError()
    expect(app.register(tcpUserTimeout, { seconds: (request) => request.nope })).type.toRaiseError()
    expect(app.register(tcpUserTimeout, { seconds: 25, headerFormat: 'ms' })).type.toRaiseError()
    expect(app.register(tcpUserTimeout, { seconds: 25, hardenServer: 'yes' })).type.toRaiseError()
    expect(
      app.register(tcpUserTimeout, { seconds: 25, hardenServer: { userTimeoutSeconds: '30' } }),
    ).type.toRaiseError()
  })

  test('common mistakes name public types', () => {
    expect(app.register(tcpUserTimeout, { secs: 25 })).type.toRaiseError(
      "'secs' does not exist in type 'FastifyRegisterOptions<FastifyTcpUserTimeoutPluginOptions>'",
    )
    expect(app.register(tcpUserTimeout, { header: 'x-request-timeout-s' })).type.toRaiseError(
      "but required in type 'SecondsBudgetOptions<FastifyRequest<",
    )
    expect(app.register(tcpUserTimeout, { seconds: 25, workerTimeoutSeconds: 30 })).type.toRaiseError(
      "Type 'number' is not assignable to type 'SecondsCallback<FastifyRequest<",
    )
    expect(app.register(tcpUserTimeout, { seconds: () => undefined, workerTimeoutSeconds: 30 })).type.not.toRaiseError()
    expect(app.register(tcpUserTimeout, { seconds: 7200, allowLongBudget: true })).type.not.toRaiseError()
    expect(app.get('/x', { config: { tcpUserTimeout: { secs: 5 } } }, async () => 'ok')).type.toRaiseError(
      "but required in type 'SecondsBudgetOptions<FastifyRequest<",
    )
    expect(
      app.get('/x', { config: { tcpUserTimeout: { seconds: 5, workerTimeoutSeconds: 30 } } }, async () => 'ok'),
    ).type.toRaiseError()
  })
})

describe('route config.tcpUserTimeout (module augmentation of FastifyContextConfig)', () => {
  test('options or false are accepted', () => {
    expect(app.get('/x', { config: { tcpUserTimeout: { seconds: 5 } } }, async () => 'ok')).type.not.toRaiseError()
    expect(
      app.get('/x', { config: { tcpUserTimeout: { seconds: 300, header: 'x-request-timeout-s' } } }, async () => 'ok'),
    ).type.not.toRaiseError()
    expect(app.get('/x', { config: { tcpUserTimeout: false } }, async () => 'ok')).type.not.toRaiseError()
    expect(
      app.get(
        '/x',
        { config: { tcpUserTimeout: { seconds: (request) => (request.method === 'GET' ? 5 : false) } } },
        async () => 'ok',
      ),
    ).type.not.toRaiseError()
    expect(
      app.route({ method: 'GET', url: '/x', config: { tcpUserTimeout: { seconds: 5 } }, handler: async () => 'ok' }),
    ).type.not.toRaiseError()
  })

  test('wrong route options are errors', () => {
    expect(app.get('/x', { config: { tcpUserTimeout: { seconds: 'x' } } }, async () => 'ok')).type.toRaiseError()
    expect(
      app.get('/x', { config: { tcpUserTimeout: { seconds: 5, headerFormat: 'ms' } } }, async () => 'ok'),
    ).type.toRaiseError()
    expect(
      app.get('/x', { config: { tcpUserTimeout: { seconds: (request) => request.nope } } }, async () => 'ok'),
    ).type.toRaiseError()
    expect(
      app.route({ method: 'GET', url: '/x', config: { tcpUserTimeout: { seconds: 'x' } }, handler: async () => 'ok' }),
    ).type.toRaiseError()
  })

  // Fastify intersects a route's inferred config with FastifyContextConfig;
  // an all-optional options type would be a weak type there and let `true`
  // and `5` through. The options type requires a budget, so they fail.
  test('tcpUserTimeout: true / 5 / {} are errors', () => {
    expect(app.get('/x', { config: { tcpUserTimeout: true } }, async () => 'ok')).type.toRaiseError()
    expect(
      app.route({ method: 'GET', url: '/x', config: { tcpUserTimeout: 5 }, handler: async () => 'ok' }),
    ).type.toRaiseError()
    expect(app.get('/x', { config: { tcpUserTimeout: {} } }, async () => 'ok')).type.toRaiseError()
  })

  test('a handler reads it from request.routeOptions.config', () => {
    app.get('/x', async (request) => {
      expect(request.routeOptions.config.tcpUserTimeout).type.toBe<FastifyTcpUserTimeoutOptions | false | undefined>()
      return 'ok'
    })
  })
})
