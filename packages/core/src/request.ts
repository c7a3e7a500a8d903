import type { IncomingMessage } from 'node:http'
import { shared, type Scope } from './shared.js'

// Symbol.for: the ESM and the CommonJS build must agree on them (see shared.ts).
const kScope = Symbol.for('tcp-user-timeout.request.scope')
const kEmit = Symbol.for('tcp-user-timeout.request.emit')

type Emit = IncomingMessage['emit']
type ScopedRequest = IncomingMessage & { [kScope]?: Scope | null; [kEmit]?: Emit }

/**
 * Runs `next` in `scope` (null: outside any scope) for this request, and
 * runs the request's own events ('data', 'end', 'close', ...) in it as well.
 * Node emits those from the connection's async context, not from the
 * middleware's (nodejs/node#34430), so without this a body parser's
 * callback, and every middleware and handler it calls, would lose the scope.
 * A later call for the same request (a route's override) replaces the scope
 * for both.
 */
export function enterRequest<R>(req: IncomingMessage, scope: Scope | null, next: () => R): R {
  const r = req as ScopedRequest
  if (r[kEmit] === undefined) {
    r[kEmit] = r.emit
    r.emit = emitInScope as Emit
  }
  r[kScope] = scope
  return scope === null ? shared.als.exit(next) : shared.als.run(scope, next)
}

function emitInScope(this: ScopedRequest): boolean {
  const scope = this[kScope]
  // Only our own store changes; other AsyncLocalStorage users see the emit as Node made it.
  return scope === null || scope === undefined
    ? shared.als.exit(applyEmit, this, arguments)
    : shared.als.run(scope, applyEmit, this, arguments)
}

function applyEmit(req: ScopedRequest, args: IArguments): boolean {
  return Reflect.apply(req[kEmit]!, req, args) as boolean
}
