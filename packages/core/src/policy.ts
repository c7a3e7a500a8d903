import type { IncomingMessage } from 'node:http'
import { publishError } from './diagnostics.js'
import { describe, InvalidOptionError } from './errors.js'
import { compileExemptHosts, type HostMatcher, type HostPattern } from './exempt.js'
import { headerFormats, parseDeadlineHeader, type HeaderFormat } from './header.js'
import { enterRequest } from './request.js'
import { headroom } from './scope.js'
import { ScopeCache } from './scope-cache.js'
import { UNBOUNDED, type Scope, type ScopeEnd } from './shared.js'
import { MAX_MS, secondsToMs } from './validate.js'

/** A budget chosen per request: seconds, undefined (the default) or false (no bound). */
export type SecondsCallback<Req> = (req: Req) => number | undefined | false

/** What every adapter takes besides its budget. */
interface CommonOptions {
  /** A request header carrying the client's budget; it can only tighten. */
  header?: string
  headerFormat?: HeaderFormat
  /** Floor of a header-derived budget, in seconds (default 1). */
  minSeconds?: number
  /** Sockets to these hosts are left alone. */
  exemptHosts?: HostPattern[]
}

/**
 * The options every adapter takes, validated once when the middleware is
 * built. The type requires a budget, as the validation does: a fixed
 * `seconds`, a worker's own timeout, or a `seconds` callback with or without
 * `workerTimeoutSeconds` as its default.
 */
export type TcpUserTimeoutOptions<Req> = CommonOptions &
  (
    | {
        /** A worker's own timeout: the budget is headroom(workerTimeoutSeconds). */
        workerTimeoutSeconds: number
        /** The budget of each request: undefined → headroom(workerTimeoutSeconds), false → no bound. */
        seconds?: SecondsCallback<Req>
      }
    // Last: TypeScript words its errors against the last member it tried.
    | {
        /** The budget in seconds, or of each request (undefined → workerTimeoutSeconds' budget, or none; false → no bound). */
        seconds: number | SecondsCallback<Req>
        /** With a `seconds` callback: the budget when it answers undefined. */
        workerTimeoutSeconds?: number
      }
  )

/** What a request gets. Never throws. */
export interface Policy<Req> {
  /** The header to read, lower-cased, if any. */
  readonly header: string | undefined
  /** The request's scope; UNBOUNDED (ms 0) when its bound is turned off. */
  resolve(req: Req, headerValue: unknown): Scope
  /**
   * What an adapter calls per request: resolves the scope for `req` (the
   * framework's request, given to a `seconds` callback) and the header of
   * `raw`, then runs `next` in it, body events included (see enterRequest),
   * until `res` (the Node response) closes.
   */
  run<R>(req: Req, raw: IncomingMessage, res: ScopeEnd, next: () => R): R
}

const known = new Set(['seconds', 'workerTimeoutSeconds', 'header', 'headerFormat', 'minSeconds', 'exemptHosts'])

/** Validates adapter options (or `false`: a policy that opens no scope). Throws a coded TypeError naming the fix. */
export function createPolicy<Req>(options: TcpUserTimeoutOptions<Req> | false, name = 'tcpUserTimeout'): Policy<Req> {
  if (options === false) return withRun({ header: undefined, resolve: () => UNBOUNDED })
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(`${name}() takes an options object such as { seconds: 25 }, received ${describe(options)}`)
  }
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new InvalidOptionError(`${name}(): unknown option "${key}"; the options are ${[...known].join(', ')}`)
    }
  }
  const o = options as CommonOptions & { seconds?: unknown; workerTimeoutSeconds?: number }
  const exempt = option(() => compileExemptHosts(o.exemptHosts), name)
  const defaultMs = o.workerTimeoutSeconds === undefined
    ? undefined
    : option(() => secondsToMs(headroom(o.workerTimeoutSeconds!), 'workerTimeoutSeconds'), name)
  let fixedMs: number | undefined
  let callback: ((req: Req) => unknown) | undefined
  if (typeof o.seconds === 'function') callback = o.seconds as (req: Req) => unknown
  else if (o.seconds !== undefined) {
    if (defaultMs !== undefined) {
      throw new InvalidOptionError(`${name}(): give seconds or workerTimeoutSeconds, not both (seconds may be a callback, with workerTimeoutSeconds as its default)`)
    }
    fixedMs = option(() => secondsToMs(o.seconds, 'seconds'), name)
  }
  const configuredMs = fixedMs ?? defaultMs
  if (configuredMs === undefined && callback === undefined) {
    throw new InvalidOptionError(`${name}() needs a budget: { seconds: 25 }, { seconds: (req) => ... } or { workerTimeoutSeconds: 30 }`)
  }
  const header = o.header === undefined ? undefined : headerName(o.header, name)
  const format = o.headerFormat ?? 'seconds'
  if (!headerFormats.includes(format)) {
    throw new InvalidOptionError(`${name}(): headerFormat must be one of ${headerFormats.join(', ')}, received ${describe(format)}`)
  }
  const minMs = o.minSeconds === undefined ? 1000 : option(() => secondsToMs(o.minSeconds, 'minSeconds'), name)

  const scopes = new ScopeCache(exempt)
  let reported = false
  const reportOnce = (error: Error) => {
    if (reported) return
    reported = true
    publishError(null, error)
  }

  return withRun({
    header,
    resolve(req, headerValue) {
      let ms = configuredMs
      if (callback !== undefined) {
        const chosen = callSafely(callback, req, reportOnce, name)
        if (chosen === false) return UNBOUNDED
        if (chosen !== undefined) ms = chosen
      }
      if (ms === undefined) return UNBOUNDED
      if (header !== undefined) {
        const asked = parseDeadlineHeader(headerValue, format)
        // Only tightens: never above the configured budget, never below the floor.
        if (asked !== undefined && asked < ms) ms = Math.max(asked, Math.min(minMs, ms))
      }
      return scopes.get(ms)
    },
  })
}

function withRun<Req>(policy: Omit<Policy<Req>, 'run'>): Policy<Req> {
  const { header, resolve } = policy
  return Object.freeze({
    header,
    resolve,
    run<R>(req: Req, raw: IncomingMessage, res: ScopeEnd, next: () => R): R {
      return enterRequest(raw, res, resolve(req, header === undefined ? undefined : raw.headers[header]), next)
    },
  })
}

function option<T>(read: () => T, name: string): T {
  try {
    return read()
  } catch (error) {
    throw new InvalidOptionError(`${name}(): ${(error as Error).message}`)
  }
}

function headerName(header: unknown, name: string): string {
  if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    throw new InvalidOptionError(`${name}(): header must be an HTTP header name such as 'x-request-timeout-s', received ${describe(header)}`)
  }
  return header.toLowerCase()
}

/** A callback's answer in ms, false, or undefined (default); garbage is reported once and means the default. */
function callSafely<Req>(callback: (req: Req) => unknown, req: Req, report: (e: Error) => void, name: string): number | false | undefined {
  let value: unknown
  try {
    value = callback(req)
  } catch (error) {
    report(new InvalidOptionError(`${name}(): the seconds callback threw (${(error as Error)?.message}); the default budget applies`))
    return undefined
  }
  if (value === undefined || value === false) return value
  if (typeof value === 'number' && Number.isFinite(value) && value > 0 && value * 1000 <= MAX_MS) {
    return Math.max(1, Math.round(value * 1000))
  }
  report(new InvalidOptionError(`${name}(): the seconds callback returned ${describe(value)}; it must return seconds > 0, undefined (the default) or false (no scope). The default budget applies`))
  return undefined
}
