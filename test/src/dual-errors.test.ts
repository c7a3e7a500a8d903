import { closeSync, openSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import * as esm from '@tcp-user-timeout/core'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils/teardown'

// The ESM build (dist/index.js) and the CommonJS build (dist/index.cjs) in one
// process, as when an app imports the core and a CommonJS dependency requires
// it: an error thrown by either build is `instanceof` the other build's class
// (a registry-symbol brand, as undici does), and the classes keep their
// built-in bases and ordinary subclass semantics.

type Core = typeof esm
const cjs = createRequire(import.meta.url)('@tcp-user-timeout/core') as Core

const NAMES = ['InvalidArgumentError', 'OutOfRangeError', 'InvalidOptionError', 'SocketOptionError'] as const
const BASES = {
  InvalidArgumentError: TypeError,
  OutOfRangeError: RangeError,
  InvalidOptionError: TypeError,
  SocketOptionError: Error,
} as const

/** One error of each class, thrown by the library's own functions of `core` (the file they need is closed with `t`). */
function thrownBy(t: Teardown, core: Core): Record<(typeof NAMES)[number], Error> {
  const caught = (fn: () => unknown): Error => {
    try {
      fn()
    } catch (error) {
      return error as Error
    }
    throw new Error('expected a throw')
  }
  const fd = t.defer(openSync('/dev/null', 'r'), closeSync)
  return {
    InvalidArgumentError: caught(() => core.setUserTimeout('x' as never, 1000)),
    OutOfRangeError: caught(() => core.setUserTimeout(fd, -1)),
    InvalidOptionError: caught(() => core.hardenServer({ on() {} } as never, { bogus: 1 } as never)),
    // An explicit setsockopt on a file: ENOTSOCK from the kernel (Linux), else a constructed one.
    SocketOptionError: core.support().supported
      ? caught(() => core.setUserTimeout(fd, 1000))
      : new core.SocketOptionError('setsockopt', 'TCP_USER_TIMEOUT', 88),
  }
}

describe('error classes across the ESM and CommonJS builds', () => {
  it('loads two copies of each class (otherwise this proves nothing)', () => {
    expect(cjs.withTimeout).not.toBe(esm.withTimeout)
    for (const name of NAMES) expect(cjs[name]).not.toBe(esm[name])
  })

  it.for([
    ['ESM', 'CJS'],
    ['CJS', 'ESM'],
  ] as const)("an error thrown by the %s build is instanceof the %s build's class", ([from, to], ctx) => {
    const builds = { ESM: esm, CJS: cjs }
    const thrower = builds[from]
    const other = builds[to]
    const errors = thrownBy(perTest(ctx), thrower)
    if (process.platform === 'linux')
      expect(errors.SocketOptionError).toMatchObject({ code: 'TUT_ERR_SOCKOPT', errnoName: 'ENOTSOCK' })
    for (const name of NAMES) {
      const error = errors[name]
      expect(error, name).toBeInstanceOf(thrower[name])
      expect(error instanceof other[name], `${name} thrown by one build, instanceof the other's class`).toBe(true)
      expect(error instanceof BASES[name], `${name} is still a ${BASES[name].name}`).toBe(true)
      expect(error instanceof Error).toBe(true)
      for (const different of NAMES.filter((n) => n !== name)) {
        expect(error instanceof other[different], `${name} is not a ${different}`).toBe(false)
        expect(error instanceof thrower[different], `${name} is not a ${different}`).toBe(false)
      }
    }
  })

  it('does not claim what is not its own: built-in errors, look-alikes, primitives', () => {
    for (const name of NAMES) {
      for (const core of [esm, cjs]) {
        expect(new BASES[name]('plain') instanceof core[name], `a plain ${BASES[name].name} is not a ${name}`).toBe(
          false,
        )
        expect(
          Object.assign(new Error('x'), { code: new core[name]('setsockopt', 'X', 9).code, name }) instanceof
            core[name],
        ).toBe(false)
        for (const value of [null, undefined, 0, 'x', {}, Symbol('x')]) expect(value instanceof core[name]).toBe(false)
      }
    }
  })

  it('keeps ordinary subclass semantics', () => {
    class AppArgumentError extends esm.InvalidArgumentError {}
    const mine = new AppArgumentError('mine')
    expect(mine instanceof AppArgumentError).toBe(true)
    expect(mine instanceof esm.InvalidArgumentError).toBe(true)
    expect(mine instanceof cjs.InvalidArgumentError).toBe(true)
    expect(mine instanceof TypeError).toBe(true)
    expect(mine.code).toBe('TUT_ERR_INVALID_ARG')
    expect(
      new esm.InvalidArgumentError('theirs') instanceof AppArgumentError,
      'a base instance is not an instance of a subclass',
    ).toBe(false)
    expect(new cjs.InvalidArgumentError('theirs') instanceof AppArgumentError).toBe(false)
  })

  it('keeps the brand out of sight: not enumerable, not in JSON', () => {
    const error = new cjs.OutOfRangeError('x')
    expect(Object.getOwnPropertySymbols(error)).toEqual([])
    expect(Object.keys(error)).toEqual(['code', 'name'])
    expect(JSON.stringify(error)).toBe('{"code":"TUT_ERR_OUT_OF_RANGE","name":"OutOfRangeError"}')
  })
})
