import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'
import type { AddressInfo } from 'node:net'

const fixtures = new URL('../../fixtures/', import.meta.url)
export const tlsOptions = {
  key: readFileSync(new URL('key.pem', fixtures)),
  cert: readFileSync(new URL('cert.pem', fixtures)),
}
export const ca = tlsOptions.cert

interface Closable {
  close(): unknown
  closeAllConnections?: () => void
}
const open = new Set<Closable>()

/** Listens on 127.0.0.1, port 0; the server is closed by `closeAll()`. */
export async function listen<S extends net.Server>(server: S): Promise<{ server: S; port: number; origin: string }> {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  open.add(server as unknown as Closable)
  const port = (server.address() as AddressInfo).port
  const scheme = server instanceof https.Server ? 'https' : 'http'
  return { server, port, origin: `${scheme}://127.0.0.1:${port}` }
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void

const hello: Handler = (_req, res) => res.end('ok')

export function httpServer(handler: Handler = hello) {
  return listen(http.createServer(handler))
}

export function httpsServer(handler: Handler = hello) {
  return listen(https.createServer(tlsOptions, handler))
}

/** A TCP server that accepts and holds connections (reads and discards). */
export function tcpServer() {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.resume()
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  const close = server.close.bind(server)
  return listen(Object.assign(server, {
    close(cb?: (err?: Error) => void) {
      for (const s of sockets) s.destroy()
      return close(cb)
    },
  }))
}

export function tlsServer() {
  const server = tls.createServer(tlsOptions, (socket) => {
    socket.resume()
    socket.on('error', () => {})
  })
  return listen(server)
}

export async function closeAll(): Promise<void> {
  const closing = [...open].map(
    (server) =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.()
        server.close()
        resolve()
      }),
  )
  open.clear()
  await Promise.all(closing)
}

/** Resolves with the socket once connected (TLS: once the handshake is done). */
export async function connected<S extends net.Socket>(socket: S, event = 'connect'): Promise<S> {
  await once(socket, event)
  return socket
}

/** GET over node:http(s); resolves with the body and the value the socket held when the response head arrived. */
export function get(
  url: string,
  options: https.RequestOptions & { read?: (socket: net.Socket) => number | undefined } = {},
): Promise<{ body: string; socket: net.Socket; inFlight: number | undefined }> {
  const { read, ...requestOptions } = options
  const client = url.startsWith('https:') ? https : http
  return new Promise((resolve, reject) => {
    const req = client.get(url, requestOptions, (res) => {
      const socket = res.socket
      const inFlight = read?.(socket)
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ body, socket, inFlight }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}
