import type { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { reportOnce } from './diagnostics.js'
import { describe, InvalidOptionError, warningCodes } from './errors.js'
import { compileExemptHosts, type HostPattern } from './exempt.js'
import { headerFormats, parseDeadlineHeader, type HeaderFormat } from './header.js'
import { enterRequest } from './request.js'
import { headroom } from './scope.js'
import { ScopeCache } from './scope-cache.js'
import { UNBOUNDED, type Scope, type ScopeEnd } from './shared.js'
import { MAX_MS, requestMs, secondsToMs } from './validate.js'
import { warn } from './warn.js'
import { ADAPTER_WORDS, placeOf, type PolicyName, type PolicyOption, type PolicyPlace, type PolicyWords } from './policy-words.js'

export type { PolicyName, PolicyOption, PolicyPlace, PolicyWords } from './policy-words.js'

/** A budget chosen per request: seconds, undefined (the default) or false (no bound). */
export type SecondsCallback<Req> = (req: Req) => number | undefined | false

/** What every adapter takes besides its budget (part of both forms of TcpUserTimeoutOptions). */
export interface SharedOptions {
  /** A request header carrying the client's budget; it can only tighten. */
  header?: string
  headerFormat?: HeaderFormat
  /** Floor of a header-derived budget, in seconds (default 1). */
  minSeconds?: number
  /** Sockets to these hosts are left alone. */
  exemptHosts?: HostPattern[]
  /**
   * A budget over an hour is meant (a long export, a stream): no
   * TUT_WARN_LONG_BUDGET warning, which otherwise asks whether a `seconds`
   * of, say, 25000 was meant as milliseconds.
   */
  allowLongBudget?: boolean
}

/** Options with a worker's own timeout: the budget is headroom(workerTimeoutSeconds). */
export interface WorkerBudgetOptions<Req> extends SharedOptions {
  /** A worker's own timeout, in seconds: the budget is headroom(workerTimeoutSeconds) (max >= 10 ? max - 5 : max * 0.9). */
  workerTimeoutSeconds: number
  /** The budget of each request: undefined → headroom(workerTimeoutSeconds), false → no bound. */
  seconds?: SecondsCallback<Req>
}

/** Options with a budget in `seconds`: a number, or a callback of the request. */
export interface SecondsBudgetOptions<Req> extends SharedOptions {
  /** The budget in seconds, or a callback choosing each request's (its undefined or false → no bound for that request). */
  seconds: number | SecondsCallback<Req>
  /**
   * Not with a fixed `seconds`, which is the whole budget: give
   * `workerTimeoutSeconds` alone, or with a `seconds` callback (its default).
   */
  workerTimeoutSeconds?: undefined
}

/**
 * The options every adapter takes, validated once when the middleware is
 * built. The type requires a budget, as the validation does: a fixed
 * `seconds`, a worker's own timeout, or a `seconds` callback with or without
 * `workerTimeoutSeconds` as its default.
 */
export type TcpUserTimeoutOptions<Req> =
  | WorkerBudgetOptions<Req>
  // Last: TypeScript words its errors against the last member it tried.
  | SecondsBudgetOptions<Req>

/** What a request gets. Never throws. */
export interface Policy<Req> {
  /** The header to read, lower-cased, if any. */
  readonly header: string | undefined
  /** A value of that header (or of a gRPC metadata key of that name) as the ms it asks for, in the policy's headerFormat; undefined when malformed. Never throws. */
  parseHeader(value: unknown): number | undefined
  /**
   * The request's scope (UNBOUNDED, whose `ms` is undefined, when its bound
   * is turned off). `askedMs`: a budget the request itself asked for, in ms
   * (a job's data); like the header it can only tighten, floored at
   * `minSeconds`.
   */
  resolve(req: Req, askedMs?: number): Scope
  /**
   * What an adapter calls per request: resolves the scope for `req` (the
   * framework's request, given to a `seconds` callback) and the header of
   * `raw`, then runs `next` in it, body events included (see enterRequest),
   * until `res` (the Node response) closes.
   */
  run<R>(req: Req, raw: IncomingMessage, res: ScopeEnd, next: () => R): R
  /**
   * For a request that is not an HTTP request (a gRPC call): resolves the
   * scope for `req` with `askedMs` (a budget the call itself carries, such
   * as its deadline: it only tightens), runs `next` in it, and the events of
   * `events` (the call's own emitter) as well, until `end` closes.
   */
  enter<R>(req: Req, events: EventEmitter, end: ScopeEnd, askedMs: number | undefined, next: () => R): R
}

/**
 * Validates adapter options (or `false`: a policy that opens no scope).
 * Throws a coded TypeError naming the fix, in `words` (a caller whose API
 * names the options its own way, as BullMQ does). `name`: where the options
 * were given, a function's name (messages start `name(): `) or a PolicyPlace
 * (a route's config: its label as is, and how to turn the bound off there).
 */
export function createPolicy<Req>(options: TcpUserTimeoutOptions<Req> | false, name: PolicyName = 'tcpUserTimeout', words: PolicyWords = ADAPTER_WORDS): Policy<Req> {
  if (options === false) return withRun(undefined, 'seconds', () => UNBOUNDED)
  const place = placeOf(name)
  const at = place.label
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`${at} takes an options object such as ${words.example}, received ${describe(options)}`)
  }
  const o = canonical(options as unknown as Record<string, unknown>, at, words)
  const key = (option: PolicyOption) => nameOf(words, option)
  const exempt = option(() => compileExemptHosts(o.exemptHosts, key('exemptHosts')), at)
  const defaultMs = o.workerTimeoutSeconds === undefined ? undefined : workerMs(o.workerTimeoutSeconds, key('workerTimeoutSeconds'), place)
  let fixedMs: number | undefined
  let callback: ((req: Req) => unknown) | undefined
  if (typeof o.seconds === 'function') callback = o.seconds as (req: Req) => unknown
  else if (o.seconds !== undefined) {
    if (defaultMs !== undefined) {
      const [seconds, worker] = [key('seconds'), key('workerTimeoutSeconds')]
      throw new InvalidOptionError(`${at}: give ${seconds} or ${worker}, not both (${seconds} may be a callback, with ${worker} as its default)`)
    }
    if (typeof o.seconds !== 'number') {
      throw new InvalidOptionError(`${at}: ${key('seconds')} must be ${words.secondsType}, received ${describe(o.seconds)}`)
    }
    if (o.seconds === 0) throw new InvalidOptionError(`${at}: ${key('seconds')} must be a finite number of seconds > 0, received 0. ${zeroIsNotOff(place)}`)
    fixedMs = option(() => secondsToMs(o.seconds, key('seconds')), at)
  }
  const configuredMs = fixedMs ?? defaultMs
  if (configuredMs === undefined && callback === undefined) throw new InvalidOptionError(`${at} ${words.needsBudget}`)
  const header = o.header === undefined ? undefined : headerName(o.header, at)
  const format = (o.headerFormat ?? 'seconds') as HeaderFormat
  if (!headerFormats.includes(format)) {
    throw new InvalidOptionError(`${at}: headerFormat must be one of ${headerFormats.join(', ')}, received ${describe(format)}`)
  }
  const minMs = o.minSeconds === undefined ? 1000 : option(() => secondsToMs(o.minSeconds, key('minSeconds')), at)
  const long = longBudgetWarner(o.allowLongBudget, at, words, key)

  if (fixedMs !== undefined) long(o.seconds as number, `${key('seconds')}: ${o.seconds as number}`)
  else if (defaultMs !== undefined) long(o.workerTimeoutSeconds as number, `${key('workerTimeoutSeconds')}: ${o.workerTimeoutSeconds as number}`)

  const scopes = new ScopeCache(exempt)
  const report = reportOnce()

  return withRun<Req>(header, format, (req, askedMs) => {
    let ms = configuredMs
    if (callback !== undefined) {
      const chosen = callSafely(callback, req, report, at, key('seconds'))
      if (chosen === false) return UNBOUNDED
      if (chosen !== undefined) {
        ms = chosen
        if (chosen > LONG_BUDGET_MS) long(chosen / 1000, `a ${key('seconds')} callback answer of ${chosen / 1000}`)
      }
    }
    if (ms === undefined) return UNBOUNDED
    // Only tightens: never above the configured budget, never below the floor.
    if (askedMs !== undefined && askedMs > 0 && askedMs < ms) ms = Math.max(askedMs, Math.min(minMs, ms))
    return scopes.get(ms)
  })
}

