import type { ClientHttp2Session, ServerHttp2Stream } from 'node:http2'
import type { Socket } from 'node:net'

/** The streams held, by tag; arrivals can be awaited. */
export declare class Holds {
  /** Holds a stream; `answer()` is called on release. False (and nothing held) when the tag is already held. */
  hold(tag: string, answer: () => void): boolean
  /** Forgets a stream that ended unreleased (reset, connection lost). */
  drop(tag: string, answer: () => void): void
  /** Answers the stream held under `tag`; false if none is. */
  release(tag: string): boolean
  has(tag: string): boolean
  readonly size: number
  tags(): string[]
  /**
   * Resolves once `count` streams are held at once; rejects (a watchdog, saying
   * how many came) after `ms` (default 10 s).
   */
  whenHeld(count: number, ms?: number): Promise<void>
  clear(): void
}

export interface HeldUpstream {
  readonly holds: Holds
  readonly port: number
  /** Destroys every session or call, then closes the server. */
  close(): Promise<void>
}

export interface Http2Upstream extends HeldUpstream {
  /** `http://host:port`, `https://` with TLS. */
  readonly origin: string
}

export interface GrpcUpstream extends HeldUpstream {
  /** `host:port` */
  readonly target: string
}

/**
 * node:http2 upstream on `host`:0 (default 127.0.0.1), h2c, or TLS with
 * `tls`. `/now` is answered at once; any other path is held under its
 * `x-tag` header until released. Answers: 200 `{"tag":...}`.
 */
export declare function startHttp2Upstream(options?: {
  tls?: { key: string | Buffer; cert: string | Buffer }
  host?: string
  onHold?: (tag: string, stream: ServerHttp2Stream) => void
}): Promise<Http2Upstream>

/**
 * @grpc/grpc-js upstream on `host`:0, insecure, serving the Hold service
 * (test/src/http2/fixtures/hold.proto): Now answers at once; Unary,
 * ServerStream and Bidi (tag of the first message) are held until released,
 * then answer `{ tag }` and end OK. `grpc`: the caller's @grpc/grpc-js.
 */
export declare function startGrpcUpstream(options: {
  // The caller's @grpc/grpc-js module, into which the service definition was loaded.
  grpc: any
  service: any
  host?: string
  onHold?: (tag: string, call: any) => void
}): Promise<GrpcUpstream>

/**
 * The socket carrying `session` (Symbol(socket), a JSStreamSocket's `.stream`); undefined once the session has closed.
 */
export declare function sessionSocket(session: ClientHttp2Session): Socket | undefined

/**
 * The sockets of a grpc-js channel's (or client's) connected subchannels (grpc-js 1.14 internals;
 * throws naming the step where they differ).
 */
export declare function grpcChannelSockets(clientOrChannel: object): Socket[]
