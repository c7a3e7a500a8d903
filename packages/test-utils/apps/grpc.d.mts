import type * as grpc from '@grpc/grpc-js'
import type { Client } from '@grpc/grpc-js'
import type { CallFixture } from './index.mjs'

export declare const adapter: CallFixture['adapter']
export declare const load: CallFixture['load']
export declare const use: CallFixture['use']
export declare const serveOne: CallFixture['serveOne']

/** A service of the four method kinds (Unary, ServerStream, ClientStream, Bidi), JSON messages, no .proto. */
export declare const TestService: {
  readonly Unary: grpc.MethodDefinition<unknown, unknown>
  readonly ServerStream: grpc.MethodDefinition<unknown, unknown>
  readonly ClientStream: grpc.MethodDefinition<unknown, unknown>
  readonly Bidi: grpc.MethodDefinition<unknown, unknown>
}

export interface GrpcApp {
  readonly server: grpc.Server
  readonly port: number
  /** `host:port` */
  readonly target: string
  /** Shuts the server down at once. */
  close(): Promise<void>
}

export interface StartOptions {
  /** The adapter's line (useAdapter('grpc', options)); a throw rejects start, with nothing listening. */
  use?: ((implementation: any) => unknown) | undefined
  implementation: grpc.UntypedServiceImplementation | object
  /** Default TestService. */
  service?: grpc.ServiceDefinition
  /** The caller's @grpc/grpc-js; default the installed one. */
  grpc?: typeof grpc
  credentials?: grpc.ServerCredentials | undefined
  options?: grpc.ServerOptions | undefined
  /** Default 127.0.0.1. */
  host?: string
  /** Default 0. */
  port?: number
  /** Runs with the server made, before it binds (hardenServer). */
  before?: ((server: grpc.Server) => void) | undefined
}

/** A server serving `implementation` (through `use`), bound to `host`:`port`. */
export declare function start(options: StartOptions): Promise<GrpcApp>

/** A client at `target` (insecure unless given), on a channel of its own unless `options` say otherwise. */
export declare function connect(
  target: string,
  credentials?: grpc.ChannelCredentials,
  options?: grpc.ChannelOptions,
): grpc.Client

export interface CallOptions {
  metadata?: grpc.Metadata | undefined
  deadline?: number | undefined
  waitForReady?: boolean | undefined
}

/** A unary call of TestService; resolves with the answer, rejects with the ServiceError. */
export declare function unary<T = unknown>(client: Client, request: unknown, options?: CallOptions): Promise<T>
/** A server-streaming call: every message, once its status is OK. */
export declare function serverStream<T = unknown>(client: Client, request: unknown, options?: CallOptions): Promise<T[]>
/** A client-streaming call sending `requests`; resolves with the answer. */
export declare function clientStream<T = unknown>(
  client: Client,
  requests: unknown[],
  options?: CallOptions,
): Promise<T>
/** A bidi call: writes `requests`, ends, collects what comes back. */
export declare function bidi<T = unknown>(client: Client, requests: unknown[], options?: CallOptions): Promise<T[]>
