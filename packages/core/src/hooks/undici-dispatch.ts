import Module from 'node:module'
import { capture, type Capture } from '../bind.js'
import { wrap } from '../patch.js'
import { shared } from '../shared.js'

/**
 * The scope of each undici dispatch, taken where `dispatch()` was called.
 *
 * undici publishes `undici:request:create` when a Client makes the request,
 * which for a busy Pool or Agent is later, from its queue, in the context of
 * the exchange that freed a connection. No channel fires at dispatch time,
 * so the dispatchers' internal `[kDispatch](opts, handler)` methods are
 * wrapped: it is the first point that sees the handler object the request
 * will hold (DispatcherBase.dispatch may replace the caller's handler with a
 * wrapper first), and it runs synchronously in the caller's context, under
 * any interceptor chain. The handler keeps its first capture, so a queue, a
 * pool inside an agent or a retry of the same handler cannot overwrite it.
 */

/**
 * The scope captured where the dispatch that made this handler's request was
 * called. undici 6 (Node 20 and 22's bundled copy) wraps the handler once
 * more inside the Client, where the dispatch came from a pool's queue: its
 * RedirectHandler keeps the handler it wraps as `.handler`.
 */
export function dispatchCapture(handler: unknown): Capture {
  for (let h = handler, depth = 0; depth < 4 && h !== null && typeof h === 'object'; depth++) {
    const captured = shared.captures.get(h)
    if (captured !== undefined) return captured
    h = (h as { handler?: unknown }).handler
  }
  return undefined
}

function dispatchHook(original: Function, dispatcher: object, args: IArguments): unknown {
  const handler: unknown = args[1]
  try {
    if (handler !== null && typeof handler === 'object' && !shared.captures.has(handler))
      shared.captures.set(handler, capture())
  } catch {
    // A handler that cannot be a WeakMap key is not one undici made: nothing to capture.
  }
  return Reflect.apply(original, dispatcher, args) as unknown
}

/** Wraps the `dispatch` and `[kDispatch]` methods each prototype of `proto`'s chain owns. */
function patchChain(proto: object | null): void {
  for (let p = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const key of Reflect.ownKeys(p)) {
      if (key !== 'dispatch' && (typeof key !== 'symbol' || key.description !== 'dispatch')) continue
      const descriptor = Object.getOwnPropertyDescriptor(p, key)
      if (typeof descriptor?.value === 'function' && descriptor.writable === true) wrap(p, key, dispatchHook)
    }
  }
}

const GLOBAL_DISPATCHERS = [Symbol.for('undici.globalDispatcher.1'), Symbol.for('undici.globalDispatcher.2')]
// undici/lib/dispatcher/<name>.js, with either path separator.
const DISPATCHER_MODULE = /[\\/]undici[\\/]lib[\\/]dispatcher[\\/][\w-]+\.js$/

/**
 * Finds the dispatcher classes of every undici copy loaded so far: npm
 * undici's modules in the require cache, and whichever copy (Node's bundled
 * one included, which no cache lists) set the global dispatcher. Called at
 * install and again when a request of an unknown copy shows up: the first
 * request of a copy is made synchronously by its first dispatch, so nothing
 * of that copy can have been queued yet.
 */
export function discoverDispatchers(): void {
  const cache = (Module as unknown as { _cache?: Record<string, { exports?: unknown } | undefined> })._cache ?? {}
  for (const [file, mod] of Object.entries(cache)) {
    if (DISPATCHER_MODULE.test(file) && typeof mod?.exports === 'function')
      patchChain((mod.exports as { prototype: object }).prototype)
  }
  for (const key of GLOBAL_DISPATCHERS) {
    const dispatcher = (globalThis as Record<symbol, unknown>)[key]
    if (dispatcher !== null && typeof dispatcher === 'object') patchChain(Object.getPrototypeOf(dispatcher) as object)
  }
}
