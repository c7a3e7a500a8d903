// The upstream of the memory bench: a plain node:http hello server in its own
// process, so its sockets and heap stay out of the measured server's figures.
import http from 'node:http'
import { serveCommands } from './children.mjs'

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain')
  res.end('hello world')
})
// Node closes a keep-alive connection idle for 5 s by default; the pause of a
// checkpoint (two full GCs) must not make the pool reconnect, or the
// setsockopt count would grow with checkpoints instead of staying at the pool size.
server.keepAliveTimeout = 10 * 60_000
server.listen(0, '127.0.0.1', () => {
  const send = serveCommands({})
  send({ event: 'listening', port: server.address().port, pid: process.pid })
})
