import { serve, type HttpBindings } from '@hono/node-server'
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { describe, expect, test } from 'tstyche'
import type { hardenServer as coreHardenServer } from '@tcp-user-timeout/core'
import type { TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import { hardenServer, override, tcpUserTimeout, type HonoTcpUserTimeoutOptions } from '@tcp-user-timeout/hono'

const app = new Hono()
const typed = new Hono<{ Bindings: HttpBindings }>()

describe('tcpUserTimeout(options)', () => {
  test('is a Hono MiddlewareHandler', () => {
    expect(tcpUserTimeout({ seconds: 25 })).type.toBe<MiddlewareHandler>()
    expect(app.use(tcpUserTimeout({ seconds: 25, header: 'x-request-timeout-s' }))).type.not.toRaiseError()
    expect(app.use(tcpUserTimeout({ workerTimeoutSeconds: 30 }))).type.not.toRaiseError()
    expect(typed.use(tcpUserTimeout({ seconds: 25 }))).type.not.toRaiseError()
    expect(app.use('/api/*', tcpUserTimeout({ seconds: 25 }))).type.not.toRaiseError()
  })

  test('a seconds callback gets Hono’s Context c', () => {
    tcpUserTimeout({
      seconds: (c) => {
        expect(c).type.toBe<Context>()
        return c.req.path.startsWith('/reports') ? 120 : 25
      },
    })
    expect(
      tcpUserTimeout({ seconds: (c) => (c.req.header('x-fast') === '' ? undefined : false) }),
    ).type.toBe<MiddlewareHandler>()
    expect<HonoTcpUserTimeoutOptions>().type.toBe<TcpUserTimeoutOptions<Context>>()
  })

  test('wrong options are errors', () => {
    expect(tcpUserTimeout()).type.toRaiseError('Expected 1 argument')
    expect(tcpUserTimeout({ seconds: '25' })).type.toRaiseError("Type 'string' is not assignable")
    expect(tcpUserTimeout({ seconds: (c) => c.req.path })).type.toRaiseError("Type 'string' is not assignable")
    expect(tcpUserTimeout({ seconds: (c) => (c.nope ? 1 : 2) })).type.toRaiseError("'nope' does not exist")
    expect(tcpUserTimeout({ seconds: 25, headerFormat: 'ms' })).type.toRaiseError(`Type '"ms"' is not assignable`)
    expect(tcpUserTimeout({ secs: 25 })).type.toRaiseError("'secs' does not exist")
  })
})

describe('override(options | false)', () => {
  test('is a MiddlewareHandler for a route', () => {
    expect(override(false)).type.toBe<MiddlewareHandler>()
    expect(override({ seconds: 300, header: 'x-request-timeout-s' })).type.toBe<MiddlewareHandler>()
    expect(app.get('/health', override(false), (c) => c.text('ok'))).type.not.toRaiseError()
    expect(typed.get('/export', override({ seconds: 300 }), async (c) => c.json({ ok: true }))).type.not.toRaiseError()
  })

  test('wrong options are errors', () => {
    expect(override(true)).type.toRaiseError("'true' is not assignable")
    expect(override({ seconds: 'long' })).type.toRaiseError("Type 'string' is not assignable")
  })
})

test('hardenServer is re-exported from the core', () => {
  expect(hardenServer).type.toBe<typeof coreHardenServer>()
  expect(hardenServer(serve({ fetch: app.fetch }))).type.toBe<() => void>()
  expect(hardenServer(app)).type.toRaiseError()
})
