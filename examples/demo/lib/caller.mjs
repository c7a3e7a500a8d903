// The app's caller: GET /quote on a connection of its own, waiting at most
// `capS` seconds (then the request counts as hanging and is cut off).
import http from 'node:http'
import { performance } from 'node:perf_hooks'

/**
 * Resolves with { status, statusText, body } | { callerError } | { hanging }, each with
 * `at` (performance.now()), and the request.
 */
export async function callApp(port, capS, log) {
  let req = null
  const outcome = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ hanging: true, at: performance.now() }), capS * 1000)
    log(`caller: GET /quote -> app`)
    req = http.get({ host: '127.0.0.1', port, path: '/quote', agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => {
        if (body.length < 1000) body += d
      })
      res.on('end', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode, statusText: res.statusMessage, body: body.trim(), at: performance.now() })
      })
    })
    req.on('error', (err) => {
      clearTimeout(timer)
      resolve({ callerError: err.code ?? err.message, at: performance.now() })
    })
  })
  if (outcome.hanging) log(`caller: still waiting after ${capS} s: the demo cuts it off here`)
  else if (outcome.status) log(`caller: got ${outcome.status} ${outcome.statusText}`)
  else log(`caller: error ${outcome.callerError}`)
  return { outcome, req }
}
