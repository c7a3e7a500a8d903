import dc from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { bindExchange, capture, type Capture } from '../bind.js'
import { hostOfOrigin } from '../exempt.js'

const kCapture = Symbol.for('tcp-user-timeout.capture')

interface UndiciRequest {
  origin?: unknown
  [kCapture]?: Capture
}

/**
 * fetch and the undici package (both publish the same channels). The scope
 * is captured at `undici:request:create`, which runs in the fetch()/request()
 * caller's context, and applied at `undici:client:sendHeaders`, which gives
 * the socket carrying the exchange but may run in another request's context.
 */
export function installUndici(): () => void {
  dc.subscribe('undici:request:create', onCreate)
  dc.subscribe('undici:client:sendHeaders', onSendHeaders)
  return () => {
    dc.unsubscribe('undici:request:create', onCreate)
    dc.unsubscribe('undici:client:sendHeaders', onSendHeaders)
  }
}

function onCreate(message: unknown): void {
  ;(message as { request: UndiciRequest }).request[kCapture] = capture()
}

function onSendHeaders(message: unknown): void {
  const { request, socket } = message as { request: UndiciRequest; socket: Socket }
  bindExchange(socket, request[kCapture], hostOfUndiciRequest, request)
}

function hostOfUndiciRequest(request: UndiciRequest): string {
  return hostOfOrigin(request.origin)
}
