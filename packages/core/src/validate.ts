import { describe, InvalidArgumentError, InvalidOptionError, OutOfRangeError } from './errors.js'
import type { Place } from './policy-label.js'

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
  if (seconds === 0 && zero !== undefined) {
    throw new OutOfRangeError(`${name} must be a finite number of seconds > 0, received 0. ${zeroIsNotOff(zero)}`)
  }
  if (typeof seconds !== 'number') {
    throw new InvalidArgumentError(`${name} must be a number of seconds, received ${describe(seconds)}`)
  }
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new OutOfRangeError(`${name} must be a finite number of seconds > 0, received ${describe(seconds)}`)
  }
  return seconds
}

/**
 * Seconds as whole milliseconds, rounded to the nearest: the conversion of
 * every budget given as a number of seconds (an option, a callback's
 * answer). A `seconds` header, read digit by digit (header.ts), gives the
 * same ms, so a value means the same bound whichever way it came: exact
 * for a decimal of up to 3 places, `8.14 * 1000` is 8140.000000000001,
 * which rounding gives as 8140 where rounding up gave 8141.
 */
function msOfSeconds(seconds: number): number {
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

/** The kernel reads a bound of 0 as its own default (about 15 min of retries): a 0 meant as "off" is told the way. */
function zeroIsNotOff(advice: string): string {
  return `A bound of 0 is not "off" here: ${advice}`
}

/**
 * Runs `read`, a check of an option given to `at` (`tcpUserTimeout()`,
 * `hardenServer`), and rethrows what it throws as an InvalidOptionError
 * that starts with `at`: the message says where the option was given and
 * keeps the check's own words (what was received, the fix).
 */
export function option<T>(at: string, read: () => T): T {
  try {
    return read()
  } catch (error) {
    throw new InvalidOptionError(`${at}: ${(error as Error).message}`)
  }
}

/**
 * An options object given to `at`, under its reader's names: `keys` maps
 * each key a user may give to the name it is read by, or to null for a key
 * read elsewhere (dropped here). `example` is shown for a non-object.
 */
export function readOptions<K extends string>(
  options: unknown,
  at: string,
  example: string,
  keys: Readonly<Record<string, K | null>>,
): Partial<Record<K, unknown>> {
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`${at} takes an options object such as ${example}, received ${describe(options)}`)
  }
  const read: Partial<Record<K, unknown>> = {}
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(keys, key)) {
      throw new InvalidOptionError(`${at}: unknown option "${key}"; the options are ${Object.keys(keys).join(', ')}`)
    }
    const as = keys[key]
    if (as !== null && as !== undefined) read[as] = (options as Record<string, unknown>)[key]
  }
  return read
}

/** A policy's budget options, checked together: what a request's budget starts from. */
export interface Budgets {
  /** A fixed `seconds`, in ms. */
  readonly fixedMs?: number
  /** A worker's (a job's) time limit, in seconds: the budget is headroom(limit). */
  readonly limit?: number
  /** A `seconds` callback: it chooses each request's budget, `limit` its default. */
  readonly callback?: (req: never) => unknown
}

/**
 * `seconds` and `workerTimeoutSeconds` (by whatever names `place` gives
 * them): a fixed budget, a time limit, or a callback with or without the
 * limit as its default. Throws InvalidOptionError naming the fix there.
 */
export function validateBudgets(seconds: unknown, limit: unknown, place: Place): Budgets {
  const [secondsKey, limitKey] = [place.key('seconds'), place.key('workerTimeoutSeconds')]
  const checked = limit === undefined ? undefined : option(place.at, () => validateLimit(limit, limitKey, place.off))
  if (typeof seconds === 'function') return { limit: checked, callback: seconds as Budgets['callback'] }
  if (seconds === undefined) {
    if (checked === undefined) throw new InvalidOptionError(`${place.at} ${place.needsBudget}`)
    return { limit: checked }
  }
  if (checked !== undefined) {
    throw new InvalidOptionError(
      `${place.at}: give ${secondsKey} or ${limitKey}, not both ` +
        `(${secondsKey} may be a callback, with ${limitKey} as its default)`,
    )
  }
  if (typeof seconds !== 'number') {
    throw new InvalidOptionError(
      `${place.at}: ${secondsKey} must be a number of seconds, received ${describe(seconds)} ` +
        `(or a callback ${place.callback})`,
    )
  }
  return { fixedMs: option(place.at, () => secondsToMs(seconds, secondsKey, `to turn the bound off, ${place.off}`)) }
}

/** A time limit in seconds: its budget, headroom(limit), must be one the kernel can hold. */
function validateLimit(limit: unknown, name: string, off: string): number {
  const max = MAX_MS / 1000 + 5
  if (typeof limit === 'number' && Number.isFinite(limit) && limit > 0 && limit <= max) return limit
  const zero = limit === 0 ? `. ${zeroIsNotOff(`to turn the bound off, ${off}`)}` : ''
  throw new OutOfRangeError(
    `${name} must be a time limit in seconds, a finite number > 0 (at most ${max}), received ${describe(limit)}; ` +
      `e.g. { ${name}: 30 } bounds its sockets to 25 s${zero}`,
  )
}

/** A request header's name (RFC 9110's token), lower-cased as Node keys `req.headers`. */
export function validateHeaderName(header: unknown, name: string): string {
  if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    throw new InvalidArgumentError(
      `${name} must be an HTTP header name such as 'x-request-timeout-s', received ${describe(header)}`,
    )
  }
  return header.toLowerCase()
}

export function validateOneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (allowed.includes(value as T)) return value as T
  throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}, received ${describe(value)}`)
}

export function validateBoolean(value: unknown, name: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidArgumentError(`${name} must be true or false, received ${describe(value)}`)
  }
  return value
}

/**
 * A `seconds` callback's answer for `req`, in ms; false (no bound) or
 * undefined (the default) as given. A throw or any other answer means the
 * default and is handed to `report`, worded with where the callback was
 * given (`at`) and its option's name (`key`). Never throws.
 */
export function callbackMs<Req>(
  callback: (req: Req) => unknown,
  req: Req,
  at: string,
  key: string,
  report: (error: Error) => void,
): number | false | undefined {
  let value: unknown
  try {
    value = callback(req)
  } catch (error) {
    const why = (error as Error)?.message
    report(new InvalidOptionError(`${at}: the ${key} callback threw (${why}); the default budget applies`))
    return undefined
  }
  if (value === undefined || value === false) return value
  const ms = requestMs(value)
  if (ms !== undefined) return ms
  report(
    new InvalidOptionError(
      `${at}: the ${key} callback returned ${describe(value)}; it must return seconds > 0, undefined (the default) ` +
        'or false (no scope). The default budget applies',
    ),
  )
  return undefined
}
