import Router from '@koa/router'
import Koa, { type Context, type Middleware } from 'koa'
import { describe, expect, test } from 'tstyche'
import type { hardenServer as coreHardenServer } from '@tcp-user-timeout/core'
import type { TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import { hardenServer, override, tcpUserTimeout, type KoaTcpUserTimeoutOptions } from '@tcp-user-timeout/koa'

const app = new Koa()
const router = new Router()

describe('tcpUserTimeout(options)', () => {
  test('is a Koa Middleware', () => {
    expect(tcpUserTimeout({ seconds: 25 })).type.toBe<Middleware>()
    expect(app.use(tcpUserTimeout({ seconds: 25, header: 'x-request-timeout-s' }))).type.not.toRaiseError()
    expect(app.use(tcpUserTimeout({ workerTimeoutSeconds: 30 }))).type.not.toRaiseError()
  })

  test('a seconds callback gets Koa’s ctx', () => {
    tcpUserTimeout({
      seconds: (ctx) => {
        expect(ctx).type.toBe<Context>()
        return ctx.path.startsWith('/reports') ? 120 : 25
      },
    })
    expect(tcpUserTimeout({ seconds: (ctx) => (ctx.get('x-fast') === '' ? undefined : false) })).type.toBe<Middleware>()
    expect<KoaTcpUserTimeoutOptions>().type.toBe<TcpUserTimeoutOptions<Context>>()
  })

  test('wrong options are errors', () => {
    expect(tcpUserTimeout()).type.toRaiseError('Expected 1 argument')
    expect(tcpUserTimeout({ seconds: '25' })).type.toRaiseError("Type 'string' is not assignable")
    // (ctx.nope is no error: Koa's Context has an `any` index signature.)
    expect(tcpUserTimeout({ seconds: (ctx) => ctx.path })).type.toRaiseError("Type 'string' is not assignable")
    expect(tcpUserTimeout({ seconds: 25, headerFormat: 'ms' })).type.toRaiseError(`Type '"ms"' is not assignable`)
    expect(tcpUserTimeout({ secs: 25 })).type.toRaiseError("'secs' does not exist in type 'KoaTcpUserTimeoutOptions'")
  })

  test('common mistakes name public types', () => {
    expect(tcpUserTimeout({ header: 'x-request-timeout-s' })).type.toRaiseError(
      "but required in type 'SecondsBudgetOptions<Context>'",
    )
    expect(tcpUserTimeout({ seconds: 25, workerTimeoutSeconds: 30 })).type.toRaiseError(
      "Type 'number' is not assignable to type 'SecondsCallback<Context>'",
    )
    expect(tcpUserTimeout({ seconds: () => undefined, workerTimeoutSeconds: 30 })).type.not.toRaiseError()
    expect(tcpUserTimeout({ seconds: 7200, allowLongBudget: true })).type.not.toRaiseError()
  })
})

describe('override(options | false)', () => {
  test('is a Middleware for a @koa/router route', () => {
    expect(override(false)).type.toBe<Middleware>()
    expect(override({ seconds: 300, header: 'x-request-timeout-s' })).type.toBe<Middleware>()
    expect(
      router.get('/health', override(false), (ctx) => {
        ctx.body = 'ok'
      }),
    ).type.not.toRaiseError()
    expect(
      router.get('/export', override({ seconds: 300 }), async (ctx) => {
        ctx.body = 'ok'
      }),
    ).type.not.toRaiseError()
    expect(app.use(router.routes()).use(router.allowedMethods())).type.not.toRaiseError()
  })

  test('wrong options are errors', () => {
    expect(override(true)).type.toRaiseError("'true' is not assignable")
    expect(override({ seconds: 'long' })).type.toRaiseError("Type 'string' is not assignable")
  })
})

test('hardenServer is re-exported from the core', () => {
  expect(hardenServer).type.toBe<typeof coreHardenServer>()
  expect(hardenServer(app.listen(3000))).type.toBe<() => void>()
  expect(hardenServer(app)).type.toRaiseError()
})