/** Budgets above this draw TUT_WARN_LONG_BUDGET: an hour, where a budget given in ms by mistake (25000) lands. */
const LONG_BUDGET_MS = 3_600_000

/** The advice on a budget of 0, which the kernel reads as its own default (about 15 min of retries), not as "off". */
function zeroIsNotOff(place: Required<PolicyPlace>): string {
  return `A bound of 0 is not "off" here; to turn the bound off, ${place.off}`
}

/**
 * What warns, at most once per policy (per middleware or route: each is a
 * line of the user's code to fix, and request traffic cannot repeat it),
 * about a budget over an hour: a `seconds` given in milliseconds. Silent
 * when the options say it is meant, or when `words` has no option to say so.
 * Never throws (it runs at request time for a callback's answer).
 */
function longBudgetWarner(allow: unknown, at: string, words: PolicyWords, key: (option: PolicyOption) => string): (seconds: number, given: string) => void {
  if (allow !== undefined && typeof allow !== 'boolean') {
    throw new InvalidOptionError(`${at}: ${key('allowLongBudget')} must be true or false, received ${describe(allow)}`)
  }
  const silenceable = Object.values(words.options).includes('allowLongBudget')
  let warned = allow === true || !silenceable
  return (seconds, given) => {
    if (warned || seconds * 1000 <= LONG_BUDGET_MS) return
    warned = true
    const asMs = Number((seconds / 1000).toPrecision(6))
    const message =
      `${at}: ${given} is a budget of ${(seconds / 3600).toFixed(1)} hours; it looks like milliseconds (${seconds} ms would be ${key('seconds')}: ${asMs}). ` +
      `Budgets are in seconds. If a budget over an hour is meant, add ${key('allowLongBudget')}: true to these options.`
    warn(warningCodes.LONG_BUDGET, message)
  }
}

