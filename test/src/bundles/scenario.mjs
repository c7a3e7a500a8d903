// What each bundle runs (bundled into it with the app, Express and the
// adapters; only ffi-rs stays outside, in node_modules, as a native addon
// must): an Express app with the adapter, whose handler opens an outbound
// socket to a loopback upstream and answers with the bound the kernel holds
// on it. Prints one RESULT line.
import net from 'node:net'

export const SECONDS = 17
const TIMEOUT_MS = 5_000

export async function scenario({ express, tcpUserTimeout, support, getUserTimeout }) {
  const upstream = net.createServer((s) => s.on('error', () => {}).resume())
  await listen(upstream)
  const app = express()
  app.use(tcpUserTimeout({ seconds: SECONDS }))
  app.get('/call', (_req, res) => {
    const socket = net.connect(upstream.address().port, '127.0.0.1')
    socket.once('connect', () => {
      const ms = getUserTimeout(socket) ?? null
      socket.destroy()
      res.json({ ms })
    })
    socket.once('error', (error) => res.status(502).json({ error: error.message }))
  })
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject))
  try {
    const response = await fetch(`http://127.0.0.1:${server.address().port}/call`, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    const body = await response.json()
    process.stdout.write(`RESULT ${JSON.stringify({ status: response.status, body, support: support() })}\n`)
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
    await new Promise((resolve) => upstream.close(resolve))
  }
}

function listen(server) {
  return new Promise((resolve, reject) => server.listen(0, '127.0.0.1', resolve).once('error', reject))
}
