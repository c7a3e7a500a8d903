import { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { untilEnd } from './lease.js'
import { shared, type Scope, type ScopeEnd } from './shared.js'

// Symbol.for: the ESM and the CommonJS build must agree on them (see shared.ts).
const kScope = Symbol.for('tcp-user-timeout.request.scope')
const kEmit = Symbol.for('tcp-user-timeout.request.emit')
const kRead = Symbol.for('tcp-user-timeout.body.read')
const kRequest = Symbol.for('tcp-user-timeout.body.request')

type Emit = IncomingMessage['emit']
// The request's scope is a property of the request, not a WeakMap entry: the
// scope refers to the response, which refers to the request, and V8's
// scavenger holds a WeakMap value strongly, so each entry would keep its
// whole request alive, and promote it, until a full collection.
type ScopedRequest = IncomingMessage & { [kEmit]?: Emit; [kScope]?: Scope }
type ScopedBody = Readable & { [kRead]?: Readable['read']; [kRequest]?: ScopedRequest }
type EmitHolder = { emit: Emit; [kEmit]?: Emit }

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
  if (req.emit !== emitInScope) wrapEmit(req)
  const own = untilEnd(scope, res)
  req[kScope] = own
  return shared.als.run(own, next)
}


/**
 * Puts emitInScope on IncomingMessage.prototype, once (every request of
 * node:http, Express, Koa and Fastify inherits it), or, for a request with
 * an emit of its own or some other emitter, on the request. Where no scope
 * was entered it only forwards. Called again when something wrapped emit
 * after us: that wrapper calls through to ours, and nothing is added twice.
 */
function wrapEmit(req: ScopedRequest): void {
  const proto = IncomingMessage.prototype as unknown as EmitHolder
  const holder: EmitHolder = req instanceof IncomingMessage && !Object.hasOwn(req, 'emit') ? proto : req
  if (Object.hasOwn(holder, kEmit)) return
  holder[kEmit] = holder.emit
  holder.emit = emitInScope as Emit
}

function emitInScope(this: ScopedRequest, type: string | symbol): boolean {
  const scope = this[kScope]
  // Most events have no listener, some ('resume', 'pause') are emitted by
  // the handler itself, already in the scope, and one is Node's own
  // bookkeeping: only the rest pay for a run.
  if (scope === undefined || this.listenerCount(type) === 0 || shared.als.getStore() === scope || onlyNodeListens(this, type)) {
    return Reflect.apply(this[kEmit]!, this, arguments) as boolean
  }
  // Only our own store changes; other AsyncLocalStorage users see the emit as Node made it.
  return shared.als.run(scope, applyEmit, this, arguments)
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

function applyEmit(req: ScopedRequest, args: IArguments): boolean {
  return Reflect.apply(req[kEmit]!, req, args) as boolean
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
  if (body instanceof ReadableStream) return scopeWebStream(scope, body)
  if (!isReadable(body) || body[kRead] !== undefined) return
  body[kRead] = body.read
  body[kRequest] = req
  body.read = readInScope
}

/** Each reader the stream hands out reads in `scope`. */
function scopeWebStream(scope: Scope, stream: ReadableStream): void {
  if (stream.locked || Object.hasOwn(stream, 'getReader')) return
  const getReader = stream.getReader
  stream.getReader = function getReaderInScope(this: ReadableStream, ...args: unknown[]) {
    const reader = Reflect.apply(getReader, this, args) as ReadableStreamDefaultReader
    const read = reader.read
    reader.read = () => shared.als.run(scope, () => Reflect.apply(read, reader, []) as ReturnType<typeof read>)
    return reader
  } as ReadableStream['getReader']
}

function isReadable(body: unknown): body is ScopedBody {
  return body !== null && typeof body === 'object' && typeof (body as Readable).read === 'function' && typeof (body as Readable).pipe === 'function'
}

function readInScope(this: ScopedBody, size?: number): unknown {
  return shared.als.run(this[kRequest]![kScope]!, applyRead, this, size)
}

function applyRead(body: ScopedBody, size: number | undefined): unknown {
  return body[kRead]!.call(body, size)
}
