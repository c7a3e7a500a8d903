import type { EventEmitter } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { reportOnce } from './diagnostics.js'
import { warningCodes } from './errors.js'
import { compileExemptHosts, type HostPattern } from './exempt.js'
import { headerFormats, parseDeadlineHeader, type HeaderFormat } from './header.js'
import { loadNative } from './native.js'
import { placeOf, type Place, type PolicyLabel } from './policy-label.js'
import { enterRequest, prepareRequests } from './request.js'
import { headroom } from './scope.js'
import { ScopeCache } from './scope-cache.js'
import { UNBOUNDED, type Scope, type ScopeEnd } from './shared.js'
import {
  callbackMs,
  option,
  readOptions,
  secondsToMs,
  validateBoolean,
  validateBudgets,
  validateHeaderName,
  validateOneOf,
} from './validate.js'
import { LONG_BUDGET_MS, longBudgetMessage, warn } from './warn.js'

export type { PolicyApi, PolicyFramework, PolicyKeys, PolicyLabel, PolicyOption, PolicyRoute } from './policy-label.js'

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
  /**
   * A worker's own timeout, in seconds: the budget is headroom(workerTimeoutSeconds) (max >= 10 ? max - 5 : max * 0.9).
   */
  workerTimeoutSeconds: number
  /** The budget of each request: undefined → headroom(workerTimeoutSeconds), false → no bound. */
  seconds?: SecondsCallback<Req>
}

/** Options with a budget in `seconds`: a number, or a callback of the request. */
export interface SecondsBudgetOptions<Req> extends SharedOptions {
  /**
   * The budget in seconds, or a callback choosing each request's (its undefined or false → no bound for that request).
   */
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
  /**
   * A value of that header (or of a gRPC metadata key of that name) as the ms it asks for, in the policy's
   * headerFormat; undefined when malformed. Never throws.
   */
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
 * Throws a coded InvalidOptionError naming the fix, worded by the core from
 * `label`: where the options were given (a function's name, or an
 * adapter's API or route: PolicyLabel).
 *
 * Loads the native binding too (once per thread; native.ts): on Linux, a
 * binding that cannot load is said in its one TUT_WARN_NATIVE_UNAVAILABLE
 * warning now, when the app builds its middleware at start-up, not at its
 * first request. Elsewhere this is the documented silent no-op.
 */
export function createPolicy<Req>(
  options: TcpUserTimeoutOptions<Req> | false,
  label: PolicyLabel = 'tcpUserTimeout',
): Policy<Req> {
  loadNative()
  prepareRequests()
  if (options === false) return withRun(undefined, 'seconds', () => UNBOUNDED, UNBOUNDED)
  const place = placeOf(label)
  const { at, key } = place
  const o = readOptions(options, at, place.example, place.keys)
  const exempt = option(at, () => compileExemptHosts(o.exemptHosts, key('exemptHosts')))
  const { fixedMs, limit, callback } = validateBudgets(o.seconds, o.workerTimeoutSeconds, place)
  const defaultMs = limit === undefined ? undefined : secondsToMs(headroom(limit))
  const configuredMs = fixedMs ?? defaultMs
  const header = o.header === undefined ? undefined : option(at, () => validateHeaderName(o.header, key('header')))
  const format = option(at, () => validateOneOf(o.headerFormat ?? 'seconds', key('headerFormat'), headerFormats))
  const minMs = o.minSeconds === undefined ? 1000 : option(at, () => secondsToMs(o.minSeconds, key('minSeconds')))
  const allow = option(at, () => validateBoolean(o.allowLongBudget, key('allowLongBudget')))
  // Only where the options can say a long budget is meant: BullMQ's jobs of hours are ordinary, and never warn.
  const long = longBudgetWarner(allow === true || !Object.values(place.keys).includes('allowLongBudget'), place)

  if (fixedMs !== undefined) long(o.seconds as number, `${key('seconds')}: ${o.seconds as number}`)
  else if (limit !== undefined) long(limit, `${key('workerTimeoutSeconds')}: ${limit}`)

  const scopes = new ScopeCache(exempt)
  const report = reportOnce()
  const answer = callback as ((req: Req) => unknown) | undefined
  // The scope of a request that neither a callback nor its own budget changes: the same one every time.
  const configured = configuredMs === undefined ? UNBOUNDED : scopes.get(configuredMs)

  const resolve = (req: Req, askedMs?: number): Scope => {
    if (answer === undefined && (askedMs === undefined || configuredMs === undefined)) return configured
    let ms = configuredMs
    if (answer !== undefined) {
      const chosen = callbackMs(answer, req, at, key('seconds'), report)
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
  }
  return withRun<Req>(header, format, resolve, answer === undefined ? configured : undefined)
}

/**
 * What warns, at most once per policy (per middleware or route: each is a
 * line of the user's code to fix, and request traffic cannot repeat it),
 * about a budget over an hour: a `seconds` given in milliseconds. Silent
 * when the budget is meant. Never throws (it runs at request time for a
 * callback's answer).
 */
function longBudgetWarner(meant: boolean, { at, key }: Place): (seconds: number, given: string) => void {
  let warned = meant
  return (seconds, given) => {
    if (warned || seconds * 1000 <= LONG_BUDGET_MS) return
    warned = true
    const message = longBudgetMessage(
      `${at}: ${given}`,
      seconds,
      (s) => `${key('seconds')}: ${s}`,
      `add ${key('allowLongBudget')}: true to these options`,
    )
    warn(warningCodes.LONG_BUDGET, message)
  }
}

/**
 * The header, when there is one, is read and parsed here: `resolve` takes
 * numbers only. `fixed`: the scope of every request, where neither a
 * callback nor a header can change it; its run is the shortest path there
 * is, since it is paid on every request.
 */
function withRun<Req>(
  header: string | undefined,
  format: HeaderFormat,
  resolve: Policy<Req>['resolve'],
  fixed?: Scope,
): Policy<Req> {
  return Object.freeze({
    header,
    parseHeader: (value: unknown) => parseDeadlineHeader(value, format),
    resolve,
    run:
      header === undefined && fixed !== undefined
        ? <R>(_req: Req, raw: IncomingMessage, res: ScopeEnd, next: () => R): R => enterRequest(raw, res, fixed, next)
        : <R>(req: Req, raw: IncomingMessage, res: ScopeEnd, next: () => R): R => {
            const askedMs = header === undefined ? undefined : parseDeadlineHeader(raw.headers[header], format)
            return enterRequest(raw, res, resolve(req, askedMs), next)
          },
    enter<R>(req: Req, events: EventEmitter, end: ScopeEnd, askedMs: number | undefined, next: () => R): R {
      return enterRequest(events as IncomingMessage, end, resolve(req, askedMs), next)
    },
  })
}
