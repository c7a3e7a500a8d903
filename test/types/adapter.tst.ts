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
  type PolicyWords,
  type RequestBudget,
  type Scope,
  type ScopeEnd,
  type TcpUserTimeoutOptions,
} from '@tcp-user-timeout/core/adapter'
import type * as Adapter from '@tcp-user-timeout/core/adapter'
import type { WarningCode } from '@tcp-user-timeout/core'

// The adapter authors' entry (@tcp-user-timeout/core/adapter).

const ADAPTER_LIKE: PolicyWords = { options: { seconds: 'seconds' }, example: '{ seconds: 25 }', needsBudget: 'needs a budget', secondsType: 'a number of seconds' }
declare const scope: Scope
declare const end: ScopeEnd

describe('adapter options', () => {
  interface Req {
    path: string
  }

  test('TcpUserTimeoutOptions<Req>: the seconds callback gets Req', () => {
    expect<TcpUserTimeoutOptions<Req>>().type.toBeAssignableFrom({ seconds: 25 })
    expect<TcpUserTimeoutOptions<Req>>().type.toBeAssignableFrom({ seconds: (req: Req) => (req.path === '/r' ? 120 : 25) })
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
    expect(createPolicy<Req>({ seconds: 25, headerFormat: 'minutes' })).type.toRaiseError(`Type '"minutes"' is not assignable`)
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
    // A place that is not a call (a route's config): its label as is, and how to turn the bound off there.
    expect(createPolicy({ seconds: 25 }, { label: 'GET /y config.tcpUserTimeout', off: 'give config: { tcpUserTimeout: false }' })).type.toBe<Policy<unknown>>()
    expect(createPolicy({ seconds: 25 }, { label: 'GET /y config.tcpUserTimeout' }, ADAPTER_LIKE)).type.toBe<Policy<unknown>>()
    expect(createPolicy({ seconds: 25 }, { off: 'x' })).type.toRaiseError("Property 'label' is missing")
    expect(createPolicy({ seconds: 25 }, 'name', ADAPTER_LIKE, 'extra')).type.toRaiseError()
  })

  test("createPolicy in a caller's own words", () => {
    const words: PolicyWords = { options: { limitSeconds: 'workerTimeoutSeconds', ownKey: null }, example: '{}', needsBudget: 'needs one', secondsType: 'seconds' }
    expect(createPolicy<Req>({ seconds: 25 }, 'runner', words)).type.toBe<Policy<Req>>()
    expect<PolicyWords>().type.not.toBeAssignableFrom({ options: { limitSeconds: 'limit' }, example: '', needsBudget: '', secondsType: '' })
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
})
