import { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { untilEnd } from './lease.js'
import { wrap } from './patch.js'
import { shared, type Scope, type ScopeEnd } from './shared.js'

// Symbol.for: every evaluation of this package must agree on them (see shared.ts).
const kScope = Symbol.for('tcp-user-timeout.request.scope')
const kBodyScope = Symbol.for('tcp-user-timeout.body.scope')

// The request's scope is a property of the request, not a WeakMap entry: the
// scope refers to the response, which refers to the request, and V8's
// scavenger holds a WeakMap value strongly, so each entry would keep its
// whole request alive, and promote it, until a full collection.
type ScopedRequest = IncomingMessage & { [kScope]?: Scope }
type ScopedBody = object & { [kBodyScope]?: Scope }

/** The wrapper on IncomingMessage.prototype.on, once it is there: one comparison per request then. */
let protoOn: unknown

/**
 * Runs `next` in `scope` for this request, and runs the request's own events
 * ('data', 'end', 'close', ...) in it as well. Node emits those from the
 * connection's async context, not from the middleware's (nodejs/node#34430),
 * so without this a body parser's callback, and every middleware and
 * handler it calls, would lose the scope. A later call for the same request
 * (a route's override) replaces the scope for both. The scope ends with the
 * response: once `res` has closed, the sockets the request opened go back
 * to the global default (lease.ts).
 */
export function enterRequest<R>(req: ScopedRequest, res: ScopeEnd, scope: Scope, next: () => R): R {
  if (req.on !== protoOn) scopeEvents(req)
  const own = untilEnd(scope, res)
  req[kScope] = own
  return shared.als.run(own, next)
}

/**
 * A request's events pay for the scope only once something listens to them:
 * a request whose body nobody reads (every GET) emits 'resume', 'end' and
 * 'close' to no listener of the application's, and a wrapper on every emit
 * of every request was most of what this library cost per request. So the
 * methods that add a listener (IncomingMessage.prototype's on,
 * addListener, prependListener; once and prependOnceListener call them)
 * are wrapped once per thread, and the first listener added to a request
 * that has a scope wraps that request's own emit (listenerAdded). Any other
 * emitter (an injected request, a gRPC call) has its emit wrapped at once.
 * Called again when something wrapped `on` after us: that wrapper calls
 * through to ours, and wrap() adds nothing twice.
 */
function scopeEvents(req: ScopedRequest): void {
  // uninstall() took the hooks out: no request patches them back in.
  if (!shared.installed) return
  if (req instanceof IncomingMessage && !Object.hasOwn(req, 'on') && !Object.hasOwn(req, 'emit')) prepareRequests()
  else wrap(req, 'emit', emitHook, 'value', true)
}

/**
 * Wraps the listener methods of IncomingMessage.prototype, once per thread.
 * Adapters call it when they are configured (createPolicy), before the app
 * serves: a prototype changed under a running server gives V8's code for
 * node:http two shapes of request to handle, for good, at a cost to every
 * request after.
 */
export function prepareRequests(): void {
  if (!shared.installed) return
  const proto = IncomingMessage.prototype
  if (proto.on === protoOn) return
  let wrapped = true
  for (const key of ['on', 'addListener', 'prependListener']) wrapped = wrap(proto, key, listenerAdded) && wrapped
  if (wrapped) protoOn = proto.on
}

/**
 * A listener added to a request that has a scope: from now on, the
 * request's emits look for a scope to run in (emitHook). node:http's own
 * `clearIncoming` ('end', on every request) runs no user code: it does not
 * count (matched by name: if Node renames it, it only costs the wrapper).
 */
function listenerAdded(original: Function, req: ScopedRequest, args: IArguments): unknown {
  const listener = args[1] as unknown
  if (req[kScope] !== undefined && listener !== clearIncoming && !isClearIncoming(listener)) {
    try {
      if (!Object.hasOwn(req, 'emit')) wrap(req, 'emit', emitHook, 'value', true)
    } catch {
      // An emitter this was not written for: its events run as Node emits them.
    }
  }
  return Reflect.apply(original, req, args)
}

/** node:http's one function of that name, once seen: then told by identity (a function's name is a slow read). */
let clearIncoming: unknown

function isClearIncoming(listener: unknown): boolean {
  if (typeof listener !== 'function' || listener.name !== 'clearIncoming') return false
  clearIncoming = listener
  return true
}

function emitHook(original: Function, req: ScopedRequest, args: IArguments): unknown {
  const scope = req[kScope]
  return scope !== undefined && needsScope(req, scope, args[0] as string | symbol)
    ? shared.als.run(scope, Reflect.apply, original, req, args)
    : Reflect.apply(original, req, args)
}

type Listeners = Record<string | symbol, unknown>

/**
 * Only an event with a listener that runs user code, emitted outside the
 * scope, pays for a run; the common cases are told apart by one read of the
 * emitter's listeners. Every request of node:http emits 'resume' (from the
 * handler's own read or Node's dump of an unread body: in the scope
 * already) and 'end', whose one listener on a request answered before its
 * body was read (every GET) is node:http's `clearIncoming`: it frees the
 * parser's reference and runs no user code (matched by name: if Node
 * renames it, it only costs that run again). Only our own store changes:
 * other AsyncLocalStorage users see the emit as Node made it. An emitter
 * this was not written for runs its events as Node emits them.
 */
function needsScope(req: ScopedRequest, scope: Scope, type: string | symbol): boolean {
  if (type === 'resume' || type === 'pause') return false
  let listeners: unknown
  try {
    const events = (req as { _events?: Listeners })._events
    listeners = events !== undefined && events !== null ? events[type] : req.listenerCount(type) !== 0 || undefined
  } catch {
    return false
  }
  if (listeners === undefined) return false
  if (listeners === clearIncoming || isClearIncoming(listeners)) return false
  return shared.als.getStore() !== scope
}

/**
 * Runs a response body stream's reads in the request's scope. For
 * frameworks that write the body after the middleware chain has returned,
 * outside the scope (Koa's `ctx.body = stream`, a web `ReadableStream` that
 * @hono/node-server reads): a lazily produced body (a generator that fetches
 * as it goes) would otherwise open unbound sockets. Anything that is not a
 * Node readable or an unlocked web ReadableStream is left alone.
 */
export function scopeResponseBody(req: ScopedRequest, body: unknown): void {
  const scope = req[kScope]
  if (scope === undefined) return
  if (body instanceof ReadableStream) {
    if (!body.locked) scopeBody(body, 'getReader', scope, getReaderHook)
  } else if (isReadable(body)) {
    scopeBody(body, 'read', scope, readHook)
  }
}

function scopeBody(
  body: ScopedBody,
  key: string,
  scope: Scope,
  hook: (original: Function, self: ScopedBody, args: IArguments) => unknown,
): void {
  if (body[kBodyScope] !== undefined) return
  body[kBodyScope] = scope
  wrap(body, key, hook, 'value', true)
}

/** A Node readable's reads run in the scope it was given. */
function readHook(original: Function, body: ScopedBody, args: IArguments): unknown {
  return shared.als.run(body[kBodyScope]!, Reflect.apply, original, body, args)
}

/** Each reader a web stream hands out reads in the stream's scope. */
function getReaderHook(original: Function, stream: ScopedBody, args: IArguments): unknown {
  const reader = Reflect.apply(original, stream, args) as ScopedBody
  if (reader !== null && typeof reader === 'object' && typeof (reader as { read?: unknown }).read === 'function') {
    scopeBody(reader, 'read', stream[kBodyScope]!, readHook)
  }
  return reader
}

function isReadable(body: unknown): body is Readable & ScopedBody {
  return (
    body !== null &&
    typeof body === 'object' &&
    typeof (body as Readable).read === 'function' &&
    typeof (body as Readable).pipe === 'function'
  )
}
