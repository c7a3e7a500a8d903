import { readFileSync } from 'node:fs'
import type http from 'node:http'
import https from 'node:https'
import tls from 'node:tls'
import { listen, type Served, type Teardown } from '@tcp-user-timeout/test-utils'

const fixtures = new URL('../../fixtures/', import.meta.url)
/** A self-signed certificate for 127.0.0.1 (test/fixtures). */
export const tlsOptions = {
  key: readFileSync(new URL('key.pem', fixtures)),
  cert: readFileSync(new URL('cert.pem', fixtures)),
}
/** What a client trusts to reach the servers below. */
export const ca = tlsOptions.cert

const hello: http.RequestListener = (_req, res) => res.end('ok')

/** An https server on 127.0.0.1, closed with `t`. */
export function startHttpsUpstream(t: Teardown, handler: http.RequestListener = hello): Promise<Served<https.Server>> {
  return listen(t, https.createServer(tlsOptions, handler))
}

/** A TLS server on 127.0.0.1 that completes handshakes and discards what it reads; closed with `t`. */
export function startTlsSink(t: Teardown): Promise<Served<tls.Server>> {
  const server = tls.createServer(tlsOptions, (socket) => {
    socket.resume()
    socket.on('error', () => {})
  })
  return listen(t, server)
}
