import net from 'node:net'
import { listen } from './listen.js'
import type { Teardown } from './teardown.js'

/** A TCP server on 127.0.0.1 that accepts and holds connections, reading and discarding; closed with `t`. */
export async function startTcpSink(t: Teardown): Promise<{ port: number }> {
  const server = net.createServer((socket) => {
    socket.resume()
    socket.on('error', () => {})
  })
  const { port } = await listen(t, server)
  return { port }
}
