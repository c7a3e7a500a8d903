// An upstream that stalls, on your own machine, without root: point your
// app's upstream at it and watch the kernel close the app's socket with a
// real ETIMEDOUT once the bound passes. One file, Node's own modules only:
// copy it anywhere and run it with `node stall.mjs`.
//
//   node stall.mjs               accepts every connection and never reads it. A request that sends
//                                more than ~128 KiB (upload 1 MB to be sure) fills this end's receive
//                                window; the rest stays unacknowledged, and TCP_USER_TIMEOUT closes
//                                the socket (measured: bound 2 s, ETIMEDOUT after 2.3 to 2.5 s).
//   node stall.mjs --drop-syns   never completes a handshake (a stopped listener whose accept queue
//                                is full: the kernel drops every SYN, as for a host that is gone). Any
//                                request on a new connection, a GET too (measured: 2 s, 2.07 s).
//   --port=9999 (or PORT=9999; 0: any free port)  --host=127.0.0.1 (or HOST)
//
// Without the bound the same request hangs: the upload for ever (this end's kernel answers every
// window probe; only the HTTP client's own timeout ends it), the handshake for ~130 s of SYN retries
// (fetch: its 10 s connect timeout).
import { spawn } from 'node:child_process'
import net from 'node:net'

const arg = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
const host = arg('host') ?? process.env.HOST ?? '127.0.0.1'
const port = Number(arg('port') ?? process.env.PORT ?? 9999)
const dropSyns = process.argv.includes('--drop-syns')
const time = () => new Date().toISOString().slice(11, 23)

const where = dropSyns ? await blackHole() : await neverRead()
const call = dropSyns ? 'any call on a new connection (a GET too)' : 'one that sends 1 MB or more (a POST, an upload)'
const url = `http://${where.host.includes(':') ? `[${where.host}]` : where.host}:${where.port}`
console.log(`stall: listening on ${where.host}:${where.port} (${dropSyns ? 'drops every SYN' : 'accepts, never reads'})

  1. Point your app's upstream at it:  UPSTREAM_URL=${url}  (the quick starts read UPSTREAM_URL)
  2. Load the check lines in your app: node --import ./check.mjs app.mjs
     (check.mjs: examples/observability/check.mjs, or the README's "Check that it works")
  3. Make a request, on a route the middleware covers, whose handler calls the upstream:
     ${call}

  Within the budget + ~0.5 s your app's call fails with ETIMEDOUT, and the check lines print
    tcp-user-timeout: {"type":"timeout","ms":<budget ms>,"direction":"outbound","peer":"${where.host}:${where.port}",\
"code":"ETIMEDOUT"}
  and, at exit, "timedOut":1 in stats(). Ctrl-C stops this server.
`)

/** A server that accepts every connection and never reads it: its receive window fills, then stays shut. */
async function neverRead() {
  const server = net.createServer({ pauseOnConnect: true }, (socket) => {
    socket.on('error', () => {})
    console.log(`stall: ${time()} accepted ${socket.remoteAddress}:${socket.remotePort}; not reading it`)
  })
  await listening(server.listen({ host, port }))
  return { host, port: server.address().port }
}

/**
 * A listener that never accepts: a child process listens with backlog 1 and
 * is stopped (SIGSTOP); two connections fill its accept queue, after which
 * Linux drops every new SYN. The child dies with this process.
 */
async function blackHole() {
  const script = `require('node:net')
    .createServer()
    .listen({ host: ${JSON.stringify(host)}, port: ${port}, backlog: 1 }, function () {
      console.log(this.address().port)
    })`
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
  process.on('exit', () => child.kill('SIGKILL'))
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => process.exit(0))
  child.once('exit', (code) => {
    console.error(`stall: the listener exited (${code}); is ${host}:${port} in use?`)
    process.exit(1)
  })
  const line = await new Promise((resolve) => child.stdout.once('data', resolve))
  const bound = Number(String(line).trim())
  child.kill('SIGSTOP')
  for (let i = 0; i < 2; i++) {
    await new Promise((resolve, reject) => net.connect(bound, host, resolve).once('error', reject))
  }
  return { host, port: bound }
}

function listening(server) {
  return new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject))
}
