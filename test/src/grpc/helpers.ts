/**
 * What the grpc-js tests share: a hand-written service of the four method
 * kinds (JSON messages, no .proto), real servers and channels on
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
import { ca, tlsOptions } from '../helpers/tls.js'

export { grpc }

const serialize = (value: unknown) => Buffer.from(JSON.stringify(value ?? null))
const deserialize = (bytes: Buffer) => JSON.parse(bytes.toString()) as unknown

function method(name: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<unknown, unknown> {
  return {
    path: `/tut.Test/${name}`,
    requestStream,
    responseStream,
    // What proto-loader gives: grpc-js also looks a handler up by this name.
    originalName: name[0]!.toLowerCase() + name.slice(1),
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  }
}

export const TestService = {
  Unary: method('Unary', false, false),
  ServerStream: method('ServerStream', false, true),
  ClientStream: method('ClientStream', true, false),
  Bidi: method('Bidi', true, true),
} satisfies grpc.ServiceDefinition

export const tlsServer = () => grpc.ServerCredentials.createSsl(null, [{ private_key: tlsOptions.key, cert_chain: tlsOptions.cert }])
export const tlsChannel = () => grpc.credentials.createSsl(ca)
/** The fixtures' certificate names localhost; the channels dial 127.0.0.1. */
export const TLS_OPTIONS: grpc.ChannelOptions = { 'grpc.ssl_target_name_override': 'localhost' }

export interface Started {
  server: grpc.Server
  port: number
}

/** A grpc-js server on 127.0.0.1 (port 0 unless given) serving TestService with `implementation`; shut down with `t`. */
export async function startServer(
  t: Teardown,
  implementation: grpc.UntypedServiceImplementation,
  { options, credentials = grpc.ServerCredentials.createInsecure(), port = 0, before }: { options?: grpc.ServerOptions; credentials?: grpc.ServerCredentials; port?: number; before?: (server: grpc.Server) => void } = {},
): Promise<Started> {
  const server = t.defer(new grpc.Server(options), (s) => s.forceShutdown())
  server.addService(TestService, implementation)
  before?.(server)
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, credentials, (error, p) => (error ? reject(error) : resolve(p))))
  return { server, port: bound }
}

/** A client of TestService at 127.0.0.1:`port`, closed with `t`. A channel of its own unless `options` say otherwise. */
export function startClient(t: Teardown, port: number, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions = {}): grpc.Client {
  return t.defer(new grpc.Client(`127.0.0.1:${port}`, credentials, { 'grpc.use_local_subchannel_pool': 1, ...options }), (c) => c.close())
}

export interface CallOptions {
  metadata?: grpc.Metadata
  deadline?: number
  waitForReady?: boolean
}

/** A unary call; resolves with the answer, rejects with the ServiceError. */
export function unary<T = unknown>(client: grpc.Client, request: unknown, { metadata = new grpc.Metadata(), deadline, waitForReady }: CallOptions = {}): Promise<T> {
  const m = TestService.Unary
  // grpc-js takes wait-for-ready as an option of the metadata.
  if (waitForReady !== undefined) metadata.setOptions({ ...metadata.getOptions(), waitForReady })
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, request, metadata, { deadline }, (error, value) =>
      error ? reject(error) : resolve(value as T),
    )
  })
}

/** A server-streaming call: every message, then its status. */
export function serverStream<T = unknown>(client: grpc.Client, request: unknown, options: CallOptions = {}): Promise<T[]> {
  const m = TestService.ServerStream
  const call = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, request, options.metadata ?? new grpc.Metadata(), { deadline: options.deadline })
  return collect<T>(call)
}

/** A client-streaming call sending `requests`; resolves with the answer. */
export function clientStream<T = unknown>(client: grpc.Client, requests: unknown[], options: CallOptions = {}): Promise<T> {
  const m = TestService.ClientStream
  return new Promise((resolve, reject) => {
    const call = client.makeClientStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, options.metadata ?? new grpc.Metadata(), { deadline: options.deadline }, (error, value) =>
      error ? reject(error) : resolve(value as T),
    )
    for (const r of requests) call.write(r)
    call.end()
  })
}

/** A bidi call: writes `requests`, ends, collects what comes back. */
export function bidi<T = unknown>(client: grpc.Client, requests: unknown[], options: CallOptions = {}): Promise<T[]> {
  const m = TestService.Bidi
  const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, options.metadata ?? new grpc.Metadata(), { deadline: options.deadline })
  for (const r of requests) call.write(r)
  call.end()
  return collect<T>(call)
}

function collect<T>(call: grpc.ClientReadableStream<unknown>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const got: T[] = []
    call.on('data', (d) => got.push(d as T))
    call.on('error', reject)
    call.on('status', (s) => (s.code === grpc.status.OK ? resolve(got) : undefined))
  })
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
          reject(new Error(`the socket was not bound to ${ms} ms within ${timeoutMs} ms (it holds ${getUserTimeout(socket)})`))
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
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${label}: not within ${ms} ms`)), ms)))
      return Promise.race([opened, late]).finally(() => clearTimeout(timer))
    },
  }
}
