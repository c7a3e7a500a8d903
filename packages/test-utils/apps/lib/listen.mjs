import { once } from 'node:events'

/**
 * Listens on 127.0.0.1 port 0. `close` ends every connection first: a
 * keep-alive client would otherwise hold the server open.
 */
export async function listen(server) {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
