/**
 * What the grpc-js tests share: the gRPC app fixture
 * (@tcp-user-timeout/test-utils/apps/grpc: a hand-written service of the
 * four method kinds, JSON messages, no .proto), its servers and channels on
 * 127.0.0.1 closed with the test, and the sockets the core reports on
 * tcp-user-timeout:bind (the way to reach a channel's connection from
 * outside grpc-js: its pin, a scope's connect or a stream's claim
 * publishes it).
 */
import dc from 'node:diagnostics_channel'
import type net from 'node:net'
import * as grpc from '@grpc/grpc-js'
import { CHANNEL_BIND, getUserTimeout, type BindMessage } from '@tcp-user-timeout/core'
import type { Teardown } from '@tcp-user-timeout/test-utils/teardown'
import { connect, start, type StartOptions } from '@tcp-user-timeout/test-utils/apps/grpc'
import { ca, tlsOptions } from '../helpers/tls.js'

export { grpc }
export { bidi, clientStream, serverStream, TestService, unary } from '@tcp-user-timeout/test-utils/apps/grpc'

export const tlsServer = () =>
  grpc.ServerCredentials.createSsl(null, [{ private_key: tlsOptions.key, cert_chain: tlsOptions.cert }])
export const tlsChannel = () => grpc.credentials.createSsl(ca)
/** The fixtures' certificate names localhost; the channels dial 127.0.0.1. */
export const TLS_OPTIONS: grpc.ChannelOptions = { 'grpc.ssl_target_name_override': 'localhost' }

type Options = grpc.ChannelOptions

/** The gRPC app on 127.0.0.1 (port 0 unless given) serving TestService with `implementation`; shut down with `t`. */
export async function startServer(t: Teardown, implementation: object, options: Partial<StartOptions> = {}) {
  return t.defer(await start({ ...options, implementation }), (app) => app.close())
}

/**
 * A client of TestService at 127.0.0.1:`port`, closed with `t`. A channel of its own unless `options` say otherwise.
 */
export function startClient(t: Teardown, port: number, credentials: grpc.ChannelCredentials, options: Options = {}) {
  return t.defer(connect(`127.0.0.1:${port}`, credentials, options), (c) => c.close())
}

/**
 * Every bind the core publishes (tcp-user-timeout:bind), from now until
 * `t` ends: the sockets of the channels' connections (outbound) and of a
 * hardened server (inbound), and a way to await a socket's next value.
 */
export function watchBinds(t: Teardown) {
  const messages: BindMessage[] = []
  const waiters = new Set<() => void>()
  const listener = (m: unknown) => {
    messages.push(m as BindMessage)
    for (const w of waiters) w()
  }
  dc.subscribe(CHANNEL_BIND, listener)
  t.add(() => dc.unsubscribe(CHANNEL_BIND, listener))
  const distinct = (direction: BindMessage['direction'], port: number, side: 'remotePort' | 'localPort') => [
    ...new Set(messages.filter((m) => m.direction === direction && m.socket[side] === port).map((m) => m.socket)),
  ]
  return {
    messages,
    /** The client sockets connected to `port` that the core reported, oldest first. */
    outbound: (port: number): net.Socket[] => distinct('outbound', port, 'remotePort'),
    /** The sockets a hardened server accepted on `port`. */
    inbound: (port: number): net.Socket[] => distinct('inbound', port, 'localPort'),
    /** Resolves when `socket` was bound to `ms` (already, or next); rejects after `timeoutMs`. */
    until(socket: net.Socket, ms: number, timeoutMs = 5000): Promise<void> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (getUserTimeout(socket) !== ms) return
          done()
          resolve()
        }
        const timer = setTimeout(() => {
          done()
          reject(
            new Error(
              `the socket was not bound to ${ms} ms within ${timeoutMs} ms (it holds ${getUserTimeout(socket)})`,
            ),
          )
        }, timeoutMs)
        const done = () => {
          clearTimeout(timer)
          waiters.delete(check)
        }
        waiters.add(check)
        check()
      })
    },
  }
}

/** A latch: `wait()` resolves once `open()` was called, or rejects after `ms`. */
export function latch(label: string) {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return {
    open,
    wait(ms = 5000): Promise<void> {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${label}: not within ${ms} ms`)), ms)),
      )
      return Promise.race([opened, late]).finally(() => clearTimeout(timer))
    },
  }
}
