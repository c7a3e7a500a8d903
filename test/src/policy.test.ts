import dc from 'node:diagnostics_channel'
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { CHANNEL_ERROR, currentTimeout, type ErrorMessage } from '@tcp-user-timeout/core'
import { createPolicy, readBudget, reportOnce, type Policy, type PolicyLabel } from '@tcp-user-timeout/core/adapter'
import { MALFORMED_HEADER_VALUES, perTest } from '@tcp-user-timeout/test-utils'

// The per-request budget the adapters share: option validation at build
// time, and request-time values (header, callback, a number asked for) that
// can only tighten.

const req = {}
/**
 * The bound a request gets, in ms, or null for one whose bound is turned off
 * (the UNBOUNDED scope): through `policy.run`, as an adapter calls it, with
 * `header` as the request's value of the policy's header.
 */
const msOf = (policy: Policy<unknown>, header?: unknown) => {
  const raw = Object.assign(new EventEmitter(), {
    headers: policy.header === undefined ? {} : { [policy.header]: header },
  })
  return policy.run(req, raw as never, new EventEmitter(), () => currentTimeout() ?? null)
}

describe('options are validated when the middleware is built', () => {
  it.each([
    ['nothing', {}, /needs a budget/],
    ['a string budget', { seconds: '25' }, /seconds must be a number of seconds, received "25"/],
    [
      'zero',
      { seconds: 0 },
      /^tcpUserTimeout\(\): seconds must be a finite number of seconds > 0, received 0\. A bound of 0 is not "off" here/,
    ],
    [
      'a typo of allowLongBudget',
      { seconds: 25, allowLongBudgets: true },
      /unknown option "allowLongBudgets"; the options are .*allowLongBudget$/,
    ],
    ['both budgets', { seconds: 25, workerTimeoutSeconds: 30 }, /not both/],
    ['an unknown option', { second: 25 }, /unknown option "second"/],
    ['a bad header name', { seconds: 25, header: 'x bad' }, /HTTP header name/],
    ['a bad header format', { seconds: 25, header: 'x-t', headerFormat: 'minutes' }, /headerFormat must be one of/],
    ['a bad floor', { seconds: 25, minSeconds: -1 }, /minSeconds/],
    ['bad exempt hosts', { seconds: 25, exemptHosts: 'db' }, /exemptHosts must be an array/],
    ['not an object', 25, /takes an options object/],
  ])('%s', (_label, options, message) => {
    expect(() => createPolicy(options as never)).toThrow(
      expect.objectContaining({ code: 'TUT_ERR_INVALID_OPTION', name: 'InvalidOptionError' }),
    )
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
    expect(policy.resolve({ path: '/reports' })?.ms).toBe(120000)
    expect(policy.resolve({ path: '/' })?.ms).toBe(25000)
    // No bound of its own: its sockets get the global default.
    expect(policy.resolve({ path: '/off' }).ms).toBeUndefined()
  })

  it('a callback returning garbage or throwing gets the default, reported once on tcp-user-timeout:error', () => {
    const published: ErrorMessage[] = []
    const onError = (m: unknown) => published.push(m as ErrorMessage)
    dc.subscribe(CHANNEL_ERROR, onError)
    const answers: unknown[] = ['25', NaN, -1, Infinity, 0, 1e12, {}]
    let i = 0
    const policy = createPolicy({ seconds: () => answers[i++] as number, workerTimeoutSeconds: 30 })
    const got = answers.map(() => msOf(policy))
    const throwing = createPolicy({
      seconds: () => {
        throw new Error('bug')
      },
      workerTimeoutSeconds: 30,
    })
    expect(msOf(throwing)).toBe(25000)
    dc.unsubscribe(CHANNEL_ERROR, onError)
    expect(got).toEqual(answers.map(() => 25000))
    expect(published).toHaveLength(2) // once per middleware, not once per request
    expect(published[0].error.message).toMatch(/returned "25"/)
    expect(published[1].error.message).toMatch(/threw \(bug\)/)
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
    expect([msOf(grpc, '5'), msOf(grpc, '5s'), msOf(grpc, '123456789S'), msOf(grpc, '0S')]).toEqual([
      25000, 25000, 25000, 25000,
    ])
  })

  it('parses each format as it reads it, and leaves anything malformed out (the floor lowered to 1 ms to see the parsed value)', () => {
    const floor = 0.001
    expect(msOf(createPolicy({ seconds: 25, header: 'x-t', minSeconds: floor }), '1.5')).toBe(1500)
    expect(msOf(createPolicy({ seconds: 25, header: 'x-t', minSeconds: floor }), ' 2 ')).toBe(2000)
    expect(
      msOf(createPolicy({ seconds: 25, header: 'x-t', headerFormat: 'milliseconds', minSeconds: floor }), '1.5'),
    ).toBe(25000)
    expect(
      msOf(
        createPolicy({ seconds: 25, header: 'grpc-timeout', headerFormat: 'grpc-timeout', minSeconds: floor }),
        '10n',
      ),
    ).toBe(1)
  })
})

