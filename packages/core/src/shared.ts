import { AsyncLocalStorage } from 'node:async_hooks'
import { zeroCounters, type Stats } from './counters.js'
import type { HostMatcher } from './exempt.js'

/** What ends a request's scope: its response's 'close', or a job settling. */
export interface ScopeEnd {
  /** True once it has closed. */
  readonly closed?: boolean
  once(event: 'close', listener: () => void): unknown
}

/** The sockets a request opened, put back when it ends (lease.ts); seen from a socket's state. */
export interface SocketLease {
  readonly end: ScopeEnd
}

/** What a scope carries: its bound, and the hosts it leaves alone. */
export interface Scope {
  /** The bound its sockets get, in ms; undefined: none of its own (UNBOUNDED), its sockets get the global default. */
  readonly ms: number | undefined
  readonly exempt: HostMatcher | undefined
  /**
   * A request's (or a job's) scope: the sockets it opens go back to the
   * global default when this closes (lease.ts). A `withTimeout` scope has
   * none: its sockets keep the bound for their life.
   */
  readonly end?: ScopeEnd
}

/**
 * The scope of a request whose bound is turned off (a route's `false`): its
 * sockets get what unscoped work gets (the global default, or nothing), but
 * they count as opened by a request, not at boot, so a pooled socket it
 * opened is bound by the scoped requests it carries later.
 */
export const UNBOUNDED: Scope = Object.freeze({ ms: undefined, exempt: undefined })

/**
 * The bound a scope gives a socket: its own, or the global default for
 * UNBOUNDED and for a request that has ended; undefined: no bound at all
 * (no global default either).
 */
export function boundOf(scope: Scope): number | undefined {
  return scope.ms === undefined || scope.end?.closed === true ? shared.globalMs : scope.ms
}

interface Shared {
  readonly version: 1
  readonly als: AsyncLocalStorage<Scope>
  /** The global default's bound in ms; undefined: none set. */
  globalMs: number | undefined
  readonly counters: Stats
  uninstall: (() => void) | undefined
}

// One state per process, even when both the ESM and the CommonJS build of
// this package are loaded (the dual-package hazard): two AsyncLocalStorage
// instances would make a scope opened by one build invisible to the other,
// and two sets of hooks would bind every socket twice.
const key = Symbol.for('tcp-user-timeout.shared')
const holder = globalThis as typeof globalThis & { [key]?: Shared }

export const shared: Shared = (holder[key] ??= {
  version: 1,
  als: new AsyncLocalStorage<Scope>(),
  globalMs: undefined,
  counters: zeroCounters(),
  uninstall: undefined,
})
