import { compileExemptHosts, type HostPattern } from './exempt.js'
import { ScopeCache } from './scope-cache.js'
import { shared, type Scope } from './shared.js'
import { secondsToMs, validateFunction, validateSeconds } from './validate.js'
import { warningCodes } from './errors.js'
import { LONG_BUDGET_MS, longBudgetMessage, warnOnce } from './warn.js'

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
 *
 * A budget over an hour is most likely milliseconds given as seconds
 * (`withTimeout(25000, fn)` is 6.9 hours): the first one in the process
 * draws the process warning TUT_WARN_LONG_BUDGET (once, whatever the call
 * site; the budget still applies). A long budget that is meant is
 * silenced with `node --disable-warning=TUT_WARN_LONG_BUDGET`.
 */
export function withTimeout<R>(seconds: number, fn: () => R, options?: ScopeOptions): R {
  const scope = createScope(validateSeconds(seconds, 'seconds', WITHOUT_SCOPE), options)
  validateFunction(fn, 'fn')
  if (scope.ms! > LONG_BUDGET_MS) warnLongBudget('withTimeout', seconds, (s) => `withTimeout(${s}, fn)`)
  return shared.als.run(scope, fn)
}

/** The bound, in ms, of the scope in effect here; undefined outside any scope. */
export function currentTimeout(): number | undefined {
  return shared.als.getStore()?.ms
}

/**
 * The bound for sockets opened outside any scope (and for pooled sockets a
 * scope opened, when they carry unscoped work). `null` removes it; sockets
 * already open keep their value. Over an hour, it draws TUT_WARN_LONG_BUDGET
 * once per process, as withTimeout does.
 */
export function setGlobalDefault(seconds: number | null): void {
  shared.globalMs =
    seconds === null ? undefined : secondsToMs(seconds, 'seconds', 'setGlobalDefault(null) removes the default')
  if (shared.globalMs !== undefined && shared.globalMs > LONG_BUDGET_MS) {
    warnLongBudget('setGlobalDefault', seconds!, (s) => `setGlobalDefault(${s})`)
  }
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

/**
 * `withTimeout(headroom(maxExecutionSeconds), fn)`, for job workers. Never
 * warns of a long budget: a job's time limit of hours is ordinary (a
 * nightly export, a backfill), as BullMQ's `maxExecutionSeconds` is.
 */
export function withJobTimeout<R>(maxExecutionSeconds: number, fn: () => R, options?: ScopeOptions): R {
  validateSeconds(maxExecutionSeconds, 'maxExecutionSeconds', WITHOUT_SCOPE)
  const scope = createScope(validateSeconds(headroom(maxExecutionSeconds), 'seconds', WITHOUT_SCOPE), options)
  validateFunction(fn, 'fn')
  return shared.als.run(scope, fn)
}

/**
 * TUT_WARN_LONG_BUDGET for a function of the core, which takes no option to
 * say a long budget is meant (its signature is the public API): once per
 * process for each function, the way out Node's own
 * `--disable-warning=TUT_WARN_LONG_BUDGET`.
 */
function warnLongBudget(name: string, seconds: number, inSeconds: (seconds: number) => string): void {
  warnOnce(`long-budget:${name}`, warningCodes.LONG_BUDGET, () =>
    longBudgetMessage(
      inSeconds(seconds),
      seconds,
      inSeconds,
      'run node with --disable-warning=TUT_WARN_LONG_BUDGET (this is said once per process)',
    ),
  )
}
