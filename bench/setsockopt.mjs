// ns per setUserTimeout on a connected loopback socket (values alternate, so
// every call is a real setsockopt), next to getUserTimeout. Rounds alternate
// the two, and the medians are reported: the machines are shared and noisy.
import net from 'node:net'
import { once } from 'node:events'
import { getUserTimeout, setUserTimeout, support } from '@tcp-user-timeout/core'

const ROUNDS = Number(process.env.ROUNDS ?? 7)
const CALLS = Number(process.env.CALLS ?? 100_000)

if (!support().supported) {
  console.log(`skip: ${support().reason}`)
  process.exit(0)
}

const server = net.createServer((s) => s.resume()).listen(0, '127.0.0.1')
await once(server, 'listening')
const socket = net.connect(server.address().port, '127.0.0.1')
await once(socket, 'connect')

function nsPerCall(fn) {
  const start = process.hrtime.bigint()
  for (let i = 0; i < CALLS; i++) fn(i)
  return Number(process.hrtime.bigint() - start) / CALLS
}

const set = []
const get = []
for (let r = 0; r < ROUNDS; r++) {
  set.push(nsPerCall((i) => setUserTimeout(socket, 5000 + (i & 1))))
  get.push(nsPerCall(() => getUserTimeout(socket)))
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1]
const fmt = (xs) => `median ${median(xs).toFixed(0)} ns (min ${Math.min(...xs).toFixed(0)}, max ${Math.max(...xs).toFixed(0)})`
console.log(`node ${process.version}, ${ROUNDS} rounds x ${CALLS} calls`)
console.log(`setUserTimeout: ${fmt(set)}`)
console.log(`getUserTimeout: ${fmt(get)}`)
socket.destroy()
server.close()