/** The header, when there is one, is read and parsed here: `resolve` takes numbers only. */
function withRun<Req>(header: string | undefined, format: HeaderFormat, resolve: Policy<Req>['resolve']): Policy<Req> {
  return Object.freeze({
    header,
    parseHeader: (value: unknown) => parseDeadlineHeader(value, format),
    resolve,
    run<R>(req: Req, raw: IncomingMessage, res: ScopeEnd, next: () => R): R {
      const askedMs = header === undefined ? undefined : parseDeadlineHeader(raw.headers[header], format)
      return enterRequest(raw, res, resolve(req, askedMs), next)
    },
    enter<R>(req: Req, events: EventEmitter, end: ScopeEnd, askedMs: number | undefined, next: () => R): R {
      return enterRequest(events as IncomingMessage, end, resolve(req, askedMs), next)
    },
  })
}

/** The caller's options under the policy's own names; an option the caller reads itself (null in `words`) is dropped. */
function canonical(options: Record<string, unknown>, name: string, words: PolicyWords): Partial<Record<PolicyOption, unknown>> {
  const o: Partial<Record<PolicyOption, unknown>> = {}
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(words.options, key)) {
      throw new InvalidOptionError(`${name}: unknown option "${key}"; the options are ${Object.keys(words.options).join(', ')}`)
    }
    const as = words.options[key]
    if (as !== null && as !== undefined) o[as] = options[key]
  }
  return o
}

function nameOf(words: PolicyWords, option: PolicyOption): string {
  for (const [key, as] of Object.entries(words.options)) if (as === option) return key
  return option
}

/** A worker's (or a job's) time limit in seconds, as the ms of its budget, headroom(limit). */
function workerMs(limit: unknown, key: string, place: Required<PolicyPlace>): number {
  const name = place.label
  const maxSeconds = MAX_MS / 1000 + 5
  if (typeof limit !== 'number' || !Number.isFinite(limit) || limit <= 0 || limit > maxSeconds) {
    throw new InvalidOptionError(
      `${name}: ${key} must be a time limit in seconds, a finite number > 0 (at most ${maxSeconds}), received ${describe(limit)}; e.g. { ${key}: 30 } bounds its sockets to 25 s${limit === 0 ? `. ${zeroIsNotOff(place)}` : ''}`,
    )
  }
  return option(() => secondsToMs(headroom(limit), key), name)
}

function option<T>(read: () => T, name: string): T {
  try {
    return read()
  } catch (error) {
    throw new InvalidOptionError(`${name}: ${(error as Error).message}`)
  }
}

function headerName(header: unknown, name: string): string {
  if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    throw new InvalidOptionError(`${name}: header must be an HTTP header name such as 'x-request-timeout-s', received ${describe(header)}`)
  }
  return header.toLowerCase()
}

/** A callback's answer in ms, false, or undefined (default); garbage is reported once and means the default. */
function callSafely<Req>(callback: (req: Req) => unknown, req: Req, report: (e: Error) => void, name: string, key: string): number | false | undefined {
  let value: unknown
  try {
    value = callback(req)
  } catch (error) {
    report(new InvalidOptionError(`${name}: the ${key} callback threw (${(error as Error)?.message}); the default budget applies`))
    return undefined
  }
  if (value === undefined || value === false) return value
  const ms = requestMs(value)
  if (ms !== undefined) return ms
  report(new InvalidOptionError(`${name}: the ${key} callback returned ${describe(value)}; it must return seconds > 0, undefined (the default) or false (no scope). The default budget applies`))
  return undefined
}
