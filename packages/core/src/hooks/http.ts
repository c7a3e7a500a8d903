import http, { type ClientRequest } from 'node:http'
import type { Socket } from 'node:net'
import { bindExchange, capture, type Capture } from '../bind.js'
import { reportInternal } from '../contain.js'
import { wrap } from '../patch.js'

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
export function installHttp(): void {
  wrap(http.Agent.prototype, 'addRequest', addRequestHook)
}

// Every client request passes here: plain try/catch, no closure per request.
function addRequestHook(original: Function, agent: http.Agent, args: IArguments): unknown {
  const req = args[0] as Tracked
  try {
    // A request handed to addRequest again (an agent that retries it) keeps its first capture and its one listener.
    if (!(kCapture in req)) {
      req[kCapture] = capture()
      req.on('socket', onSocket)
    }
  } catch (error) {
    reportInternal(error)
  }
  return Reflect.apply(original, agent, args) as unknown
}

function onSocket(this: Tracked, socket: Socket): void {
  try {
    bindExchange(socket, this[kCapture], hostOfRequest, this)
  } catch (error) {
    reportInternal(error)
  }
}

function hostOfRequest(req: ClientRequest): string | undefined {
  return req.host
}
