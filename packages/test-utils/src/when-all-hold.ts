/**
 * A request's sockets go back to the global default (or 0) when it ends
 * (its response closes, its call ends), which may come a moment after the
 * client has its answer: this awaits that, by the bind channel, bounded in
 * time.
 */
import dc from 'node:diagnostics_channel'
import type net from 'node:net'
import { CHANNEL_BIND, getUserTimeout, type BindMessage } from '@tcp-user-timeout/core'

const WAIT_MS = 5000

/** Resolves once every socket holds `ms` (read back with getsockopt); rejects after 5 s, saying which do not. */
export function whenAllHold(sockets: readonly net.Socket[], ms: number): Promise<void> {
  const holds = (s: net.Socket) => getUserTimeout(s) === ms
  if (sockets.every(holds)) return Promise.resolve()
  return new Promise((resolve, reject) => {
    const onBind = (message: unknown) => {
      if (!sockets.includes((message as BindMessage).socket)) return
      if (sockets.every(holds)) done()
    }
    const timer = setTimeout(() => {
      const held = JSON.stringify(sockets.map((s) => getUserTimeout(s)))
      done(new Error(`sockets still not at ${ms} ms after ${WAIT_MS} ms: ${held}`))
    }, WAIT_MS)
    const done = (error?: Error) => {
      clearTimeout(timer)
      dc.unsubscribe(CHANNEL_BIND, onBind)
      if (error) reject(error)
      else resolve()
    }
    dc.subscribe(CHANNEL_BIND, onBind)
  })
}
