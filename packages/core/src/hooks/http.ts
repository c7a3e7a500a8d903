import http, { type ClientRequest } from 'node:http'
import type { Socket } from 'node:net'
import { bindExchange, capture, type Capture } from '../bind.js'

const kCapture = Symbol.for('tcp-user-timeout.capture')
type Tracked = ClientRequest & { [kCapture]?: Capture }

/**
 * node:http and https (Node 20 publishes no channel when a request is
 * created; `http.client.request.created` is 22.12+). The ClientRequest
 * constructor calls its agent's `addRequest` synchronously, in the caller's
 * context: that is where the request's scope is captured. The 'socket' event
 * may come later and in another request's context (a queued request), so it
 * binds with the captured scope, not the current one.
 */
export function installHttp(): () => void {
  const proto = http.Agent.prototype as http.Agent & { addRequest: (req: ClientRequest, ...rest: unknown[]) => void }
  const original = proto.addRequest
  const addRequest = function addRequest(this: http.Agent, req: ClientRequest) {
    ;(req as Tracked)[kCapture] = capture()
    req.on('socket', onSocket)
    return Reflect.apply(original, this, arguments) as void
  }
  proto.addRequest = addRequest
  return () => {
    if (proto.addRequest === addRequest) proto.addRequest = original
  }
}

function onSocket(this: Tracked, socket: Socket): void {
  bindExchange(socket, this[kCapture], hostOfRequest, this)
}

function hostOfRequest(req: ClientRequest): string | undefined {
  return req.host
}
