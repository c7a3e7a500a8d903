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

/** The wrapper on IncomingMessage.prototype.emit, once it is there: one comparison per request then. */
let protoEmit: unknown

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
  if (req.emit !== protoEmit) scopeEvents(req)
  const own = untilEnd(scope, res)
  req[kScope] = own
  return shared.als.run(own, next)
}

/**
 * Wraps IncomingMessage.prototype.emit, once (every request of node:http,
 * Express, Koa and Fastify inherits it), or, for a request with an emit of
 * its own or another emitter (an injected request), the request's own.
 * Where no scope was entered the wrapper only forwards. Called again when
 * something wrapped emit after us: that wrapper calls through to ours, and
 * wrap() adds nothing twice.
 */
function scopeEvents(req: ScopedRequest): void {
  // uninstall() took the hooks out: no request patches them back in.
  if (!shared.installed) return
  if (req instanceof IncomingMessage && !Object.hasOwn(req, 'emit')) {
    const proto = IncomingMessage.prototype
    if (wrap(proto, 'emit', emitHook)) protoEmit = proto.emit
  } else {
    wrap(req, 'emit', emitHook, 'value', true)
  }
}

function emitHook(original: Function, req: ScopedRequest, args: IArguments): unknown {
  const scope = req[kScope]
  let enter = false
  try {
    enter = scope !== undefined && needsScope(req, scope, args[0] as string | symbol)
  } catch {
    // An emitter this was not written for: its events run as Node emits them.
  }
  return enter ? shared.als.run(scope!, Reflect.apply, original, req, args) : Reflect.apply(original, req, args)
}

/**
 * Most events have no listener, some ('resume', 'pause') are emitted by the
 * handler itself, already in the scope, and one is Node's own bookkeeping:
 * only the rest pay for a run. Only our own store changes: other
 * AsyncLocalStorage users see the emit as Node made it.
 */
function needsScope(req: ScopedRequest, scope: Scope, type: string | symbol): boolean {
  return req.listenerCount(type) !== 0 && shared.als.getStore() !== scope && !onlyNodeListens(req, type)
}

/**
 * A request answered before its body was read (every GET) gets one 'end'
 * listener from node:http, `clearIncoming`, which frees the parser's
 * reference to it and runs no user code. Running it in the scope was one
 * AsyncLocalStorage.run per request (on Node 24+, a Map copied), for
 * nothing. Matched by name: if Node renames it, it only costs that run again.
 */
function onlyNodeListens(req: ScopedRequest, type: string | symbol): boolean {
  const listener = (req as { _events?: Record<string | symbol, unknown> })._events?.[type]
  return typeof listener === 'function' && listener.name === 'clearIncoming'
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
