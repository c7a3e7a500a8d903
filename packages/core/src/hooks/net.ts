import net from 'node:net'
import { bindOnConnect, ignoreSocket } from '../bind.js'
import { contain } from '../contain.js'
import { wrap } from '../patch.js'

type ConnectArgs = unknown[]

/**
 * Wraps `net.Socket.prototype.connect`, which every TCP client goes through:
 * `net.connect`, `new net.Socket().connect()` (pg), `tls.connect` (TLSSocket
 * inherits it), and the sockets of http.Agent and undici. The
 * `net.client.socket` channel of Node 20 misses TLS and `new Socket().connect()`.
 */
export function installNet(): void {
  wrap(net.Socket.prototype, 'connect', connectHook)
}

function connectHook(original: Function, socket: net.Socket, args: IArguments): unknown {
  // connect() after 'close' (or on a new socket) makes a new handle, so a new fd.
  const renewing = contain(() => isRenewing(socket), false)
  const result = Reflect.apply(original, socket, args) as unknown
  // After the original: `connecting` is set, and the fd comes later, at 'connect'.
  contain(() => {
    const list = Array.prototype.slice.call(args) as ConnectArgs
    if (isIpc(list)) ignoreSocket(socket)
    else bindOnConnect(socket, hostOfConnectArgs, list, renewing)
  }, undefined)
  return result
}

export function isRenewing(socket: net.Socket): boolean {
  return socket.destroyed || (socket as net.Socket & { _handle?: unknown })._handle == null
}

// net.connect() passes its normalized arguments as one array: [options, cb].
function optionsOf(args: ConnectArgs): unknown {
  const first = args[0]
  return Array.isArray(first) ? first[0] : first
}

function isIpc(args: ConnectArgs): boolean {
  const options = optionsOf(args)
  if (typeof options === 'string') return true
  return options !== null && typeof options === 'object' && (options as { path?: unknown }).path != null
}

function hostOfConnectArgs(args: ConnectArgs): string {
  const options = optionsOf(args)
  if (options !== null && typeof options === 'object') {
    const host = (options as { host?: unknown }).host
    return typeof host === 'string' ? host : 'localhost'
  }
  return typeof args[1] === 'string' ? args[1] : 'localhost'
}
