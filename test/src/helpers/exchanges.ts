import dc from 'node:diagnostics_channel'
import type { Socket } from 'node:net'
import { getUserTimeout } from '@tcp-user-timeout/core'

export interface Seen {
  socket: Socket
  /** TCP_USER_TIMEOUT read with getsockopt while the exchange was on the wire. */
  inFlight: number | undefined
}

/**
 * Records, for every undici/fetch exchange, the socket that carried it and
 * the value that socket held while the request was being sent. The core
 * subscribes first (at import), so its bind has run when this reads.
 */
export function trackUndiciExchanges() {
  const byPath = new Map<string, Seen>()
  const onSendHeaders = (message: unknown) => {
    const { request, socket } = message as { request: { path: string }; socket: Socket }
    byPath.set(request.path, { socket, inFlight: getUserTimeout(socket) })
  }
  dc.subscribe('undici:client:sendHeaders', onSendHeaders)
  return {
    byPath,
    stop: () => dc.unsubscribe('undici:client:sendHeaders', onSendHeaders),
  }
}
