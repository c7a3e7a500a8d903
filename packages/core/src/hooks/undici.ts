import type { Socket } from 'node:net'
import { bindExchange, capture, type Capture } from '../bind.js'
import { hostOfOrigin } from '../exempt.js'
import { subscribe } from '../patch.js'
import { discoverDispatchers, dispatchCapture } from './undici-dispatch.js'

const kCapture = Symbol.for('tcp-user-timeout.capture')

interface UndiciRequest {
  origin?: unknown
  [kCapture]?: Capture
}

/**
 * fetch and the undici package (both publish the same channels). Each
 * request carries the scope of the dispatch that made it (see
 * undici-dispatch.ts), applied at `undici:client:sendHeaders`, which gives
 * the socket carrying the exchange but may run in another request's context.
 */
export function installUndici(): void {
  discoverDispatchers()
  subscribe('undici:request:create', onCreate)
  subscribe('undici:client:sendHeaders', onSendHeaders)
}

function onCreate(message: unknown): void {
  const request = (message as { request: UndiciRequest }).request
  const handler = handlerOf(request)
  // null (dispatched outside any scope) is an answer too: only undefined falls back.
  const captured = dispatchCapture(handler)
  request[kCapture] = captured !== undefined ? captured : fallbackCapture(handler)
}

// A copy whose dispatchers were not found (bundled into an app, say) is
// created in its caller's context unless a busy pool queued it. undici's
// own API handlers (request, stream, pipeline) are AsyncResources made in
// the caller's context: read the scope from there.
function fallbackCapture(handler: MaybeAsyncResource | undefined): Capture {
  return typeof handler?.runInAsyncScope === 'function' ? handler.runInAsyncScope(capture) : capture()
}

interface MaybeAsyncResource {
  runInAsyncScope?: <R>(fn: () => R) => R
}

// undici keeps the handler under a private Symbol('handler'); found once per
// Request class (the bundled undici and an npm copy have one each).
const handlerKeys = new WeakMap<object, symbol | null>()

function handlerOf(request: UndiciRequest): MaybeAsyncResource | undefined {
  const proto = Object.getPrototypeOf(request) as object
  let key = handlerKeys.get(proto)
  if (key === undefined) {
    key = Object.getOwnPropertySymbols(request).find((s) => s.description === 'handler') ?? null
    handlerKeys.set(proto, key)
    // The first request of a copy of undici loaded after the hooks: find its dispatchers.
    discoverDispatchers()
  }
  return key === null ? undefined : ((request as Record<symbol, unknown>)[key] as MaybeAsyncResource | undefined)
}

function onSendHeaders(message: unknown): void {
  const { request, socket } = message as { request: UndiciRequest; socket: Socket }
  bindExchange(socket, request[kCapture], hostOfUndiciRequest, request)
}

function hostOfUndiciRequest(request: UndiciRequest): string {
  return hostOfOrigin(request.origin)
}
