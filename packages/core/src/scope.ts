import { compileExemptHosts, type HostPattern } from './exempt.js'
import { ScopeCache } from './scope-cache.js'
import { shared, type Scope } from './shared.js'
import { secondsToMs, validateFunction, validateSeconds } from './validate.js'

export interface ScopeOptions {
  /** Sockets to these hosts are left alone (exact names, or RegExps tested against the host). */
  exemptHosts?: HostPattern[]
}

/**
 * A scope prepared once (validated, exempt hosts compiled), to be entered
 * many times: what the adapters build at configuration time.
 */
export function createScope(seconds: number, options?: ScopeOptions): Scope {
  const ms = secondsToMs(seconds)
  const exempt = compileExemptHosts(options?.exemptHosts)
  return exempt === undefined ? plainScopes.get(ms) : Object.freeze({ ms, exempt })
}

// `withTimeout(25, fn)` in a hot path (one per outbound call) allocates no scope.
const plainScopes = new ScopeCache(undefined)

// What withTimeout(0, fn) meant; the kernel would read 0 as its own default (about 15 min of retries).
const WITHOUT_SCOPE =
  'to run fn without a bound of its own, call fn() directly (outside any scope its sockets get the global default)'

/** Runs `fn` in a prepared scope (undefined: outside any scope, as unscoped work); returns what `fn` returns. */
export function runInScope<R>(scope: Scope | undefined, fn: () => R): R {
  return shared.als.run(scope as Scope, fn)
}

/**
 * The scope in effect here, to hand to `runInScope` later: what an adapter
 * captures where a call is made when the library it instruments runs the
 * call's work later from another call's context (a queue). Undefined
 * outside any scope.
 */
export function currentScope(): Scope | undefined {
  return shared.als.getStore()
}

/**
 * Runs `fn` so that every socket it uses gets a TCP_USER_TIMEOUT of
 * `seconds * 1000` ms. Returns what `fn` returns (a promise stays a
 * promise). Nested scopes: the inner one wins until it returns or throws.
 */
export function withTimeout<R>(seconds: number, fn: () => R, options?: ScopeOptions): R {
  const scope = createScope(validateSeconds(seconds, 'seconds', WITHOUT_SCOPE), options)
  validateFunction(fn, 'fn')
  return shared.als.run(scope, fn)
}

/** The bound, in ms, of the scope in effect here; undefined outside any scope. */
export function currentTimeout(): number | undefined {
  return shared.als.getStore()?.ms
}

/**
 * The bound for sockets opened outside any scope (and for pooled sockets a
 * scope opened, when they carry unscoped work). `null` removes it; sockets
 * already open keep their value.
 */
export function setGlobalDefault(seconds: number | null): void {
  shared.globalMs =
    seconds === null ? undefined : secondsToMs(seconds, 'seconds', 'setGlobalDefault(null) removes the default')
}

/** The global default in ms, or undefined. */
export function globalDefault(): number | undefined {
  return shared.globalMs
}

/**
 * The Ruby gem's job rule: leave a job room to handle the error before its
 * own limit kills it. `max >= 10 ? max - 5 : max * 0.9`.
 */
export function headroom(maxSeconds: number): number {
  validateSeconds(maxSeconds, 'maxSeconds')
  return maxSeconds >= 10 ? maxSeconds - 5 : maxSeconds * 0.9
}

/** `withTimeout(headroom(maxExecutionSeconds), fn)`, for job workers. */
export function withJobTimeout<R>(maxExecutionSeconds: number, fn: () => R, options?: ScopeOptions): R {
  validateSeconds(maxExecutionSeconds, 'maxExecutionSeconds', WITHOUT_SCOPE)
  return withTimeout(headroom(maxExecutionSeconds), fn, options)
}
