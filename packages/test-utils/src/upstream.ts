import { once } from 'node:events'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Barrier } from './barrier.js'
import type { Teardown } from './teardown.js'

export interface Served {
  readonly origin: string
  readonly port: number
  close(): Promise<void>
}

/**
 * Listens on 127.0.0.1, port 0. `close` ends every connection first: a
 * keep-alive client pool would otherwise hold the server open.
 */
export async function serve(server: http.Server): Promise<Served> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void

/** Reads the whole request, then answers `{ path }` as JSON. */
export const answerJson: UpstreamHandler = (req, res) => {
  req.resume()
  req.on('end', () => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ path: req.url }))
  })
}

/** An upstream HTTP server standing in for an API the handler calls. */
export async function startUpstream(t: Teardown, handler: UpstreamHandler = answerJson): Promise<Served> {
  return t.defer(await serve(http.createServer(handler)), (s) => s.close())
}

/**
 * Answers in `count` chunks, each written once the previous one has been
 * handed to the kernel, so the client usually sees several 'data' events.
 */
export function chunked(count: number): UpstreamHandler {
  return (req, res) => {
    req.resume()
    let written = 0
    const next = (): void => {
      if (written === count) {
        res.end()
        return
      }
      written++
      res.write(`chunk ${written};`, next)
    }
    next()
  }
}

/**
 * Holds every request until `barrier` is complete, so that all the
 * exchanges counted by it are in flight at once; then answers them all.
 * A broken barrier answers 503 instead of hanging the test.
 */
export function holding(barrier: Barrier, handler: UpstreamHandler = answerJson): UpstreamHandler {
  return (req, res) => {
    barrier.arrive().then(
      () => handler(req, res),
      (error: Error) => {
        res.statusCode = 503
        res.end(error.message)
      },
    )
  }
}

/**
 * Answers after a delay that varies with the arrival order, so responses,
 * and the pooled sockets they free, interleave across requests.
 */
export function shuffling(handler: UpstreamHandler = answerJson): UpstreamHandler {
  let n = 0
  return (req, res) => {
    const delay = (n++ * 7) % 5
    setTimeout(() => handler(req, res), delay)
  }
}

/** A TCP server that accepts and holds connections, reading and discarding. */
export async function startTcpSink(t: Teardown): Promise<{ port: number }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.resume()
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.defer(server, (s) => {
    for (const socket of sockets) socket.destroy()
    return new Promise<void>((resolve) => s.close(() => resolve()))
  })
  return { port: (server.address() as AddressInfo).port }
}
