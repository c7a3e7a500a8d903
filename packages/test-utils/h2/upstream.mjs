// Upstreams that answer only when told: a plain node:http2 server (h2c, or
// TLS when given a key and certificate) and a @grpc/grpc-js server. A test
// holds any number of streams open at once and releases them one by one, in
// the order it chooses, with no sleeps: the arrivals and the answers are
// events. Plain JavaScript (typed by index.d.ts): the namespaced children
// and the benches run under plain `node`.
//
// Every stream carries a tag (HTTP/2: the `x-tag` header; gRPC: the `tag`
// field of the request, of the first message for a bidi call), unique among
// the streams held at once. `/now` (HTTP/2) and `Now` (gRPC) are answered
// at once (a warm-up); anything else is held until `holds.release(tag)`.
// Request bodies are read (and thrown away) all along, held or not.
import { once } from 'node:events'
import http2 from 'node:http2'
import { start } from '../apps/grpc.mjs'

/** The streams held, by tag; arrivals can be awaited. */
export class Holds {
  #held = new Map()
  #waiters = new Set()

  /** Holds a stream; `answer()` is called on release. False (and nothing held) when the tag is already held. */
  hold(tag, answer) {
    if (this.#held.has(tag)) return false
    this.#held.set(tag, answer)
    for (const check of this.#waiters) check()
    return true
  }

  /** Forgets a stream that ended unreleased (reset, connection lost). */
  drop(tag, answer) {
    if (this.#held.get(tag) === answer) this.#held.delete(tag)
  }

  /** Answers the stream held under `tag`; false if none is. */
  release(tag) {
    const answer = this.#held.get(tag)
    if (answer === undefined) return false
    this.#held.delete(tag)
    answer()
    return true
  }

  has(tag) {
    return this.#held.has(tag)
  }

  get size() {
    return this.#held.size
  }

  tags() {
    return [...this.#held.keys()]
  }

  /**
   * Resolves once `count` streams are held at once. The timer is a
   * watchdog, not a wait: it turns a hang into a failure that says how many
   * came.
   */
  whenHeld(count, ms = 10_000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#held.size < count) return
        finish()
        resolve()
      }
      const timer = setTimeout(() => {
        finish()
        reject(
          new Error(
            `${this.#held.size} of ${count} streams held within ${ms} ms: ${this.tags().slice(0, 20).join(', ')}`,
          ),
        )
      }, ms)
      const finish = () => {
        clearTimeout(timer)
        this.#waiters.delete(check)
      }
      this.#waiters.add(check)
      check()
    })
  }

  clear() {
    this.#held.clear()
  }
}

/**
 * node:http2 upstream on `host`:0 (default 127.0.0.1): `createServer`, or
 * `createSecureServer(tls)` with `tls` ({ key, cert }). Every answer is 200
 * with `{"tag":...}`. `onHold(tag, stream)` sees each stream it holds.
 */
export async function startHttp2Upstream({ tls, host = '127.0.0.1', onHold } = {}) {
  const holds = new Holds()
  const server = tls ? http2.createSecureServer(tls) : http2.createServer()
  const sessions = new Set()
  server.on('session', (session) => {
    sessions.add(session)
    session.on('error', () => {})
    session.once('close', () => sessions.delete(session))
  })
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {})
    stream.resume()
    const tag = String(headers['x-tag'] ?? '')
    const answer = () => respond(stream, 200, { tag })
    if (headers[':path'] === '/now') return answer()
    if (!holds.hold(tag, answer)) return respond(stream, 409, { error: `tag ${tag} is already held` })
    stream.once('close', () => holds.drop(tag, answer))
    onHold?.(tag, stream)
  })
  server.listen(0, host)
  await once(server, 'listening')
  const { port } = server.address()
  return {
    holds,
    port,
    origin: `${tls ? 'https' : 'http'}://${host}:${port}`,
    close() {
      holds.clear()
      for (const session of sessions) session.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

function respond(stream, status, body) {
  if (stream.destroyed || stream.closed) return
  stream.respond({ ':status': status, 'content-type': 'application/json' })
  stream.end(JSON.stringify(body))
}

/**
 * @grpc/grpc-js upstream on `host`:0 (insecure), the gRPC app fixture
 * (../apps/grpc.mjs) serving `service` (the Hold service of
 * test/src/http2/fixtures/hold.proto): Now answers at once; Unary,
 * ServerStream and Bidi are held until released, then answer one `{ tag }`
 * and end OK. `grpc` is the caller's @grpc/grpc-js (its service definition
 * was loaded into it). `onHold(tag, call)` sees each call it holds.
 */
export async function startGrpcUpstream({ grpc, service, host = '127.0.0.1', onHold }) {
  const holds = new Holds()
  const hold = (call, tag, answer) => {
    if (!holds.hold(tag, answer)) {
      call.destroy?.(Object.assign(new Error(`tag ${tag} is already held`), { code: grpc.status.ALREADY_EXISTS }))
      return
    }
    // Emitted at the end of every call (grpc-js 1.14), released or not.
    call.once('cancelled', () => holds.drop(tag, answer))
    onHold?.(tag, call)
  }
  const answerStream = (call, tag) => () => {
    call.write({ tag })
    call.end()
  }
  const implementation = {
    Now: (call, callback) => callback(null, { tag: call.request.tag }),
    Unary: (call, callback) => hold(call, call.request.tag, () => callback(null, { tag: call.request.tag })),
    ServerStream: (call) => {
      call.on('error', () => {})
      hold(call, call.request.tag, answerStream(call, call.request.tag))
    },
    Bidi: (call) => {
      call.on('error', () => {})
      let first = true
      // Keeps reading: a relay streams its body after the first message.
      call.on('data', (ask) => {
        if (!first) return
        first = false
        hold(call, ask.tag, answerStream(call, ask.tag))
      })
    },
  }
  const app = await start({ grpc, service, implementation, host })
  return {
    holds,
    port: app.port,
    target: app.target,
    close() {
      holds.clear()
      return app.close()
    },
  }
}
