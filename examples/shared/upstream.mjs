// Scaffolding shared by the framework examples, so that each server.mjs
// shows only its framework: a stand-in upstream, the outbound call, and a
// clean shutdown. Nothing here is part of the library's API.

import http from 'node:http'

/**
 * A stand-in for the API, database or cache a real service calls, unless
 * UPSTREAM_URL names a real one. Started before any request, so its sockets
 * are boot sockets: no request scope touches them.
 */
export async function upstreamFromEnv() {
  if (process.env.UPSTREAM_URL) return { url: process.env.UPSTREAM_URL, close() {} }
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ path: req.url, price: 42 }))
    })
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close() {
      server.closeAllConnections()
      server.close()
    },
  }
}

/** GET (or POST `body` as JSON) `path` on the upstream, giving up after `timeoutMs`; resolves with its JSON. */
export async function callUpstream(baseUrl, path, body, timeoutMs) {
  const response = await fetch(new URL(path, baseUrl), {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    // TCP_USER_TIMEOUT only sees data left unacknowledged. An upstream whose
    // kernel ACKs but whose process never answers needs an application
    // timeout as well; the request's budget is a natural length for it
    // (the examples pass currentTimeout()).
    signal: AbortSignal.timeout(timeoutMs),
  })
  if (!response.ok)
    throw Object.assign(new Error(`upstream answered ${response.status}`), { code: `HTTP_${response.status}` })
  return response.json()
}

/** The status and code to answer when the upstream call failed (ETIMEDOUT: the kernel gave up on it). */
export function failure(err) {
  const code = err.cause?.code ?? err.code ?? err.name
  return { status: code === 'TimeoutError' ? 504 : 502, code }
}

/** Stops an HTTP server taking connections, lets requests in flight finish, then closes the upstream client. */
export function closeHttp(server, upstream) {
  return new Promise((resolve) => {
    server.close(() => {
      upstream.close()
      resolve()
    })
    server.closeIdleConnections()
  })
}

/**
 * On SIGTERM/SIGINT: `close()` (stop taking connections, finish those in flight),
 * then exit; a second signal or 10 s force it.
 */
export function exitOnSignals(name, close) {
  let stopping = false
  const shutdown = async (signal) => {
    if (stopping) process.exit(1)
    stopping = true
    console.log(`${name} example: ${signal}, shutting down`)
    setTimeout(() => process.exit(1), 10_000).unref()
    await close()
    process.exit(0)
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
}
