/**
 * The app's side of the multiplexed tests: an upstream that holds streams
 * until released (@tcp-user-timeout/test-utils/h2) and the ONE connection
 * the app shares for all its requests to it, a ClientHttp2Session or a
 * grpc-js channel, opened by whoever uses it first.
 */
import { once } from 'node:events'
import http2 from 'node:http2'
import type net from 'node:net'
import * as grpc from '@grpc/grpc-js'
import type { Teardown } from '@tcp-user-timeout/test-utils'
import {
  grpcChannelSockets,
  sessionSocket,
  startGrpcUpstream,
  startHttp2Upstream,
  type Holds,
} from '@tcp-user-timeout/test-utils/h2'
import { ca, tlsOptions } from '../helpers/tls.js'
import { loadHold, type HoldClient, type Reply } from './fixtures/hold-service.mjs'

export interface Link {
  /** The upstream's held streams, by tag. */
  readonly holds: Holds
  /**
   * One exchange tagged `tag`, started where this is called (a handler:
   * the request's scope). Resolves with the upstream's answer once the
   * exchange is over: for http2, once the client stream has closed.
   */
  exchange(tag: string): Promise<Reply>
  /** Opens the connection now, where this is called, and resolves once it is up. */
  connect(): Promise<void>
  /**
   * Opens a long-lived stream tagged 'watch' where this is called; the upstream
   * holds it. `open` turns false when it ends.
   */
  watch(): { readonly open: boolean }
  /** The socket under the shared connection; throws unless there is exactly one. */
  socket(): net.Socket
}

export interface Transport {
  readonly name: string
  /** Starts the upstream and makes the app's link to it (not connected yet); both closed with `t`. */
  start(t: Teardown): Promise<Link>
}

export const H2C: Transport = { name: 'node:http2 h2c', start: (t) => http2Link(t, false) }
export const H2_TLS: Transport = { name: 'node:http2 over TLS', start: (t) => http2Link(t, true) }

type GrpcKind = 'unary' | 'server-streaming' | 'bidi'
export const GRPC: Record<GrpcKind, Transport> = {
  unary: { name: 'grpc-js unary', start: (t) => grpcLink(t, 'unary') },
  'server-streaming': { name: 'grpc-js server-streaming', start: (t) => grpcLink(t, 'server-streaming') },
  bidi: { name: 'grpc-js bidi', start: (t) => grpcLink(t, 'bidi') },
}

async function http2Link(t: Teardown, tls: boolean): Promise<Link> {
  const upstream = t.defer(await startHttp2Upstream(tls ? { tls: tlsOptions } : {}), (u) => u.close())
  let session: http2.ClientHttp2Session | undefined
  // Registered after the upstream: closed before it.
  t.add(() => session?.destroy())
  const open = (): http2.ClientHttp2Session => {
    if (session === undefined || session.destroyed) {
      session = http2.connect(upstream.origin, tls ? { ca } : {})
      // A session error reaches its streams, which reject.
      session.on('error', () => {})
    }
    return session
  }
  return {
    holds: upstream.holds,
    exchange: (tag) =>
      new Promise((resolve, reject) => {
        const stream = open().request({ ':path': '/hold', 'x-tag': tag })
        let status: unknown
        let body = ''
        stream.on('response', (headers) => (status = headers[':status']))
        stream.setEncoding('utf8')
        stream.on('data', (d: string) => (body += d))
        stream.on('error', reject)
        // Answered once the stream has closed: from then on it is no longer in flight.
        stream.once('close', () => {
          if (status === 200) resolve(JSON.parse(body) as Reply)
          else
            reject(new Error(`stream ${tag} closed with status ${String(status)}, rstCode ${stream.rstCode}: ${body}`))
        })
      }),
    async connect() {
      const s = open()
      if (s.connecting) await once(s, 'connect')
    },
    watch() {
      const stream = open().request({ ':path': '/watch', 'x-tag': 'watch' })
      stream.on('error', () => {})
      stream.resume()
      let isOpen = true
      stream.once('close', () => (isOpen = false))
      t.add(() => stream.destroy())
      return {
        get open() {
          return isOpen
        },
      }
    },
    socket() {
      const socket = session && sessionSocket(session)
      if (socket === undefined) throw new Error('the app has no open HTTP/2 session')
      return socket
    },
  }
}

async function grpcLink(t: Teardown, kind: GrpcKind): Promise<Link> {
  const Hold = loadHold(grpc)
  const upstream = t.defer(await startGrpcUpstream({ grpc, service: Hold.service }), (u) => u.close())
  // A channel of its own, not the process-wide subchannel pool: one connection, this app's.
  const client = t.defer(
    new Hold(upstream.target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }),
    (c) => c.close(),
  )
  return {
    holds: upstream.holds,
    exchange: (tag) => grpcExchange(client, kind, tag),
    connect: () =>
      new Promise((resolve, reject) =>
        client.waitForReady(Date.now() + 10_000, (error) => (error ? reject(error) : resolve())),
      ),
    watch() {
      const call = client.ServerStream({ tag: 'watch' })
      call.on('error', () => {})
      call.on('data', () => {})
      let open = true
      call.once('status', () => (open = false))
      // Before the channel closes (cleanups run last-in first-out).
      t.add(() => call.cancel())
      return {
        get open() {
          return open
        },
      }
    },
    socket() {
      const sockets = grpcChannelSockets(client)
      if (sockets.length !== 1) throw new Error(`the app's channel has ${sockets.length} connections, expected one`)
      return sockets[0]
    },
  }
}

/** One call of `kind`; resolves with its one reply once the call has ended OK. */
function grpcExchange(client: HoldClient, kind: GrpcKind, tag: string): Promise<Reply> {
  if (kind === 'unary') {
    return new Promise((resolve, reject) =>
      client.Unary({ tag }, (error, reply) => (error ? reject(error) : resolve(reply!))),
    )
  }
  return new Promise((resolve, reject) => {
    let call: grpc.ClientReadableStream<Reply> | grpc.ClientDuplexStream<unknown, Reply>
    if (kind === 'server-streaming') {
      call = client.ServerStream({ tag })
    } else {
      const duplex = client.Bidi()
      duplex.write({ tag })
      duplex.end()
      call = duplex
    }
    let reply: Reply | undefined
    call.on('data', (r: Reply) => (reply = r))
    call.on('error', reject)
    call.on('status', (status: grpc.StatusObject) => {
      if (status.code === grpc.status.OK && reply) resolve(reply)
      else
        reject(
          new Error(`${kind} call ${tag} ended ${status.code} ${status.details} with reply ${JSON.stringify(reply)}`),
        )
    })
  })
}
