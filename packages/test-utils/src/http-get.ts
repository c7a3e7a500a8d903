import http from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import { getUserTimeout } from '@tcp-user-timeout/core'

export interface Exchange {
  /** TCP_USER_TIMEOUT read with getsockopt while the exchange was on the wire. */
  inFlight: number | undefined
  socket: Socket
  status: number
  body: string
}

export interface GetOptions extends https.RequestOptions {
  /** Sees each chunk in the response's 'data' callback. */
  onData?: (chunk: string) => void
}

/**
 * GET over node:http(s), by the URL's scheme. The value is read when the
 * response head arrives: the exchange is still in flight, and a pooled
 * socket is not yet free to carry the next request.
 */
export function httpGet(url: string, options: GetOptions = {}): Promise<Exchange> {
  const { onData, ...requestOptions } = options
  const client = url.startsWith('https:') ? https : http
  return new Promise((resolve, reject) => {
    const req = client.get(url, requestOptions, (res) => {
      const socket = res.socket
      const inFlight = getUserTimeout(socket)
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
        onData?.(chunk)
      })
      res.on('end', () => resolve({ inFlight, socket, status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}
