import { describe, expect, test } from 'tstyche'
import {
  createPolicy,
  readBudget,
  reportOnce,
  runInScope,
  runUntilSettled,
  scopeResponseBody,
  type HeaderFormat,
  type Policy,
  type PolicyKeys,
  type PolicyLabel,
  type RequestBudget,
  type Scope,
  type ScopeEnd,
  type TcpUserTimeoutOptions,
} from '@tcp-user-timeout/core/adapter'
import type * as Adapter from '@tcp-user-timeout/core/adapter'
import type { WarningCode } from '@tcp-user-timeout/core'

// The adapter authors' entry (@tcp-user-timeout/core/adapter).

declare const scope: Scope
declare const end: ScopeEnd

describe('adapter options', () => {
  interface Req {
    path: string
  }

  test('TcpUserTimeoutOptions<Req>: the seconds callback gets Req', () => {
    expect<TcpUserTimeoutOptions<Req>>().type.toBeAssignableFrom({ seconds: 25 })
    expect<TcpUserTimeoutOptions<Req>>().type.toBeAssignableFrom({
      seconds: (req: Req) => (req.path === '/r' ? 120 : 25),
    })
    expect<TcpUserTimeoutOptions<Req>>().type.toBeAssignableFrom({ seconds: () => false as const })
    expect<TcpUserTimeoutOptions<Req>>().type.toBeAssignableFrom({ seconds: () => undefined })
    expect<TcpUserTimeoutOptions<Req>>().type.toBeAssignableFrom({
      workerTimeoutSeconds: 30,
      header: 'x-request-timeout-s',
      headerFormat: 'grpc-timeout' as const,
      minSeconds: 1,
      exemptHosts: ['a', /b/],
    })
    // Wrong options, written as a user writes them (contextually typed, so literals do not widen).
    expect(createPolicy<Req>({ seconds: '25' })).type.toRaiseError("Type 'string' is not assignable")
    expect(createPolicy<Req>({ seconds: () => '25' })).type.toRaiseError("Type 'string' is not assignable")
    expect(createPolicy<Req>({ seconds: 25, headerFormat: 'minutes' })).type.toRaiseError(
      `Type '"minutes"' is not assignable`,
    )
    expect(createPolicy<Req>({ seconds: 25, exemptHosts: 'a' })).type.toRaiseError("Type 'string' is not assignable")
    expect(createPolicy<Req>({ secs: 25 })).type.toRaiseError("'secs' does not exist")
    expect(createPolicy<Req>({ seconds: 25, headerFormat: 'milliseconds' })).type.not.toRaiseError()
    expect<HeaderFormat>().type.toBe<'seconds' | 'milliseconds' | 'grpc-timeout'>()
  })

  test('createPolicy', () => {
    expect(createPolicy<Req>({ seconds: (req) => req.path.length })).type.toBe<Policy<Req>>()
    expect(createPolicy(false)).type.toBe<Policy<unknown>>()
    expect(createPolicy<Req>({ seconds: 25 }).resolve({ path: '/' }, 3000)).type.toBe<Scope>()
    expect(createPolicy<Req>({ seconds: 25 }).resolve({ path: '/' })).type.toBe<Scope>()
    expect(createPolicy<Req>({ seconds: 25 }).resolve({ path: '/' }, '3')).type.toRaiseError()
    expect(createPolicy<Req>({ seconds: (req) => req.nope })).type.toRaiseError()
    expect(createPolicy({ seconds: 25 }, 'name', 'extra')).type.toRaiseError()
  })

  test('createPolicy takes a label, data the core words its messages from: no sentences', () => {
    expect(createPolicy({ seconds: 25 }, { api: 'tcpUserTimeout', framework: 'express' })).type.toBe<Policy<unknown>>()
    expect(createPolicy({ seconds: 25 }, { api: 'override', framework: 'hono' })).type.toBe<Policy<unknown>>()
    expect(createPolicy({ seconds: 25 }, { framework: 'fastify', route: 'GET /y' })).type.toBe<Policy<unknown>>()
    expect(createPolicy({ seconds: 25 }, 'mine')).type.toBe<Policy<unknown>>()
    expect(createPolicy({ seconds: 25 }, { api: 'tcpUserTimeout', framework: 'sinatra' })).type.toRaiseError()
    expect(createPolicy({ seconds: 25 }, { framework: 'express', route: 'GET /y' })).type.toRaiseError()
    expect(createPolicy({ seconds: 25 }, { label: 'x()', off: 'give x(false)' })).type.toRaiseError()
    expect<PolicyLabel>().type.toBeAssignableFrom({ framework: 'bullmq' as const, api: 'withTcpUserTimeout' })
  })

  test("a label with an API's own option names: key names only", () => {
    const keys: PolicyKeys = { limitSeconds: 'workerTimeoutSeconds', ownKey: null }
    expect(createPolicy<Req>({ seconds: 25 }, { api: 'runner', framework: 'bullmq', keys })).type.toBe<Policy<Req>>()
    expect<PolicyKeys>().type.not.toBeAssignableFrom({ limitSeconds: 'limit' })
  })

  test('Scope: a bound in ms, or none (undefined)', () => {
    expect<Scope['ms']>().type.toBe<number | undefined>()
  })
})

test('running in a scope', () => {
  expect(runInScope(scope, () => 42)).type.toBe<number>()
  expect(runUntilSettled(scope, async () => 'x')).type.toBe<Promise<string>>()
  expect(end.once('close', () => {})).type.toBe<unknown>()
  expect(scopeResponseBody({} as never, 'body')).type.toBe<void>()
  expect(runInScope(25, () => 1)).type.toRaiseError()
})

test('the words of messages and warnings, as the core says them', () => {
  expect<typeof Adapter.describeValue>().type.toBe<(value: unknown) => string>()
  expect<typeof Adapter.warn>().type.toBe<(code: WarningCode, message: string) => void>()
})

test('reporting and request-time budgets', () => {
  expect(reportOnce()).type.toBe<(error: Error) => void>()
  expect(readBudget('3')).type.toBe<RequestBudget | undefined>()
  expect<RequestBudget>().type.toBe<{ readonly ms: number } | { readonly rejected: string }>()
})

test('the internals stay internal', () => {
  expect<typeof Adapter>().type.not.toHaveProperty('createScope')
  expect<typeof Adapter>().type.not.toHaveProperty('enterRequest')
  expect<typeof Adapter>().type.not.toHaveProperty('compileExemptHosts')
  expect<typeof Adapter>().type.not.toHaveProperty('describe')
  expect<typeof Adapter>().type.not.toHaveProperty('parseDeadlineHeader')
  expect<typeof Adapter>().type.not.toHaveProperty('withTimeout')
  expect<typeof Adapter>().type.not.toHaveProperty('placeOf')
  expect<typeof Adapter>().type.not.toHaveProperty('readOptions')
})
