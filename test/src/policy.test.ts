import dc from 'node:diagnostics_channel'
import { describe, expect, it } from 'vitest'
import { CHANNEL_ERROR, createPolicy, parseDeadlineHeader, type ErrorMessage } from '@tcp-user-timeout/core'
import { MALFORMED_HEADER_VALUES } from '@tcp-user-timeout/test-utils'

// The per-request budget the adapters will share: option validation at build
// time, and request-time values (header, callback) that can only tighten.

const req = {}
// A budget in ms, or null for a request whose bound is turned off (the UNBOUNDED scope, ms 0).
const msOf = (policy: ReturnType<typeof createPolicy>, header?: unknown) => policy.resolve(req, header).ms || null

describe('options are validated when the middleware is built', () => {
  it.each([
    ['nothing', {}, /needs a budget/],
    ['a string budget', { seconds: '25' }, /seconds must be a number of seconds, received "25"/],
    ['zero', { seconds: 0 }, /finite number of seconds > 0/],
    ['both budgets', { seconds: 25, workerTimeoutSeconds: 30 }, /not both/],
    ['an unknown option', { second: 25 }, /unknown option "second"/],
    ['a bad header name', { seconds: 25, header: 'x bad' }, /HTTP header name/],
    ['a bad header format', { seconds: 25, header: 'x-t', headerFormat: 'minutes' }, /headerFormat must be one of/],
    ['a bad floor', { seconds: 25, minSeconds: -1 }, /minSeconds/],
    ['bad exempt hosts', { seconds: 25, exemptHosts: 'db' }, /exemptHosts must be an array/],
    ['not an object', 25, /takes an options object/],
  ])('%s', (_label, options, message) => {
    expect(() => createPolicy(options as never)).toThrow(expect.objectContaining({ code: 'TUT_ERR_INVALID_OPTION', name: 'InvalidOptionError' }))
    expect(() => createPolicy(options as never)).toThrow(message)
  })
})

describe('budgets', () => {
  it('fixed seconds, worker timeout (headroom), false', () => {
    expect(msOf(createPolicy({ seconds: 25 }))).toBe(25000)
    expect(msOf(createPolicy({ workerTimeoutSeconds: 30 }))).toBe(25000)
    expect(msOf(createPolicy({ workerTimeoutSeconds: 2 }))).toBe(1800)
    expect(msOf(createPolicy(false))).toBeNull()
  })

  it('a callback: a number, undefined → the default, false → no scope', () => {
    const policy = createPolicy<{ path: string }>({
      seconds: (r) => (r.path === '/reports' ? 120 : r.path === '/off' ? false : undefined),
      workerTimeoutSeconds: 30,
    })
    expect(policy.resolve({ path: '/reports' }, undefined)?.ms).toBe(120000)
    expect(policy.resolve({ path: '/' }, undefined)?.ms).toBe(25000)
    expect(policy.resolve({ path: '/off' }, undefined).ms).toBe(0)
  })

  it('a callback returning garbage or throwing gets the default, reported once on tcp-user-timeout:error', () => {
    const published: ErrorMessage[] = []
    const onError = (m: unknown) => published.push(m as ErrorMessage)
    dc.subscribe(CHANNEL_ERROR, onError)
    const answers: unknown[] = ['25', NaN, -1, Infinity, 0, 1e12, {}]
    let i = 0
    const policy = createPolicy({ seconds: () => answers[i++] as number, workerTimeoutSeconds: 30 })
    const got = answers.map(() => msOf(policy))
    const throwing = createPolicy({ seconds: () => { throw new Error('bug') }, workerTimeoutSeconds: 30 })
    expect(msOf(throwing)).toBe(25000)
    dc.unsubscribe(CHANNEL_ERROR, onError)
    expect(got).toEqual(answers.map(() => 25000))
    expect(published).toHaveLength(2) // once per middleware, not once per request
    expect(published[0]!.error.message).toMatch(/returned "25"/)
    expect(published[1]!.error.message).toMatch(/threw \(bug\)/)
  })
})

describe('a header can only tighten', () => {
  const policy = createPolicy({ seconds: 25, header: 'X-Request-Timeout-S' })

  it('reads the lower-cased header name', () => {
    expect(policy.header).toBe('x-request-timeout-s')
  })

  it('tightens, never extends, and is floored at minSeconds (default 1)', () => {
    expect(msOf(policy, '5')).toBe(5000)
    expect(msOf(policy, '2.5')).toBe(2500)
    expect(msOf(policy, '60')).toBe(25000)
    expect(msOf(policy, '0.2')).toBe(1000)
    expect(msOf(createPolicy({ seconds: 25, header: 'x-t', minSeconds: 3 }), '1')).toBe(3000)
  })

  it.each<readonly [string, unknown]>([
    ...MALFORMED_HEADER_VALUES,
    ['repeated (array)', ['1', '2']],
    ['repeated (joined by Node)', '1, 2'],
    ['a number, not a string', 5],
  ])('%s leaves the configured budget in force', (_label, value) => {
    expect(msOf(policy, value)).toBe(25000)
  })

  it('milliseconds and grpc-timeout formats', () => {
    expect(msOf(createPolicy({ seconds: 25, header: 'x-t', headerFormat: 'milliseconds' }), '1500')).toBe(1500)
    const grpc = createPolicy({ seconds: 25, header: 'grpc-timeout', headerFormat: 'grpc-timeout' })
    expect([msOf(grpc, '5S'), msOf(grpc, '100m'), msOf(grpc, '1H'), msOf(grpc, '2M'), msOf(grpc, '3000000u')]).toEqual([
      5000, 1000, 25000, 25000, 3000,
    ])
    expect([msOf(grpc, '5'), msOf(grpc, '5s'), msOf(grpc, '123456789S'), msOf(grpc, '0S')]).toEqual([25000, 25000, 25000, 25000])
  })

  it('parseDeadlineHeader returns undefined for anything malformed', () => {
    expect(parseDeadlineHeader('1.5', 'seconds')).toBe(1500)
    expect(parseDeadlineHeader(' 2 ', 'seconds')).toBe(2000)
    expect(parseDeadlineHeader('1.5', 'milliseconds')).toBeUndefined()
    expect(parseDeadlineHeader('10n', 'grpc-timeout')).toBe(1)
  })
})

it('a request allocates no scope: equal budgets share one frozen scope', () => {
  const policy = createPolicy({ seconds: 25, header: 'x-t' })
  expect(policy.resolve(req, '5')).toBe(policy.resolve(req, '5'))
  expect(Object.isFrozen(policy.resolve(req, undefined))).toBe(true)
})
