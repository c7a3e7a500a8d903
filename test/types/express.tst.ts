import express, { Router, type NextFunction, type Request, type RequestHandler, type Response } from 'express'
import { describe, expect, test } from 'tstyche'
import type { hardenServer as coreHardenServer } from '@tcp-user-timeout/core'
import type { TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import {
  hardenServer,
  override,
  tcpUserTimeout,
  type ExpressTcpUserTimeoutOptions,
  type HardenOptions,
} from '@tcp-user-timeout/express'

const app = express()
const router = Router()
declare const handler: (req: Request, res: Response) => void

describe('tcpUserTimeout(options)', () => {
  test('is an Express RequestHandler', () => {
    expect(tcpUserTimeout({ seconds: 25 })).type.toBe<RequestHandler>()
    expect(tcpUserTimeout({ seconds: 25, header: 'x-request-timeout-s' })).type.toBeAssignableTo<
      (req: Request, res: Response, next: NextFunction) => unknown
    >()
  })

  test('goes into app.use and a router', () => {
    expect(app.use(tcpUserTimeout({ seconds: 25, header: 'x-request-timeout-s' }))).type.not.toRaiseError()
    expect(app.use(tcpUserTimeout({ workerTimeoutSeconds: 30 }))).type.not.toRaiseError()
    expect(router.use(tcpUserTimeout({ seconds: 25 }))).type.not.toRaiseError()
    expect(app.use('/api', tcpUserTimeout({ seconds: 25 }), router)).type.not.toRaiseError()
  })

  test('a seconds callback gets Express’s Request', () => {
    tcpUserTimeout({
      seconds: (req) => {
        expect(req).type.toBe<Request>()
        return req.path.startsWith('/reports') ? 120 : 25
      },
    })
    expect(
      tcpUserTimeout({ seconds: (req) => (req.query['fast'] === undefined ? undefined : false) }),
    ).type.toBe<RequestHandler>()
    expect<ExpressTcpUserTimeoutOptions>().type.toBe<TcpUserTimeoutOptions<Request>>()
  })

  test('wrong options are errors', () => {
    expect(tcpUserTimeout()).type.toRaiseError('Expected 1 argument')
    expect(tcpUserTimeout(25)).type.toRaiseError()
    expect(tcpUserTimeout(false)).type.toRaiseError()
    expect(tcpUserTimeout({ seconds: '25' })).type.toRaiseError("Type 'string' is not assignable")
    expect(tcpUserTimeout({ seconds: (req) => req.nope })).type.toRaiseError("'nope' does not exist")
    expect(tcpUserTimeout({ seconds: () => 'fast' })).type.toRaiseError("Type 'string' is not assignable")
    expect(tcpUserTimeout({ seconds: 25, headerFormat: 'ms' })).type.toRaiseError(`Type '"ms"' is not assignable`)
    expect(tcpUserTimeout({ seconds: 25, header: true })).type.toRaiseError("Type 'boolean' is not assignable")
    expect(tcpUserTimeout({ seconds: 25, exemptHosts: 'metadata' })).type.toRaiseError(
      "Type 'string' is not assignable",
    )
    expect(tcpUserTimeout({ secs: 25 })).type.toRaiseError("'secs' does not exist")
  })

  test('options without a budget are errors, as at runtime', () => {
    expect(tcpUserTimeout({})).type.toRaiseError()
    expect(tcpUserTimeout({ header: 'x-request-timeout-s' })).type.toRaiseError()
    expect(tcpUserTimeout({ seconds: () => undefined, workerTimeoutSeconds: 30 })).type.not.toRaiseError()
  })

  // The messages a user reads name public types (the adapter's own, or the
  // core's documented SecondsBudgetOptions), never an internal one.
  test('common mistakes read well', () => {
    expect(tcpUserTimeout({ secs: 25 })).type.toRaiseError(
      "'secs' does not exist in type 'ExpressTcpUserTimeoutOptions'",
    )
    expect(tcpUserTimeout({ seconds: 25, headr: 'x-t' })).type.toRaiseError("Did you mean to write 'header'?")
    expect(tcpUserTimeout({ header: 'x-request-timeout-s' })).type.toRaiseError(
      "Property 'seconds' is missing in type '{ header: string; }' but required in type 'SecondsBudgetOptions<",
    )
    expect(tcpUserTimeout({ seconds: 25, workerTimeoutSeconds: 30 })).type.toRaiseError(
      "Type 'number' is not assignable to type 'SecondsCallback<",
    )
    expect(override({ seconds: 300, workerTimeoutSeconds: 30 })).type.toRaiseError(
      "Type 'number' is not assignable to type 'SecondsCallback<",
    )
  })

  test('allowLongBudget', () => {
    expect(tcpUserTimeout({ seconds: 7200, allowLongBudget: true })).type.not.toRaiseError()
    expect(tcpUserTimeout({ workerTimeoutSeconds: 7200, allowLongBudget: true })).type.not.toRaiseError()
    expect(tcpUserTimeout({ seconds: 7200, allowLongBudget: 'yes' })).type.toRaiseError(
      "Type 'string' is not assignable to type 'boolean",
    )
  })
})

describe('override(options | false)', () => {
  test('is a RequestHandler for a route’s list', () => {
    expect(override(false)).type.toBe<RequestHandler>()
    expect(override({ seconds: 300, header: 'x-request-timeout-s' })).type.toBe<RequestHandler>()
    expect(app.get('/health', override(false), handler)).type.not.toRaiseError()
    expect(app.get('/export', override({ seconds: 300 }), handler)).type.not.toRaiseError()
    expect(
      router.post('/x', override({ seconds: (req) => (req.method === 'POST' ? 60 : 30) }), handler),
    ).type.not.toRaiseError()
  })

  test('wrong options are errors', () => {
    expect(override(true)).type.toRaiseError("'true' is not assignable")
    expect(override()).type.toRaiseError('Expected 1 argument')
    expect(override({ seconds: 'long' })).type.toRaiseError("Type 'string' is not assignable")
  })
})

test('hardenServer is re-exported from the core', () => {
  expect(hardenServer).type.toBe<typeof coreHardenServer>()
  expect(hardenServer(app.listen(3000))).type.toBe<() => void>()
  expect(hardenServer(app.listen(3000), { userTimeoutSeconds: 30 })).type.toBe<() => void>()
  expect<HardenOptions>().type.toBeAssignableFrom({ userTimeoutSeconds: 30 })
  expect(hardenServer(app.listen(3000), { userTimeoutSeconds: '30' })).type.toRaiseError()
  expect(hardenServer(app)).type.toRaiseError()
})
