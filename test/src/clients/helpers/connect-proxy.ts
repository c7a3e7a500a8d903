/**
 * An HTTP CONNECT proxy on 127.0.0.1:0 (what undici's ProxyAgent tunnels
 * through). It remembers, for each tunnel, which client port it serves, so
 * that the target can find the client's own socket behind the tunnel.
 */
import http from 'node:http'
import net from 'node:net'
import { listen, type Teardown } from '@tcp-user-timeout/test-utils'

export interface ConnectProxy {
  origin: string
  port: number
  /** The client's local port of the tunnel whose upstream socket has local port `upstreamPort`. */
  clientPortOf(upstreamPort: number | undefined): number | undefined
}

/** Closed with `t`, its tunnels with it. */
export async function connectProxy(t: Teardown): Promise<ConnectProxy> {
  const tunnels = new Map<number, number>()
  const server = http.createServer((_req, res) => res.writeHead(405).end())
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const [host, port] = req.url!.split(':')
    const upstream = net.connect(Number(port), host, () => {
      tunnels.set(upstream.localPort!, client.remotePort!)
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length > 0) upstream.write(head)
      upstream.pipe(client).pipe(upstream)
    })
    const close = () => {
      upstream.destroy()
      client.destroy()
    }
    upstream.on('error', close)
    client.on('error', close)
  })
  const { origin, port } = await listen(t, server)
  return {
    origin,
    port,
    clientPortOf: (upstreamPort) => (upstreamPort === undefined ? undefined : tunnels.get(upstreamPort)),
  }
}
