// The gRPC app: a @grpc/grpc-js server whose handlers are the application,
// the adapter put in as its README shows it (`server.addService(Service,
// tcpUserTimeout(implementation, options))`), and the clients that call it.
// Typed by grpc.d.mts.
import { createRequire } from 'node:module'
import { answer } from './lib/answer.mjs'

export const adapter = {
  kind: 'call',
  package: '@tcp-user-timeout/grpc-js',
  exports: { functions: ['withUserTimeout', 'tcpUserTimeout', 'hardenServer'] },
  example: 'grpc',
  // Its import patches the application's @grpc/grpc-js (queued calls keep their caller's scope).
  sideEffects: true,
}

const require = createRequire(import.meta.url)

// A CommonJS package: require() gives the very module an import of it gives,
// and a client can be made without awaiting anything.
function installed() {
  return require('@grpc/grpc-js')
}

export async function load() {
  return installed()
}

function emptyMetadata() {
  const { Metadata } = installed()
  return new Metadata()
}

const serialize = (value) => Buffer.from(JSON.stringify(value ?? null))
const deserialize = (bytes) => JSON.parse(bytes.toString())

function method(name, requestStream, responseStream) {
  return {
    path: `/tut.Test/${name}`,
    requestStream,
    responseStream,
    // What proto-loader gives: grpc-js also looks a handler up by this name.
    originalName: name[0].toLowerCase() + name.slice(1),
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  }
}

/** A service of the four method kinds, JSON messages, no .proto. */
export const TestService = Object.freeze({
  Unary: method('Unary', false, false),
  ServerStream: method('ServerStream', false, true),
  ClientStream: method('ClientStream', true, false),
  Bidi: method('Bidi', true, true),
})

/**
 * A server on `host`:`port` (127.0.0.1:0) serving `service` with
 * `implementation`, put through `use` first: a bad adapter option throws
 * there, before anything listens. `before(server)` runs before it binds.
 */
export async function start({ use, implementation, service = TestService, grpc = installed(), ...rest }) {
  const { credentials, options, host = '127.0.0.1', port = 0, before } = rest
  const handlers = use === undefined ? implementation : await use(implementation)
  const server = new grpc.Server(options)
  try {
    server.addService(service, handlers)
    before?.(server)
    const bound = await new Promise((resolve, reject) => {
      const bindWith = credentials ?? grpc.ServerCredentials.createInsecure()
      server.bindAsync(`${host}:${port}`, bindWith, (error, p) => (error ? reject(error) : resolve(p)))
    })
    return { server, port: bound, target: `${host}:${bound}`, close: async () => server.forceShutdown() }
  } catch (error) {
    server.forceShutdown()
    throw error
  }
}

/** A client of TestService at `target`; a channel of its own unless `options` say otherwise. */
export function connect(target, credentials = installed().credentials.createInsecure(), options = {}) {
  const { Client } = installed()
  return new Client(target, credentials, { 'grpc.use_local_subchannel_pool': 1, ...options })
}

export function use(module, ...args) {
  return (implementation) => module.tcpUserTimeout(implementation, ...args)
}

/**
 * The call contract's app: TestService's Unary answering what
 * `handler(call)` returns (a promise awaited), and a client of it. `call()`
 * takes a deadline in ms from now and metadata (each value one entry).
 */
export async function serveOne({ use, handler }) {
  const unaryHandler = (call, callback) =>
    answer(
      handler,
      [call],
      (value) => callback(null, value),
      (error) => callback(error),
    )
  const app = await start({ use, implementation: { unary: unaryHandler } })
  const client = connect(app.target)
  return {
    call({ deadlineMs, metadata = {} } = {}) {
      const entries = emptyMetadata()
      for (const [key, values] of Object.entries(metadata)) for (const value of values) entries.add(key, value)
      const deadline = deadlineMs === undefined ? undefined : Date.now() + deadlineMs
      return unary(client, {}, { metadata: entries, deadline })
    },
    close() {
      client.close()
      return app.close()
    },
  }
}

/** A unary call; resolves with the answer, rejects with the ServiceError. */
export function unary(client, request, { metadata = emptyMetadata(), deadline, waitForReady } = {}) {
  const m = TestService.Unary
  // grpc-js takes wait-for-ready as an option of the metadata.
  if (waitForReady !== undefined) metadata.setOptions({ ...metadata.getOptions(), waitForReady })
  return new Promise((resolve, reject) => {
    const done = (error, value) => (error ? reject(error) : resolve(value))
    client.makeUnaryRequest(m.path, m.requestSerialize, m.responseDeserialize, request, metadata, { deadline }, done)
  })
}

/** A server-streaming call: every message, then its status. */
export function serverStream(client, request, options = {}) {
  const m = TestService.ServerStream
  const metadata = options.metadata ?? emptyMetadata()
  const call = client.makeServerStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, request, metadata, {
    deadline: options.deadline,
  })
  return collect(call)
}

/** A client-streaming call sending `requests`; resolves with the answer. */
export function clientStream(client, requests, options = {}) {
  const metadata = options.metadata ?? emptyMetadata()
  return new Promise((resolve, reject) => {
    const done = (error, value) => (error ? reject(error) : resolve(value))
    const { path, requestSerialize, responseDeserialize } = TestService.ClientStream
    const at = { deadline: options.deadline }
    const call = client.makeClientStreamRequest(path, requestSerialize, responseDeserialize, metadata, at, done)
    for (const r of requests) call.write(r)
    call.end()
  })
}

/** A bidi call: writes `requests`, ends, collects what comes back. */
export function bidi(client, requests, options = {}) {
  const m = TestService.Bidi
  const metadata = options.metadata ?? emptyMetadata()
  const { deadline } = options
  const call = client.makeBidiStreamRequest(m.path, m.requestSerialize, m.responseDeserialize, metadata, { deadline })
  for (const r of requests) call.write(r)
  call.end()
  return collect(call)
}

function collect(call) {
  return new Promise((resolve, reject) => {
    const got = []
    call.on('data', (d) => got.push(d))
    call.on('error', reject)
    call.on('status', (s) => (s.code === installed().status.OK ? resolve(got) : undefined))
  })
}
