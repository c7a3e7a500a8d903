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

/** Calls `handler(...args)` and hands its result (sync or a promise) to `send`, a throw or rejection to `fail`. */
export function answer(handler, args, send, fail) {
  let result
  try {
    result = handler(...args)
  } catch (error) {
    return fail(error)
  }
  // A synchronous result is sent synchronously: a bench's hello world pays no promise.
  if (result !== null && typeof result?.then === 'function') return result.then(send, fail)
  return send(result)
}
