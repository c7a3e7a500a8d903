/**
 * Records every `tcp-user-timeout:bind` message (a setsockopt the core made on
 * an implicit bind), so a test can say that a socket was never touched, not
 * only that it reads 0 when looked at.
 */
import dc from 'node:diagnostics_channel'
import type net from 'node:net'
import { CHANNEL_BIND, type BindMessage } from '@tcp-user-timeout/core'

export interface BindLog {
  readonly messages: readonly BindMessage[]
  /** The values set on `socket`, in order. */
  on(socket: net.Socket): number[]
  stop(): void
}

export function recordBinds(): BindLog {
  const messages: BindMessage[] = []
  const onBind = (m: unknown) => messages.push(m as BindMessage)
  dc.subscribe(CHANNEL_BIND, onBind)
  return {
    messages,
    on: (socket) => messages.filter((m) => m.socket === socket).map((m) => m.ms),
    stop: () => dc.unsubscribe(CHANNEL_BIND, onBind),
  }
}
