import net from 'node:net'
import tls from 'node:tls'
import { contain } from '../contain.js'
import { wrap } from '../patch.js'
import { kLayered } from '../socket-state.js'

/**
 * A TLS socket layered on a socket that already exists (every connection a
 * TLS server accepts, grpc-js's and a proxy tunnel's client connections)
 * reads through that socket's handle, so when the kernel times the
 * connection out the error reaches the TLS socket, and the socket under it,
 * the one bound, closes without it. The link lets a timeout there be
 * counted and published (socket-state.ts, countTimeout).
 * `TLSSocket.prototype._wrapHandle(socket)` is where Node layers it, on every
 * version supported.
 */
export function installTls(): void {
  wrap(tls.TLSSocket.prototype, '_wrapHandle', wrapHandleHook)
}

function wrapHandleHook(original: Function, tlsSocket: tls.TLSSocket, args: IArguments): unknown {
  const result = Reflect.apply(original, tlsSocket, args) as unknown
  const under = args[0] as unknown
  if (under instanceof net.Socket && under !== tlsSocket)
    contain(() => ((under as net.Socket & { [kLayered]?: tls.TLSSocket })[kLayered] = tlsSocket), undefined)
  return result
}
