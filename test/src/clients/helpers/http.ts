/**
 * An HTTP server on 127.0.0.1:0 that reads back, while each exchange is in
 * flight, the TCP_USER_TIMEOUT of the CLIENT socket carrying it: the handler
 * finds the client's socket (same process) by its local port, reads it with
 * getsockopt, and only then answers. A pooled socket may serve another
 * exchange right after, so the value is taken while the request is held.
 *
 * Client sockets are collected from `net.client.socket` (Node 20 publishes
 * it in `net.connect`/`net.createConnection`, which http.Agent and both
 * undici copies use for plain http).
 */
import dc from 'node:diagnostics_channel'
import http from 'node:http'
import type net from 'node:net'
import { getUserTimeout } from '@tcp-user-timeout/core'
// Not the kit's main entry, which loads npm undici: fetch-bundled.test.ts uses this file.
import { listen } from '@tcp-user-timeout/test-utils/listen'
import type { Teardown } from '@tcp-user-timeout/test-utils/teardown'

export interface Exchange {
  /** The client socket that carried the exchange (undefined: not found, the server answered 500). */
  socket: net.Socket | undefined
  /** Its TCP_USER_TIMEOUT while the request was held by the server. */
  inFlight: number | undefined
}

export interface ClientSockets {
  /** The open client socket whose local port is `port` and peer port `peerPort`. */
  find(port: number | undefined, peerPort: number): net.Socket | undefined
  stop(): void
}

export function trackClientSockets(): ClientSockets {
  const sockets = new Set<net.Socket>()
  const onSocket = (message: unknown) => {
    const { socket } = message as { socket: net.Socket }
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  dc.subscribe('net.client.socket', onSocket)
  return {
    find(port, peerPort) {
      for (const s of sockets) if (s.localPort === port && s.remotePort === peerPort) return s
      return undefined
    },
    stop: () => dc.unsubscribe('net.client.socket', onSocket),
  }
}

export interface ReadBackServer {
  origin: string
  /** By request path. */
  exchanges: Map<string, Exchange>
}

/**
 * Answers `ok <path>` after reading the client socket's value; closed with
 * `t`. `locate` finds the client socket of a request that did not come
 * straight from it (through a proxy).
 */
export async function readBackServer(
  t: Teardown,
  clients: ClientSockets,
  locate?: (req: http.IncomingMessage) => net.Socket | undefined,
): Promise<ReadBackServer> {
  const exchanges = new Map<string, Exchange>()
  let port = 0
  const server = http.createServer((req, res) => {
    const socket = locate !== undefined ? locate(req) : clients.find(req.socket.remotePort, port)
    exchanges.set(req.url!, { socket, inFlight: socket ? getUserTimeout(socket) : undefined })
    res.statusCode = socket ? 200 : 500
    res.end(`ok ${req.url}`)
  })
  const listening = await listen(t, server)
  port = listening.port
  return { origin: listening.origin, exchanges }
}
