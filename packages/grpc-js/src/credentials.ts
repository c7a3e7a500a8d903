import net from 'node:net'
import type { ChannelCredentials } from '@grpc/grpc-js'
import { InvalidArgumentError, setUserTimeout } from '@tcp-user-timeout/core'
import { describeValue, reportOnce } from '@tcp-user-timeout/core/adapter'
import { keepaliveTimeoutMs } from './a18.js'
import { readUserTimeoutOption } from './options.js'
import { warnIfUnpatched } from './unpatched.js'

export interface UserTimeoutOptions {
  /**
   * TCP_USER_TIMEOUT of every connection, in seconds; it wins over A18's
   * `grpc.keepalive_timeout_ms`. Default: A18's value where the channel has
   * `grpc.keepalive_time_ms`, else no pin (the connection is shared by the
   * calls of many scopes: it holds the largest bound of those in flight).
   */
  userTimeoutSeconds?: number
}

/** What grpc-js 1.13+ asks of channel credentials (channel-credentials.d.ts). */
interface Credentials {
  _isSecure(): boolean
  _equals(other: unknown): boolean
  compose(callCredentials: unknown): Credentials
  _createSecureConnector(target: unknown, options: Record<string, unknown>, callCredentials?: unknown): Connector
}

interface Connector {
  connect(socket: unknown): Promise<unknown>
  waitForReady(): Promise<void>
  getCallCredentials(): unknown
  destroy(): void
}

const kInner = Symbol('inner credentials')
const kPinMs = Symbol('pinned ms')
type Pinned = Credentials & { [kInner]: Credentials; [kPinMs]: number | undefined }
type PinnedClass = new (inner: Credentials, pinMs: number | undefined) => Pinned

/** One subclass per copy of grpc-js (per root ChannelCredentials class). */
const classes = new WeakMap<object, PinnedClass>()

/**
 * Channel credentials of the same kind (insecure, TLS, composed with call
 * credentials) whose every connection, reconnections and proxied ones
 * included, has its TCP_USER_TIMEOUT pinned as gRPC A18 says: the
 * channel's `grpc.keepalive_timeout_ms` (default 20 s) where it sets
 * `grpc.keepalive_time_ms`, or `userTimeoutSeconds` when given. A pin wins
 * over every request scope. Options are checked here; a bad one throws an
 * InvalidOptionError.
 */
export function withUserTimeout(credentials: ChannelCredentials, options?: UserTimeoutOptions): ChannelCredentials {
  const inner = channelCredentials(credentials)
  const pinMs = readUserTimeoutOption(options)
  // A second withUserTimeout replaces the first's options, never adds a layer.
  const base = kInner in inner ? (inner as Pinned)[kInner] : inner
  const Root = rootClassOf(base)
  warnIfUnpatched(Root)
  return new (pinnedClass(Root))(base, pinMs) as unknown as ChannelCredentials
}

function channelCredentials(credentials: unknown): Credentials {
  const c = credentials as (Partial<Credentials> & { _getConnectionOptions?: unknown }) | null
  const usable =
    c !== null &&
    typeof c === 'object' &&
    typeof c._isSecure === 'function' &&
    typeof c._equals === 'function' &&
    typeof c.compose === 'function'
  if (usable && typeof c._createSecureConnector === 'function') return c as Credentials
  if (usable && typeof c._getConnectionOptions === 'function') {
    throw new InvalidArgumentError(
      'withUserTimeout() needs @grpc/grpc-js 1.13 or later: these credentials ' +
        'come from an older copy (no _createSecureConnector); upgrade @grpc/grpc-js',
    )
  }
  throw new InvalidArgumentError(
    `withUserTimeout() takes @grpc/grpc-js channel credentials, such as grpc.credentials.createInsecure(), ` +
      `createSsl(...) or combineChannelCredentials(...), received ${describeValue(credentials)}`,
  )
}

/** The ChannelCredentials class of the copy of grpc-js that made `credentials`: the root of its class chain. */
function rootClassOf(credentials: object): object {
  let proto = Object.getPrototypeOf(credentials) as object | null
  if (proto === null)
    throw new InvalidArgumentError(
      'withUserTimeout() takes @grpc/grpc-js channel credentials, received an object without a class',
    )
  for (
    let parent = Object.getPrototypeOf(proto) as object | null;
    parent !== null && parent !== Object.prototype;
    parent = Object.getPrototypeOf(parent) as object | null
  ) {
    proto = parent
  }
  return (proto as { constructor: object }).constructor
}

/**
 * A subclass of that copy's own ChannelCredentials, not a wrapper object:
 * grpc-js checks `instanceof ChannelCredentials`, and keys its global
 * subchannel pool on `_equals`, which must tell pinned from unpinned
 * credentials both ways (an Object.create wrapper would equal its
 * original, and share its connections).
 */
function pinnedClass(Root: object): PinnedClass {
  let Class = classes.get(Root)
  if (Class !== undefined) return Class
  const Base = Root as new () => object
  class PinnedChannelCredentials extends Base {
    [kInner]: Credentials;
    [kPinMs]: number | undefined
    private readonly report = reportOnce()
    constructor(inner: Credentials, pinMs: number | undefined) {
      super()
      this[kInner] = inner
      this[kPinMs] = pinMs
    }
    _isSecure(): boolean {
      return this[kInner]._isSecure()
    }
    _equals(other: unknown): boolean {
      if (other === this) return true
      return (
        other instanceof PinnedChannelCredentials &&
        other[kPinMs] === this[kPinMs] &&
        this[kInner]._equals(other[kInner])
      )
    }
    // The inner credentials compose as they do (insecure ones throw), and the
    // result is pinned the same way: one shape, pinned(composed), whatever
    // is composed or wrapped first.
    compose(callCredentials: unknown): Credentials {
      return new PinnedChannelCredentials(this[kInner].compose(callCredentials), this[kPinMs])
    }
    _createSecureConnector(target: unknown, options: Record<string, unknown>, callCredentials?: unknown): Connector {
      const connector = this[kInner]._createSecureConnector(target, options, callCredentials)
      const ms = this[kPinMs] ?? keepaliveTimeoutMs(options)
      return ms === undefined ? connector : pinning(connector, ms, this.report)
    }
  }
  Class = PinnedChannelCredentials
  classes.set(Root, Class)
  return Class
}

/**
 * The connector grpc-js calls once per connection attempt with the raw TCP
 * socket, already connected (to the server, or to the proxy of a CONNECT
 * tunnel), before TLS: the pin goes on that socket, which a TLS socket
 * layered on it shares.
 */
function pinning(connector: Connector, ms: number, report: (error: Error) => void): Connector {
  return {
    connect(socket) {
      if (socket instanceof net.Socket && isTcp(socket)) {
        try {
          setUserTimeout(socket, ms)
        } catch (error) {
          // A socket closed meanwhile: grpc-js sees that itself; said once on tcp-user-timeout:error.
          report(error as Error)
        }
      }
      return connector.connect(socket)
    },
    waitForReady: () => connector.waitForReady(),
    getCallCredentials: () => connector.getCallCredentials(),
    destroy: () => connector.destroy(),
  }
}

/** A proxy reached over a unix socket (socketPath) has no TCP options. */
function isTcp(socket: net.Socket): boolean {
  return (
    (socket as net.Socket & { _handle?: { constructor?: { name?: string } } | null })._handle?.constructor?.name ===
    'TCP'
  )
}
