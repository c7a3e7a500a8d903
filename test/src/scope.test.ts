import { describe, expect, it } from 'vitest'
import {
  currentTimeout,
  globalDefault,
  headroom,
  setGlobalDefault,
  warningCodes,
  withJobTimeout,
  withTimeout,
} from '@tcp-user-timeout/core'
import { captureWarnings, perTest } from '@tcp-user-timeout/test-utils'

describe('withTimeout', () => {
  it('returns what fn returns; a promise stays a promise', async () => {
    expect(withTimeout(3, () => 42)).toBe(42)
    const p = withTimeout(3, async () => currentTimeout())
    expect(p).toBeInstanceOf(Promise)
    await expect(p).resolves.toBe(3000)
  })

  it('nests: the inner value wins, the outer is back after the inner returns or throws', async () => {
    const seen: (number | undefined)[] = []
    withTimeout(10, () => {
      seen.push(currentTimeout())
      withTimeout(2, () => seen.push(currentTimeout()))
      seen.push(currentTimeout())
      expect(() =>
        withTimeout(3, () => {
          throw new Error('boom')
        }),
      ).toThrow('boom')
      seen.push(currentTimeout())
    })
    seen.push(currentTimeout())
    expect(seen).toEqual([10000, 2000, 10000, 10000, undefined])
  })

  it('nests across await, and a rejected inner scope restores the outer one', async () => {
    const seen = await withTimeout(10, async () => {
      const inner = await withTimeout(2, async () => {
        await new Promise((r) => setImmediate(r))
        return currentTimeout()
      })
      await withTimeout(4, async () => {
        await Promise.resolve()
        throw new Error('x')
      }).catch(() => {})
      await new Promise((r) => setTimeout(r, 1))
      return [inner, currentTimeout()]
    })
    expect(seen).toEqual([2000, 10000])
    expect(currentTimeout()).toBeUndefined()
  })

  it('keeps sub-second precision in whole milliseconds', () => {
    expect(withTimeout(0.9, currentTimeout)).toBe(900)
    expect(withTimeout(1.8, currentTimeout)).toBe(1800)
    expect(withTimeout(0.0001, currentTimeout)).toBe(1)
  })
})

describe('headroom (the Ruby gem job rule)', () => {
  it.each([
    [1, 0.9],
    [2, 1.8],
    [10, 5],
    [30, 25],
    [90, 85],
    [600, 595],
  ])('headroom(%d) = %d', (max, expected) => {
    expect(headroom(max)).toBeCloseTo(expected, 10)
  })

  it('withJobTimeout runs fn in a scope of headroom(max)', () => {
    expect(withJobTimeout(30, currentTimeout)).toBe(25000)
    expect(withJobTimeout(2, currentTimeout)).toBe(1800)
  })
})

describe('a budget over an hour (milliseconds by mistake): TUT_WARN_LONG_BUDGET once per process, as the adapters warn', () => {
  /** This library's warnings that `fn` draws, captured (expected: not printed). */
  async function warningsOf(ctx: Parameters<typeof perTest>[0], fn: () => unknown) {
    const captured = captureWarnings(perTest(ctx))
    fn()
    return (await captured.delivered()).filter((w) => w.code?.startsWith('TUT_WARN_'))
  }

  it('withTimeout(25000, fn): warned once, naming the fix; the budget still applies; an hour exactly and withJobTimeout of hours are silent', async (ctx) => {
    const seen: (number | undefined)[] = []
    const warnings = await warningsOf(ctx, () => {
      seen.push(withTimeout(3600, currentTimeout))
      // A job's time limit of hours is ordinary: never a warning (BullMQ's neither).
      seen.push(withJobTimeout(6 * 3600, currentTimeout))
      seen.push(withTimeout(25000, currentTimeout))
      // Once per process, whatever the call site: a hot path cannot flood the log.
      seen.push(withTimeout(25000, currentTimeout))
      seen.push(withTimeout(90000, currentTimeout))
    })
    expect(seen).toEqual([3600000, 21595000, 25000000, 25000000, 90000000])
    expect(warnings.map((w) => [w.name, w.code])).toEqual([['TcpUserTimeoutWarning', warningCodes.LONG_BUDGET]])
    expect(warnings[0].message).toBe(
      'withTimeout(25000, fn) is a budget of 6.9 hours; it looks like milliseconds ' +
        '(25000 ms would be withTimeout(25, fn)). Budgets are in seconds. ' +
        'If a budget over an hour is meant, run node with --disable-warning=TUT_WARN_LONG_BUDGET ' +
        '(this is said once per process).',
    )
  })

  it('setGlobalDefault(25000): warned once, on its own; the default still applies', async (ctx) => {
    perTest(ctx).add(() => setGlobalDefault(null))
    const set: (number | undefined)[] = []
    const warnings = await warningsOf(ctx, () => {
      setGlobalDefault(3600)
      set.push(globalDefault())
      setGlobalDefault(25000)
      set.push(globalDefault())
      setGlobalDefault(30000)
      set.push(globalDefault())
    })
    expect(set).toEqual([3600000, 25000000, 30000000])
    expect(warnings.map((w) => w.message)).toEqual([
      'setGlobalDefault(25000) is a budget of 6.9 hours; it looks like milliseconds ' +
        '(25000 ms would be setGlobalDefault(25)). Budgets are in seconds. ' +
        'If a budget over an hour is meant, run node with --disable-warning=TUT_WARN_LONG_BUDGET ' +
        '(this is said once per process).',
    ])
  })
})
