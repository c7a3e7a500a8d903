'use strict'
// One unit of the runner checks (a Jest file, a vitest file, one evaluation,
// one copy): every client path is used inside a scope against a server of
// its own, and the bound its socket holds is read back while the exchange is
// in flight. Runs under Jest's module registry too, so only CommonJS and
// process-wide Node modules; undici resolves from this folder (the test
// package's), evaluated afresh wherever the runner gives a fresh registry.
const dc = require('node:diagnostics_channel')
const fs = require('node:fs')
const http = require('node:http')
const net = require('node:net')
const undici = require('undici')

// No exchange may hang the unit: a stuck one is reported, not waited for.
const EXCHANGE_MS = 5_000

/**
 * @param {{ withTimeout: Function, getUserTimeout: Function, seconds: number }} use
 *   withTimeout opens the scopes, getUserTimeout reads the bounds (from two
 *   copies of the core, when the caller checks one against the other).
 * @returns {Promise<{ net, http, fetch, undici, socketListeners, errors }>} each path's
 *   bound in ms (null when it could not be read), how many 'socket' listeners
 *   an http.ClientRequest carries once created, and what went wrong.
 */
async function probe({ withTimeout, getUserTimeout, seconds }) {
  const errors = []
  const read = (path, socket) => {
    try {
      return getUserTimeout(socket) ?? null
    } catch (error) {
      errors.push(`${path}: getUserTimeout threw ${describe(error)}`)
      return null
    }
  }
  const server = http.createServer((req, res) => res.end('ok'))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  const origin = `http://127.0.0.1:${port}`

  // fetch and undici hand the socket out only on this channel; its message
  // comes after the core's own subscriber has bound the socket.
  const seen = {}
  const onSendHeaders = ({ request, socket }) => {
    if (String(request.origin) === origin) seen[request.path] = read(request.path, socket)
  }
  dc.subscribe('undici:client:sendHeaders', onSendHeaders)

  const result = { net: null, http: null, fetch: null, undici: null, socketListeners: null, errors }
  const attempt = async (path, run) => {
    try {
      await within(EXCHANGE_MS, path, withTimeout(seconds, run))
    } catch (error) {
      errors.push(`${path}: ${describe(error)}`)
    }
  }
  try {
    await attempt(
      'net',
      () =>
        new Promise((resolve, reject) => {
          try {
            const socket = net.connect(port, '127.0.0.1')
            socket.once('error', reject)
            socket.once('connect', () => {
              result.net = read('net', socket)
              socket.destroy()
              resolve()
            })
          } catch (error) {
            // A patched connect() must never throw into the application.
            reject(new Error(`net.connect threw ${describe(error)}`))
          }
        }),
    )
    await attempt(
      'http',
      () =>
        new Promise((resolve, reject) => {
          const req = http.get(`${origin}/http`)
          // Counted before adding ours: what the core's hooks leave per request.
          result.socketListeners = req.listenerCount('socket')
          let socket
          req.once('socket', (s) => (socket = s))
          req.once('error', reject)
          req.once('response', (res) => {
            // The response head is in, its body not yet read: the exchange still holds the socket.
            result.http = read('http', socket)
            res.resume().once('end', resolve).once('error', reject)
          })
        }),
    )
    await attempt('fetch', async () => {
      const res = await fetch(`${origin}/fetch`)
      await res.text()
      result.fetch = seen['/fetch'] ?? null
    })
    await attempt('undici', async () => {
      const pool = new undici.Pool(origin)
      try {
        const { body } = await pool.request({ path: '/undici', method: 'GET' })
        await body.text()
        result.undici = seen['/undici'] ?? null
      } finally {
        await pool.close()
      }
    })
  } finally {
    dc.unsubscribe('undici:client:sendHeaders', onSendHeaders)
    // Pooled keep-alive sockets (the global agent's, fetch's) would hold the server open.
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  return result
}

/** One `RESULT {json}` line: to the file a runner's caller named (runners own their workers' stdout), else stdout. */
function report(value) {
  const line = `RESULT ${JSON.stringify(value)}\n`
  if (process.env.TUT_RESULTS) fs.appendFileSync(process.env.TUT_RESULTS, line)
  else process.stdout.write(line)
}

function within(ms, what, promise) {
  let timer
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

// Not instanceof Error: under Jest an error may come from another realm.
function describe(error) {
  if (error === null || typeof error !== 'object') return String(error)
  const text = `${error.name}: ${error.message}`
  return error.cause === undefined ? text : `${text} (cause: ${describe(error.cause)})`
}

module.exports = { probe, report }
