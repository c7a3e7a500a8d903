import { describe, InvalidArgumentError, OutOfRangeError } from './errors.js'

/** The kernel stores TCP_USER_TIMEOUT as an `int` of milliseconds. */
export const MAX_MS = 2_147_483_647

/** Milliseconds as the kernel takes them: an integer in 0..2147483647. */
export function validateMs(ms: unknown, name = 'ms'): number {
  if (typeof ms !== 'number') {
    throw new InvalidArgumentError(`${name} must be an integer number of milliseconds, received ${describe(ms)}`)
  }
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_MS) {
    throw new OutOfRangeError(
      `${name} must be an integer in 0..${MAX_MS} (milliseconds; 0 means the system default), received ${describe(ms)}`,
    )
  }
  return ms
}

/**
 * A duration in seconds: a finite number > 0. `zero`: the advice for 0, a
 * user's way of saying "off" that this API spells otherwise.
 */
export function validateSeconds(seconds: unknown, name = 'seconds', zero?: string): number {
  if (seconds === 0 && zero !== undefined) throw new OutOfRangeError(`${name} must be a finite number of seconds > 0, received 0. A bound of 0 is not "off" here: ${zero}`)
  if (typeof seconds !== 'number') {
    throw new InvalidArgumentError(`${name} must be a number of seconds, received ${describe(seconds)}`)
  }
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new OutOfRangeError(`${name} must be a finite number of seconds > 0, received ${describe(seconds)}`)
  }
  return seconds
}

/**
 * Seconds as whole milliseconds, rounded to the nearest: the one conversion
 * of every budget given in seconds (an option, a callback's answer, a
 * `seconds` header), so a number means the same bound whichever way it came.
 * Exact for a decimal of up to 3 places (the header grammar's; 9 integer
 * digits): `8.14 * 1000` is 8140.000000000001, which rounding gives as 8140
 * where rounding up gave 8141. The product is within 2 ulps of the
 * integer: under 0.001 for any value the header takes (< 10**12 ms).
 */
export function msOfSeconds(seconds: number): number {
  return Math.round(seconds * 1000)
}

/** A budget in seconds, returned in whole milliseconds (at least 1) that the kernel accepts. */
export function secondsToMs(seconds: unknown, name = 'seconds', zero?: string): number {
  const ms = msOfSeconds(validateSeconds(seconds, name, zero))
  if (ms > MAX_MS) {
    throw new OutOfRangeError(`${name} must be at most ${MAX_MS / 1000} seconds, received ${describe(seconds)}`)
  }
  return Math.max(1, ms)
}

/** An integer in min..max, for counts and kernel knobs in whole seconds. */
export function validateInt(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw new InvalidArgumentError(`${name} must be an integer, received ${describe(value)}`)
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OutOfRangeError(`${name} must be an integer in ${min}..${max}, received ${describe(value)}`)
  }
  return value
}

export function validateFunction(fn: unknown, name: string): void {
  if (typeof fn !== 'function') {
    throw new InvalidArgumentError(`${name} must be a function, received ${describe(fn)}`)
  }
}

/**
 * A budget given at request time, in seconds (a `seconds` callback's answer,
 * a job's data), as the whole ms of its bound (at least 1), rounded as
 * `secondsToMs` rounds; undefined when it is not a finite number > 0 that
 * the kernel can hold. Never throws.
 */
export function requestMs(seconds: unknown): number | undefined {
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds > 0 && seconds * 1000 <= MAX_MS) {
    return Math.max(1, msOfSeconds(seconds))
  }
  return undefined
}

/** A request-time budget read by an adapter: its ms, or why it is not a budget (`it is "abc"`). */
export type RequestBudget = { readonly ms: number } | { readonly rejected: string }

/**
 * `requestMs`, for an adapter that reports what it rejects: undefined or
 * null (nothing given) give undefined; anything that is not a budget gives
 * the reason, worded as the core words what it received. Never throws.
 */
export function readBudget(seconds: unknown): RequestBudget | undefined {
  if (seconds === undefined || seconds === null) return undefined
  const ms = requestMs(seconds)
  return ms === undefined ? { rejected: `it is ${describe(seconds)}` } : { ms }
}
