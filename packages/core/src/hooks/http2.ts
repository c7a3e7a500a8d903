import { Duplex } from 'node:stream'
import { capture } from '../bind.js'
import { contain } from '../contain.js'
import { claimStream, type Http2StreamLike } from '../multiplexed.js'
import { subscribe, wrap } from '../patch.js'

/**
 * HTTP/2 client streams (node:http2, and so every @grpc/grpc-js channel):
 * each is claimed for the scope where `session.request()` was called, which
 * is where Node publishes `http2.client.stream.created` (22.17+, 24.1+),
 * synchronously, even for a stream queued on a session still connecting.
 * Where Node has no such channel, `ClientHttp2Session.prototype.request`
 * is wrapped instead, found on a session made over a stream that never
 * connects. The channel costs nothing until HTTP/2 is used and does not
 * load node:http2 (loading it takes tens of milliseconds).
 */
export function installHttp2(): void {
  if (streamCreatedPublishes()) subscribe('http2.client.stream.created', onStreamCreated)
  else {
    const proto = contain(clientSessionPrototype, undefined)
    if (proto !== undefined) wrap(proto, 'request', requestHook)
  }
}

export function streamCreatedPublishes(version = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  return major >= 25 || (major === 24 && minor >= 1) || (major === 22 && minor >= 17)
}

function onStreamCreated(message: unknown): void {
  const stream = (message as { stream?: Http2StreamLike }).stream
  // A pushed stream was not requested by anyone here.
  if (stream === undefined || stream.sentHeaders === undefined) return
  claimStream(stream, capture())
}

function requestHook(original: Function, session: object, args: IArguments): unknown {
  const stream = Reflect.apply(original, session, args) as Http2StreamLike
  contain(() => claimStream(stream, capture()), undefined)
  return stream
}

function clientSessionPrototype(): object | undefined {
  const http2 = process.getBuiltinModule('node:http2')
  const nowhere = new Duplex({ read() {}, write: (_chunk, _encoding, done) => done() })
  const session = http2.connect('http://localhost', { createConnection: () => nowhere })
  session.on('error', () => {})
  const proto = Object.getPrototypeOf(session) as object | null
  session.destroy()
  nowhere.destroy()
  return proto ?? undefined
}
