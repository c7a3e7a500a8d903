// The upstream that goes dark, and the app's call to it. Partition mode: a
// healthy HTTP upstream, and the network between goes away just before the
// request is sent. Wedge mode: an upstream that accepts and never reads, and
// an upload that fills the buffers. Every loop is bounded in count and time.
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { getUserTimeout } from '@tcp-user-timeout/core'
import { describeBound } from './print.mjs'

const CHUNK = 64 * 1024
export const MAX_CHUNKS = 4096 // wedge: at most 256 MiB queued before giving up

/**
 * Starts the upstream for `mode`. `call()` is the app's request to it,
 * resolving with the body; `state` records the upstream socket, when the
 * upstream went dark, and (set by the app) the call's error and when it
 * came. `network`: partition mode's, from namespace.mjs.
 */
export async function startUpstream(mode, network, log) {
  const conns = new Set()
  let server
  if (mode === 'partition') {
    server = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => res.end('{"price":42}'))
    })
  } else {
    server = net.createServer({ pauseOnConnect: true }, () => {
      /* never reads: its receive buffer fills and its window closes */
    })
  }
  server.on('connection', (s) => {
    conns.add(s)
    s.on('close', () => conns.delete(s))
    s.on('error', () => {})
  })
  await listen(server)
  const port = server.address().port
  const state = { socket: null, fd: -1, inode: null, boundMs: undefined, darkAt: null, error: null, errorAt: null }
  return {
    port,
    state,
    call: () => (mode === 'partition' ? postToUpstream : uploadToUpstream)(port, state, network, log),
    close() {
      for (const s of conns) s.destroy()
      server.close()
    },
  }
}

/** What became of the upstream socket (looked at before any cleanup). */
export function socketFate(state) {
  const sock = state.socket
  const fdNow = state.fd >= 0 ? fdTarget(state.fd) : null
  const fdClosed = state.fd >= 0 && fdNow !== state.inode
  return {
    fd: state.fd,
    fdClosed,
    destroyed: sock?.destroyed ?? null,
    reclaimed: sock !== null && sock.destroyed && fdClosed,
    queued: sock && !sock.destroyed ? sock.writableLength : 0,
  }
}

/** Partition mode: connect, let the network go dark, then send the request into it. */
function postToUpstream(port, state, network, log) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ sku: 'demo-1', qty: 1 })
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/price',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    })
    req.on('error', reject)
    req.on('response', (res) => {
      let data = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (data += d))
      res.on('end', () => resolve(data))
      res.on('error', reject)
    })
    req.on('socket', (socket) =>
      whenConnected(socket, async () => {
        noteSocket(state, socket, log)
        try {
          await network.cut()
        } catch (err) {
          req.destroy(err)
          return
        }
        state.darkAt = performance.now()
        log('network: namespace loopback is down; app sends POST /price into the cut')
        req.end(body)
      }),
    )
  })
}

/** Wedge mode: upload a large body to an upstream that never reads. */
function uploadToUpstream(port, state, _network, log) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/upload',
      headers: { 'content-type': 'application/octet-stream' },
    })
    req.on('error', reject)
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve('{"uploaded":true}'))
    })
    req.on('socket', (socket) =>
      whenConnected(socket, () => {
        noteSocket(state, socket, log)
        // write() returns false as soon as Node's own buffer passes its
        // high-water mark, long before the kernel's buffers are full; so on
        // false wait for 'drain', and call it wedged when none comes in 300 ms.
        const chunk = Buffer.alloc(CHUNK, 0x61)
        const deadline = performance.now() + 5000
        let n = 0
        const fill = () => {
          while (n < MAX_CHUNKS && performance.now() < deadline) {
            n++
            if (!req.write(chunk)) {
              const onDrain = () => {
                clearTimeout(stalled)
                fill()
              }
              const stalled = setTimeout(() => {
                req.off('drain', onDrain)
                wedged()
              }, 300)
              req.once('drain', onDrain)
              return
            }
          }
          req.destroy(new Error(`the wedge did not fill the buffers after ${n} chunks`))
        }
        const wedged = () => {
          state.darkAt = performance.now()
          log(
            `wedge: buffers full after ${n} chunks (${((n * CHUNK) / 1048576).toFixed(1)} MiB), ` +
              `no 'drain' for 300 ms; the upstream reads nothing`,
          )
          // If the upstream ever read again, the upload would finish here.
          req.once('drain', () => req.end())
        }
        fill()
      }),
    )
  })
}

function whenConnected(socket, fn) {
  if (!socket.connecting && socket._handle && socket._handle.fd >= 0) queueMicrotask(fn)
  else socket.once('connect', fn)
}

function noteSocket(state, socket, log) {
  state.socket = socket
  state.fd = fdOf(socket)
  state.inode = fdTarget(state.fd)
  state.boundMs = getUserTimeout(socket)
  log(`app: upstream socket connected (fd ${state.fd}, TCP_USER_TIMEOUT ${describeBound(state.boundMs)})`)
}

export function fdOf(socket) {
  return socket?._handle?.fd ?? -1
}

/** What /proc says the fd is (`socket:[inode]`), or null when it is closed. */
function fdTarget(fd) {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`)
  } catch {
    return null
  }
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
}
