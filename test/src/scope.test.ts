import { describe, expect, it } from 'vitest'
import { currentTimeout, headroom, withJobTimeout, withTimeout } from '@tcp-user-timeout/core'

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
