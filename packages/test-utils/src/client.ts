import http from 'node:http'

export interface RawResponse {
  status: number
  body: string
}

function collect(res: http.IncomingMessage, resolve: (r: RawResponse) => void, reject: (e: Error) => void): void {
  let body = ''
  res.setEncoding('utf8')
  res.on('data', (chunk: string) => (body += chunk))
  res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
  res.on('error', reject)
}

/** A GET with headers exactly as given (an array value: one header line per element), on a connection of its own. */
export function rawGet(url: string, headers: http.OutgoingHttpHeaders): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => collect(res, resolve, reject))
    req.on('error', reject)
  })
}

/**
 * POSTs with `Expect: 100-continue` and sends the body only once the server
 * has answered 100, which Node does as it hands the request to the app. The
 * body then arrives in later reads, after the app is listening for it, so
 * its 'data' and 'end' events come from the connection's own context: the
 * case where a scope is lost unless the adapter carries it into the
 * request's events. (A body sent with the headers is usually buffered
 * already and replayed from the reader's own call, which proves nothing.)
 * It is sent in two writes, so that it usually takes more than one read.
 */
export function postAfterContinue(url: string, payload: Buffer, contentType: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': contentType, 'content-length': payload.length, expect: '100-continue' },
    })
    req.on('continue', () => {
      const half = Math.floor(payload.length / 2)
      req.write(payload.subarray(0, half), () => req.end(payload.subarray(half)))
    })
    req.on('response', (res) => collect(res, resolve, reject))
    req.on('error', reject)
    req.flushHeaders()
  })
}

export function postJsonAfterContinue(url: string, json: unknown): Promise<RawResponse> {
  return postAfterContinue(url, Buffer.from(JSON.stringify(json)), 'application/json')
}
