// Holds N idle connections to the server and answers every PING with a PONG;
// it never closes anything itself, so after the cut every connection is a
// ghost the server has to find.
// Usage: node client.mjs <port> <n>
// JSON lines: events on stdout, commands on stdin ({ cmd: 'mark' }).
import net from 'node:net'
import { createInterface } from 'node:readline'

const [portArg, nArg] = process.argv.slice(2)
const port = Number(portArg)
const n = Number(nArg)
// Enough in flight to connect 10,000 in a few seconds, few enough that the
// listen backlog (4096 in a fresh namespace) never overflows into SYN retries.
const CONCURRENCY = 256
const CONNECT_TIMEOUT_MS = 10_000

const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`)
const PONG = Buffer.from('p')
const sockets = []
const errorCodes = {}
let failed = 0

function connectOne() {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' })
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), CONNECT_TIMEOUT_MS)
    socket.on('error', (error) => {
      errorCodes[error.code ?? error.message] = (errorCodes[error.code ?? error.message] ?? 0) + 1
    })
    // A chunk may hold several PINGs; one PONG proves the peer alive for all.
    socket.on('data', () => socket.write(PONG))
    let connected = false
    socket.once('connect', () => {
      connected = true
      clearTimeout(timer)
      sockets.push(socket)
      resolve()
    })
    socket.once('close', () => {
      clearTimeout(timer)
      if (!connected) {
        failed++
        resolve()
      }
    })
  })
}

let next = 0
async function worker() {
  while (next < n) {
    next++
    await connectOne()
  }
}
const started = performance.now()
await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, worker))
emit({ event: 'connected', count: sockets.length, failed, ms: Math.round(performance.now() - started), errorCodes })

createInterface({ input: process.stdin }).on('line', (line) => {
  const msg = JSON.parse(line)
  if (msg.cmd === 'mark') emit({ event: 'mark', cpu: process.cpuUsage(), errorCodes })
})
process.stdin.on('end', () => process.exit(0))
