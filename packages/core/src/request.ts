import type { IncomingMessage } from 'node:http'
import type { Readable } from 'node:stream'
import { shared, type Scope } from './shared.js'

// Symbol.for: the ESM and the CommonJS build must agree on them (see shared.ts).
const kScope = Symbol.for('tcp-user-timeout.request.scope')
const kEmit = Symbol.for('tcp-user-timeout.request.emit')
const kRead = Symbol.for('tcp-user-timeout.body.read')
const kRequest = Symbol.for('tcp-user-timeout.body.request')

type Emit = IncomingMessage['emit']
type ScopedRequest = IncomingMessage & { [kScope]?: Scope; [kEmit]?: Emit }
type ScopedBody = Readable & { [kRead]?: Readable['read']; [kRequest]?: ScopedRequest }

/**
 * Runs `next` in `scope` for this request, and runs the request's own events
 * ('data', 'end', 'close', ...) in it as well. Node emits those from the
 * connection's async context, not from the middleware's (nodejs/node#34430),
 * so without this a body parser's callback, and every middleware and
 * handler it calls, would lose the scope. A later call for the same request
 * (a route's override) replaces the scope for both.
 */
export function enterRequest<R>(req: IncomingMessage, scope: Scope, next: () => R): R {
  const r = req as ScopedRequest
  if (r[kEmit] === undefined) {
    r[kEmit] = r.emit
    r.emit = emitInScope as Emit
  }
  r[kScope] = scope
  return shared.als.run(scope, next)
}

function emitInScope(this: ScopedRequest): boolean {
  // Only our own store changes; other AsyncLocalStorage users see the emit as Node made it.
  return shared.als.run(this[kScope]!, applyEmit, this, arguments)
}

function applyEmit(req: ScopedRequest, args: IArguments): boolean {
  return Reflect.apply(req[kEmit]!, req, args) as boolean
}

/**
 * Runs a response body stream's reads in the request's scope. For
 * frameworks that pipe the body after the middleware chain has returned,
 * outside the scope (Koa's `ctx.body = stream`): a lazily produced body (a
 * generator that fetches as it goes) would otherwise open unbound sockets.
 * Anything that is not a readable stream is left alone.
 */
export function scopeResponseBody(req: IncomingMessage, body: unknown): void {
  const r = req as ScopedRequest
  if (r[kScope] === undefined || !isReadable(body) || body[kRead] !== undefined) return
  body[kRead] = body.read
  body[kRequest] = r
  body.read = readInScope
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
