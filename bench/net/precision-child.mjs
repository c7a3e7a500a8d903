// Both ends of one loopback TCP connection, inside the namespace that
// bench/precision.mjs cuts. The client socket gets setUserTimeout(boundMs);
// on { cmd: 'write' } (sent once `lo` is down) the client writes and times
// how long the kernel takes to close it.
// Usage: node precision-child.mjs <boundMs>
// JSON lines: events on stdout, commands on stdin.
import net from 'node:net'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { getUserTimeout, setUserTimeout } from '@tcp-user-timeout/core'

const boundMs = Number(process.argv[2])
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`)

// The server end only reads: before the cut it acknowledges the ping, after
// it nothing reaches it. It never writes, so the client's timer is the only
// one running.
let serverSocket
const server = net.createServer((s) => {
  serverSocket = s
  s.on('data', () => {})
  s.on('error', () => {})
})
server.listen(0, '127.0.0.1')
await once(server, 'listening')

const client = net.connect(server.address().port, '127.0.0.1')
await once(client, 'connect')
setUserTimeout(client, boundMs)
// One acknowledged exchange first, so the connection has an RTT sample (the
// RTO starts from its 200 ms floor on loopback) like a connection in use.
client.write('ping')
while (serverSocket === undefined) await new Promise((r) => setImmediate(r))
await once(serverSocket, 'data')

let writtenAt
client.on('error', (error) => {
  const elapsedMs = performance.now() - writtenAt
  emit({ event: 'closed', elapsedMs, code: error.code ?? null, message: error.message })
})
client.on('close', () => {
  if (writtenAt === undefined) emit({ event: 'closed', elapsedMs: null, code: 'closed before the write' })
})

emit({ event: 'ready', port: server.address().port, clientPort: client.localPort, readBackMs: getUserTimeout(client) })

createInterface({ input: process.stdin }).on('line', (line) => {
  const msg = JSON.parse(line)
  if (msg.cmd === 'write') {
    // The clock starts as the first unacknowledged data is handed to the
    // kernel: the application's view of the bound. (The kernel's own count
    // starts later; precision.mjs shows where, from ss.)
    writtenAt = performance.now()
    client.write(Buffer.alloc(64, 'x'))
    emit({ event: 'write', bufferedAfterWrite: client.writableLength })
  }
})
process.stdin.on('end', () => process.exit(0))
