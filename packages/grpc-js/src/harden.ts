import type net from 'node:net'
import type { Server } from '@grpc/grpc-js'
import { hardenServer as hardenListener, InvalidArgumentError, type HardenOptions } from '@tcp-user-timeout/core'
import { describeValue, reportOnce, resolveHardening, unwrap, wrap, type Hook } from '@tcp-user-timeout/core/adapter'
import { keepaliveTimeoutMs } from './a18.js'

/** What this reads of a grpc-js Server (1.13, 1.14): internals, checked before use. */
interface GrpcServer {
  /** Every http2 server it listens with (and each connection injector's), added once listening. */
  http2Servers: Listeners
  /** The options it was built with. */
  options?: Record<string, unknown>
}

type Listeners = Map<net.Server, unknown> & { [kHardenings]?: Set<Hardening> }

/** Applies one hardenServer call to an http2 server. */
type Hardening = (listener: net.Server) => void

// On the server's map of listeners, with a registry key: every evaluation
// of this package sees (and its `set` hook applies) the hardenings of all.
const kHardenings = Symbol.for('tcp-user-timeout.grpc.hardenings')

/**
 * The core's hardenServer for a grpc-js Server: every socket it accepts gets
 * keep-alive probes and a TCP_USER_TIMEOUT, set on each of its listeners
 * (those bound already and those bound later), as gRPC A18 asks of a
 * server. Where the server was built with `grpc.keepalive_time_ms`, the
 * user timeout defaults to its `grpc.keepalive_timeout_ms` (20 s when not
 * given), else to the core's (the probes' idle + interval * count).
 * Returns an undo: listeners go back to the system defaults.
 */
export function hardenServer(server: Server, options: HardenOptions = {}): () => void {
  const grpcServer = server as unknown as GrpcServer
  if (server === null || typeof server !== 'object' || !(grpcServer.http2Servers instanceof Map)) {
    throw new InvalidArgumentError(
      `hardenServer() of @tcp-user-timeout/grpc-js takes a @grpc/grpc-js ` +
        `Server (1.13 or later), received ${describeValue(server)}; for a net, ` +
        `http or https server use hardenServer of @tcp-user-timeout/core`,
    )
  }
  const resolved = withA18Default(grpcServer, options)
  // Checked now, in the core's words, though there may be no listener yet.
  resolveHardening(resolved)
  const undos: (() => void)[] = []
  const report = reportOnce()
  const hardening: Hardening = (listener) => {
    try {
      undos.push(hardenListener(listener, resolved))
    } catch (error) {
      report(error as Error)
    }
  }
  for (const listener of grpcServer.http2Servers.keys()) hardening(listener)
  // Added to the map as soon as it listens, before it can accept anything
  // (Node emits 'listening' before it polls for connections), and when a
  // connection injector is made: hooked there, no listener is missed,
  // whenever bindAsync is called.
  const hardenings = (grpcServer.http2Servers[kHardenings] ??= new Set())
  hardenings.add(hardening)
  wrap(grpcServer.http2Servers, 'set', onListening, 'value', true)
  let undone = false
  return () => {
    if (undone) return
    undone = true
    hardenings.delete(hardening)
    if (hardenings.size === 0) unwrap(grpcServer.http2Servers, 'set')
    for (const undo of undos.splice(0)) undo()
  }
}

/** A18: a server with keepalive enabled has its keepalive timeout as user timeout, unless one is given. */
function withA18Default(server: GrpcServer, options: HardenOptions): HardenOptions {
  if (options === null || typeof options !== 'object' || options.userTimeoutSeconds !== undefined) return options
  const ms = keepaliveTimeoutMs(server.options)
  return ms === undefined ? options : { ...options, userTimeoutSeconds: ms / 1000 }
}

/** `http2Servers.set(listener, ...)`: each hardening applied to a listener it has not seen. */
const onListening: Hook = (original, map: Listeners, args) => {
  const listener = args[0] as net.Server
  const known = map.has(listener)
  const result = Reflect.apply(original, map, args) as unknown
  if (!known) for (const hardening of map[kHardenings] ?? []) hardening(listener)
  return result
}
