import http from 'node:http'
import type { Barrier } from './barrier.js'
import { listen, type Served } from './listen.js'
import type { Teardown } from './teardown.js'

export type UpstreamHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void

/** Reads the whole request, then answers `{ path }` as JSON. */
export const answerJson: UpstreamHandler = (req, res) => {
  req.resume()
  req.on('end', () => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ path: req.url }))
  })
}

/** An upstream HTTP server standing in for an API the handler calls. */
export function startUpstream(t: Teardown, handler: UpstreamHandler = answerJson): Promise<Served<http.Server>> {
  return listen(t, http.createServer(handler))
}

/**
 * Answers in `count` chunks, each written once the previous one has been
 * handed to the kernel, so the client usually sees several 'data' events.
 */
export function chunked(count: number): UpstreamHandler {
  return (req, res) => {
    req.resume()
    let written = 0
    const next = (): void => {
      if (written === count) {
        res.end()
        return
      }
      written++
      res.write(`chunk ${written};`, next)
    }
    next()
  }
}

/**
 * Holds every request until `barrier` is complete, so that all the
 * exchanges counted by it are in flight at once; then answers them all.
 * A broken barrier answers 503 instead of hanging the test.
 */
export function holding(barrier: Barrier, handler: UpstreamHandler = answerJson): UpstreamHandler {
  return (req, res) => {
    barrier.arrive().then(
      () => handler(req, res),
      (error: Error) => {
        res.statusCode = 503
        res.end(error.message)
      },
    )
  }
}

/**
 * Answers after a delay that varies with the arrival order, so responses,
 * and the pooled sockets they free, interleave across requests.
 */
export function shuffling(handler: UpstreamHandler = answerJson): UpstreamHandler {
  let n = 0
  return (req, res) => {
    const delay = (n++ * 7) % 5
    setTimeout(() => handler(req, res), delay)
  }
}
