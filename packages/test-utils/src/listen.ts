import { once } from 'node:events'
import https from 'node:https'
import type net from 'node:net'
import type { AddressInfo } from 'node:net'
import type { Teardown } from './teardown.js'

export interface Served<S extends net.Server = net.Server> {
  readonly server: S
  /** `http://127.0.0.1:<port>` (`https:` for an https.Server). */
  readonly origin: string
  readonly port: number
  /** Ends every connection, then closes the server. */
  close(): Promise<void>
}

/**
 * Listens on 127.0.0.1, port 0. `close` destroys every connection first: a
 * server closes only once its connections have, and a keep-alive pool or a
 * socket a failed test left open would hold it. For a server whose owner
 * closes it itself (a harness's app); a test listens with `listen(t, server)`.
 */
export async function serve<S extends net.Server>(server: S): Promise<Served<S>> {
  const connections = new Set<net.Socket>()
  server.on('connection', (socket: net.Socket) => {
    connections.add(socket)
    socket.once('close', () => connections.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  const scheme = server instanceof https.Server ? 'https' : 'http'
  return {
    server,
    origin: `${scheme}://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of connections) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** `serve`, closed with the test (or suite) that owns `t`. */
export async function listen<S extends net.Server>(t: Teardown, server: S): Promise<Served<S>> {
  return t.defer(await serve(server), (s) => s.close())
}
