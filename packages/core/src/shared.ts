import { AsyncLocalStorage } from 'node:async_hooks'
import net, { type Socket } from 'node:net'
import { zeroCounters, type Stats } from './counters.js'
import type { HostMatcher } from './exempt.js'
import type { Loaded } from './native-load.js'

/** What ends a request's scope: its response's 'close', or a job settling. */
export interface ScopeEnd {
  /** True once it has closed. */
  readonly closed?: boolean
  once(event: 'close', listener: () => void): unknown
}

/** The sockets a request opened, put back when it ends (lease.ts); seen from a socket's state. */
export interface SocketLease {
  readonly end: ScopeEnd
  readonly sockets: Socket[]
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

/**
 * A patch of a Node function (patch.ts): the original, the wrapper put in
 * its place, and the hook the wrapper calls. The wrapper reads `hook` at
 * each call, so the newest evaluation of this package can put in its own
 * and `unwrap` can turn a wrapper that another library wrapped again into
 * a pass-through.
 */
export interface PatchRecord {
  readonly target: object
  readonly key: PropertyKey
  readonly kind: 'value' | 'set'
  /** What `target` owned before; undefined: it inherited the method. */
  readonly descriptor: PropertyDescriptor | undefined
  wrapper: Function
  hook: Function | undefined
}

/** A diagnostics channel subscription, made once per thread; `hook` as in PatchRecord. */
export interface SubscriptionRecord {
  readonly channel: string
  readonly listener: (message: unknown, name: string | symbol) => void
  hook: ((message: unknown) => void) | undefined
}

interface Shared {
  readonly version: 2
  readonly als: AsyncLocalStorage<Scope>
  /** The global default's bound in ms; undefined: none set. */
  globalMs: number | undefined
  readonly counters: Stats
  /** This thread's ffi-rs binding, loaded at the first use. */
  native: Loaded | undefined
  /** Keyed by the response (or a job's end): one lease per request (lease.ts). */
  readonly leases: WeakMap<ScopeEnd, SocketLease>
  /** The scope each undici handler was dispatched in (hooks/undici-dispatch.ts). */
  readonly captures: WeakMap<object, Scope | null>
  /** Every patch, by target and key (patch.ts). */
  readonly patches: WeakMap<object, Map<PropertyKey, PatchRecord>>
  /** The patches in place, to undo at uninstall(): prototypes of Node and of its libraries, never per request. */
  readonly installedPatches: Set<PatchRecord>
  readonly subscriptions: Map<string, SubscriptionRecord>
  installed: boolean
  /** The warnings said once per thread, by key (warn.ts warnOnce); made at the first (a copy of version 2 lacks it). */
  warnedOnce?: Set<string>
}

/**
 * One state per thread, whatever loads this package and however often:
 * the ESM and the CommonJS build side by side (the dual-package hazard),
 * two copies in node_modules, a module re-evaluated after `delete
 * require.cache[...]`, and Jest, which gives every test file its own
 * module registry and its own global object. The hooks patch objects of
 * Node's core modules, which every one of those shares, so the state lives
 * on one of them (`node:net`), not on `globalThis`: a second evaluation
 * finds it and adds no second layer of hooks, and a test runner that
 * cleans up a test file's globals cannot tear it away from the hooks still
 * installed. Not enumerable: `Object.keys(net)` is unchanged.
 */
const key = Symbol.for('tcp-user-timeout.state')
const home = net as unknown as Record<symbol, Shared | undefined>

export const shared: Shared = home[key] ?? create()

function create(): Shared {
  const state: Shared = {
    version: 2,
    als: new AsyncLocalStorage<Scope>(),
    globalMs: undefined,
    counters: zeroCounters(),
    native: undefined,
    leases: new WeakMap(),
    captures: new WeakMap(),
    patches: new WeakMap(),
    installedPatches: new Set(),
    subscriptions: new Map(),
    installed: false,
  }
  Object.defineProperty(home, key, { value: state, enumerable: false, writable: false, configurable: false })
  return state
}