describe('a header converts as the options do: one conversion, exact for every value the grammar takes', () => {
  // The budget at the kernel's maximum and the floor at 1 ms, so what the
  // policy resolves is the header's own value.
  const MAX_SECONDS = 2_147_483.647
  const open = (headerFormat?: 'milliseconds' | 'grpc-timeout') =>
    createPolicy({
      seconds: MAX_SECONDS,
      allowLongBudget: true,
      header: 'x-t',
      minSeconds: 0.001,
      ...(headerFormat && { headerFormat }),
    })
  const seconds = open()
  /** What `seconds: n` as an option gives. */
  const asOption = (n: number) => msOf(createPolicy({ seconds: n, allowLongBudget: true }))
  /** The decimal's ms by integer arithmetic, from its digits. */
  const exactMs = (v: string) => {
    const [whole, fraction = ''] = v.split('.')
    return Number(whole) * 1000 + Number(fraction.padEnd(3, '0'))
  }
  /** `ms` written as seconds with 3 decimals ('8.140'), and as the shortest form of the number (8.14). */
  const written = (ms: number) => [
    `${(ms - (ms % 1000)) / 1000}.${String(ms % 1000).padStart(3, '0')}`,
    String(ms / 1000),
  ]
  // A seeded generator: the same "random" values on every run.
  const random = (seed: number) => () => (seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32

  it("'8.14' is 8140 ms, as seconds: 8.14 is (rounding up made it 8141)", () => {
    expect([msOf(seconds, '8.14'), asOption(8.14)]).toEqual([8140, 8140])
  })

  it("every seconds value 0.001..30.000 (step 0.001, both spellings) and 20,000 random ones up to the maximum give the option's ms, exactly", () => {
    const next = random(0x5eed)
    const all = Array.from({ length: 30_000 }, (_, i) => i + 1)
    const sampled = Array.from({ length: 20_000 }, () => 1 + Math.floor(next() * 2_147_483_647))
    const wrong: unknown[] = []
    for (const ms of [...all, ...sampled, 2_147_483_647]) {
      for (const v of written(ms)) {
        const got = [msOf(seconds, v), asOption(Number(v)), exactMs(v)]
        if (got[0] !== ms || got[1] !== ms || got[2] !== ms) wrong.push([v, ...got])
      }
    }
    expect(wrong).toEqual([])
  })

  it("past the kernel's maximum (9 digits and 3 decimals allowed): the configured budget, never more, never a throw", () => {
    const next = random(0xfade)
    for (let i = 0; i < 2_000; i++) {
      const ms = 2_147_483_648 + Math.floor(next() * (999_999_999_999 - 2_147_483_648))
      for (const v of written(ms)) expect(msOf(seconds, v)).toBe(2_147_483_647)
    }
    expect(msOf(seconds, '999999999.999')).toBe(2_147_483_647)
  })

  it('seconds: read digit by digit, it takes what the grammar takes and nothing else (50,000 seeded strings)', () => {
    // The grammar as a regular expression, and the option's conversion: what the parser replaced.
    const grammar = (v: string) => {
      const t = v.trim()
      if (v.length === 0 || v.length > 20 || !/^\d{1,9}(?:\.\d{1,3})?$/.test(t)) return undefined
      const ms = Math.round(Number(t) * 1000)
      return ms > 0 ? ms : undefined
    }
    // Digits, the decimal point, whitespace trim() removes, signs, exponents, and digits of other scripts.
    const alphabet = [...Array.from('0123579.+-ex,'), ' ', '\t', '\u00a0', '\n', '٣', '１']
    const next = random(0x1d1e)
    const differ: unknown[] = []
    for (let i = 0; i < 50_000; i++) {
      const length = Math.floor(next() * 16)
      const v = Array.from({ length }, () => alphabet[Math.floor(next() * alphabet.length)]).join('')
      if (seconds.parseHeader(v) !== grammar(v)) differ.push([v, seconds.parseHeader(v), grammar(v)])
    }
    for (const v of ['1', '1.', '.5', '1.5', '1.2345', '0', '0.000', '0.001', '999999999.999', '1000000000', ' 7 ']) {
      if (seconds.parseHeader(v) !== grammar(v)) differ.push([v, seconds.parseHeader(v), grammar(v)])
    }
    expect(differ).toEqual([])
  })

  it('milliseconds: the number itself, as the option of its seconds gives it', () => {
    const ms = open('milliseconds')
    for (let n = 1; n <= 30_000; n++) expect([msOf(ms, String(n)), asOption(n / 1000)]).toEqual([n, n])
    expect(msOf(ms, '2147483647')).toBe(2_147_483_647)
  })

  it('grpc-timeout: H, M, S, m exact (S as the option of the same seconds); u and n rounded up to whole ms', () => {
    const grpc = open('grpc-timeout')
    const up = (n: number, per: number) => (n - (n % per)) / per + (n % per === 0 ? 0 : 1)
    for (let n = 1; n <= 3_000; n++) {
      expect([msOf(grpc, `${n}S`), asOption(n)]).toEqual([n * 1000, n * 1000])
      expect(msOf(grpc, `${n}m`)).toBe(n)
    }
    const next = random(0x6e9c)
    for (let i = 0; i < 5_000; i++) {
      const n = 1 + Math.floor(next() * 99_999_999)
      expect([msOf(grpc, `${n}u`), msOf(grpc, `${n}n`)]).toEqual([up(n, 1000), up(n, 1_000_000)])
    }
    for (const n of [1, 999, 1000, 1001, 3000, 3_000_000, 99_999_999]) {
      expect([msOf(grpc, `${n}u`), msOf(grpc, `${n}n`)]).toEqual([up(n, 1000), up(n, 1_000_000)])
    }
    expect([
      msOf(grpc, '1H'),
      msOf(grpc, '596M'),
      msOf(grpc, '1000000u'),
      msOf(grpc, '1n'),
      msOf(grpc, '99999999n'),
    ]).toEqual([3_600_000, 35_760_000, 1000, 1, 100])
  })
})

describe('a budget asked for as a number (resolve(req, askedMs): what BullMQ gives from job data)', () => {
  const policy = createPolicy({ seconds: 25 })

  it('can only tighten, floored at minSeconds; nothing that is not ms > 0 counts', () => {
    const ms = (askedMs?: number) => policy.resolve(req, askedMs).ms
    expect([ms(5000), ms(2500), ms(60_000), ms(200), ms(undefined)]).toEqual([5000, 2500, 25000, 1000, 25000])
    expect([ms(0), ms(-5), ms(NaN)]).toEqual([25000, 25000, 25000])
    expect(createPolicy({ seconds: 25, minSeconds: 3 }).resolve(req, 1000).ms).toBe(3000)
  })

  it('never opens a bound where there is none', () => {
    expect(createPolicy(false).resolve(req, 3000).ms).toBeUndefined()
    expect(createPolicy({ seconds: () => false }).resolve(req, 3000).ms).toBeUndefined()
  })

  it('readBudget: seconds given at request time, checked and rounded as the core rounds (not up)', () => {
    expect(readBudget(2.0004)).toEqual({ ms: 2000 })
    expect(readBudget(2.0006)).toEqual({ ms: 2001 })
    expect(readBudget(0.0001)).toEqual({ ms: 1 })
    expect([readBudget(undefined), readBudget(null)]).toEqual([undefined, undefined])
    expect([readBudget('3'), readBudget(NaN), readBudget(0), readBudget(1e300)]).toEqual([
      { rejected: 'it is "3"' },
      { rejected: 'it is NaN' },
      { rejected: 'it is 0' },
      { rejected: 'it is 1e+300' },
    ])
  })
})

describe('the label: where the options were given, as data; the core words the messages', () => {
  const runner = {
    api: 'runner',
    framework: 'bullmq',
    keys: { limitSeconds: 'workerTimeoutSeconds', seconds: 'seconds', ownKey: null, minSeconds: 'minSeconds' },
  } as const
  /** The message of the InvalidOptionError that `options` draws under `label`. */
  const messageOf = (options: unknown, label: PolicyLabel = runner) => {
    try {
      createPolicy(options as never, label)
    } catch (error) {
      expect(error).toMatchObject({ code: 'TUT_ERR_INVALID_OPTION', name: 'InvalidOptionError' })
      return (error as Error).message
    }
    throw new Error('expected a throw')
  }

  it("reads an API's own option names, and leaves it its own keys", () => {
    expect(createPolicy({ limitSeconds: 30, ownKey: 'x' } as never, runner).resolve(req).ms).toBe(25000)
  })

  it.each([
    ['not an object', 25, 'runner() takes an options object such as { limitSeconds: 30 }, received 25'],
    [
      'nothing',
      {},
      'runner() needs a budget: { seconds: 25 }, { seconds: (job) => ... } or { limitSeconds: 30 }; ' +
        'job data can only tighten it, never supply it',
    ],
    [
      'an option of the adapters',
      { workerTimeoutSeconds: 30 },
      'runner(): unknown option "workerTimeoutSeconds"; the options are limitSeconds, seconds, ownKey, minSeconds',
    ],
    [
      'a bad limit',
      { limitSeconds: '30' },
      'runner(): limitSeconds must be a time limit in seconds, a finite number > 0 (at most 2147488.647), ' +
        'received "30"; e.g. { limitSeconds: 30 } bounds its sockets to 25 s',
    ],
    [
      'both',
      { limitSeconds: 30, seconds: 5 },
      'runner(): give seconds or limitSeconds, not both (seconds may be a callback, with limitSeconds as its default)',
    ],
    [
      'a string budget',
      { seconds: '5' },
      'runner(): seconds must be a number of seconds, received "5" ' +
        '(or a callback (job) => seconds | undefined | false)',
    ],
    [
      'a limit of 0',
      { limitSeconds: 0 },
      'runner(): limitSeconds must be a time limit in seconds, a finite number > 0 (at most 2147488.647), ' +
        'received 0; e.g. { limitSeconds: 30 } bounds its sockets to 25 s. A bound of 0 is not "off" here: ' +
        'to turn the bound off, answer false from a seconds callback for that job ' +
        '({ seconds: (job) => (job.name === "export" ? false : undefined), limitSeconds: 30 }), ' +
        'or do not wrap the processor',
    ],
  ])('words its errors with them: %s', (_label, options, message) => {
    expect(messageOf(options)).toBe(message)
  })

  // A budget of 0 meant as "off": the fix, in the code of that framework's users.
  const zero =
    'seconds must be a finite number of seconds > 0, received 0. A bound of 0 is not "off" here: to turn the bound off,'
  it.each<[PolicyLabel, string]>([
    [
      { api: 'tcpUserTimeout', framework: 'hono' },
      `tcpUserTimeout(): ${zero} answer false from a seconds callback for that route ` +
        '({ seconds: (c) => (c.req.path === "/stream" ? false : 25) }), ' +
        "or put override(false) in the route's handlers",
    ],
    [{ api: 'override', framework: 'hono' }, `override(): ${zero} give override(false) in place of the options`],
    [
      { api: 'tcpUserTimeout', framework: 'grpc-js' },
      `tcpUserTimeout(): ${zero} answer false from a seconds callback for that method ` +
        '({ seconds: (call) => (call.getPath() === "/pkg.Service/Watch" ? false : 25) })',
    ],
    [
      { framework: 'fastify', route: 'GET /y' },
      `GET /y config.tcpUserTimeout: ${zero} give config: { tcpUserTimeout: false }`,
    ],
    ['mine', `mine(): ${zero} give mine(false) in place of the options`],
  ])('%j', (label, message) => {
    expect(messageOf({ seconds: 0 }, label)).toBe(message)
  })

  it("a label that is none is the adapter's bug: InvalidArgumentError, before any option is read", () => {
    for (const label of [{ api: 'x', framework: 'sinatra' }, { api: 'x', framework: 'toString' }, null]) {
      const named = expect.stringMatching(/a framework of express, koa/)
      expect(() => createPolicy({ seconds: 25 }, label as never)).toThrow(
        expect.objectContaining({ code: 'TUT_ERR_INVALID_ARG', message: named }),
      )
    }
  })
})

it('reportOnce publishes the first error it is given on tcp-user-timeout:error (socket null), and no other', (ctx) => {
  const published: ErrorMessage[] = []
  const onError = (m: unknown) => published.push(m as ErrorMessage)
  dc.subscribe(CHANNEL_ERROR, onError)
  perTest(ctx).add(() => dc.unsubscribe(CHANNEL_ERROR, onError))
  const report = reportOnce()
  report(new Error('first'))
  report(new Error('second'))
  reportOnce()(new Error('another reporter'))
  expect(published.map((m) => [m.socket, m.error.message])).toEqual([
    [null, 'first'],
    [null, 'another reporter'],
  ])
})

it('a request allocates no scope: equal budgets share one frozen scope', () => {
  const policy = createPolicy({ seconds: 25, header: 'x-t' })
  expect(policy.resolve(req, 5000)).toBe(policy.resolve(req, 5000))
  expect(Object.isFrozen(policy.resolve(req, undefined))).toBe(true)
})
