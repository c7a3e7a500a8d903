import { once } from 'node:events'
import type net from 'node:net'

/** Resolves with the socket once connected (TLS: `'secureConnect'`, once the handshake is done). */
export async function connected<S extends net.Socket>(socket: S, event = 'connect'): Promise<S> {
  await once(socket, event)
  return socket
}
