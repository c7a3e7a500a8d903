// An ESM app that uses only the core (no Express, so no CommonJS dependency
// needing a real require): its ESM bundle gets no createRequire banner.
import net from 'node:net'
import { getUserTimeout, support, withTimeout } from '@tcp-user-timeout/core'
import { SECONDS } from './scenario.mjs'

const upstream = net.createServer((s) => s.on('error', () => {}).resume())
await new Promise((resolve, reject) => upstream.listen(0, '127.0.0.1', resolve).once('error', reject))
const socket = withTimeout(SECONDS, () => net.connect(upstream.address().port, '127.0.0.1'))
try {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timed out')), 5_000)
    socket.once('connect', () => resolve(clearTimeout(timer))).once('error', reject)
  })
  process.stdout.write(
    `RESULT ${JSON.stringify({ status: 200, body: { ms: getUserTimeout(socket) ?? null }, support: support() })}\n`,
  )
} finally {
  socket.destroy()
  await new Promise((resolve) => upstream.close(resolve))
}
