/**
 * Real BullMQ on the machine's Redis: unique queue names, every Queue and
 * Worker tracked so that `closeAll()` obliterates and closes them, bounded
 * waits for worker events, and a loopback upstream for jobs to call.
 */
import http from 'node:http'
import { once } from 'node:events'
import type { AddressInfo, Socket } from 'node:net'
import { Queue, Worker, type Job, type WorkerOptions } from 'bullmq'
import { getUserTimeout } from '@tcp-user-timeout/core'
import { redisConfig } from '../../helpers/services.js'

let counter = 0
/** A queue name no other test (or run) uses. */
export function uniqueQueueName(label: string): string {
  return `tut-${label}-${process.pid}-${Date.now().toString(36)}-${++counter}`
}

export interface Harness {
  queue(name: string): Queue
  /** A Worker (processor: a function, or a sandboxed processor file) on its own connections. */
  worker(name: string, processor: string | ((job: Job<any>, ...rest: any[]) => Promise<unknown>), opts?: Partial<WorkerOptions>): Worker
  /** Closes every worker, obliterates and closes every queue. Idempotent. */
  closeAll(): Promise<void>
}

export function harness(): Harness {
  const queues = new Set<Queue>()
  const workers = new Set<Worker>()
  return {
    queue(name) {
      const q = new Queue(name, { connection: redisConfig })
      queues.add(q)
      return q
    },
    worker(name, processor, opts = {}) {
      // drainDelay 1 s: an idle worker's blocking call returns quickly, so close() is prompt.
      const w = new Worker(name, processor as string, { connection: redisConfig, drainDelay: 1, ...opts })
      // A connection hiccup must not become an unhandled 'error' in the test process.
      w.on('error', () => {})
      workers.add(w)
      return w
    },
    async closeAll() {
      const ws = [...workers]
      const qs = [...queues]
      workers.clear()
      queues.clear()
      await Promise.all(ws.map((w) => w.close(true)))
      await Promise.all(
        qs.map(async (q) => {
          await q.obliterate({ force: true }).catch(() => {})
          await q.close()
        }),
      )
    },
  }
}

export interface Failure {
  job: Job | undefined
  error: Error
}

/** Resolves with the first `n` 'failed' events of `worker`; rejects after `ms`. */
export function failures(worker: Worker, n: number, ms: number): Promise<Failure[]> {
  return collect(worker, 'failed', n, ms, (job: Job | undefined, error: Error) => ({ job, error }))
}

/** Resolves with the first `n` completed jobs of `worker` (job id → return value); rejects after `ms`, or on a failure. */
export function completions(worker: Worker, n: number, ms: number): Promise<Map<string, unknown>> {
  return new Promise((resolve, reject) => {
    const done = new Map<string, unknown>()
    const timer = setTimeout(() => finish(new Error(`${done.size}/${n} jobs completed within ${ms} ms`)), ms)
    const onCompleted = (job: Job, result: unknown) => {
      done.set(job.id!, result)
      if (done.size >= n) finish()
    }
    const onFailed = (job: Job | undefined, error: Error) => finish(new Error(`job ${job?.id} failed: ${error.message}`))
    function finish(error?: Error) {
      clearTimeout(timer)
      worker.off('completed', onCompleted)
      worker.off('failed', onFailed)
      if (error) reject(error)
      else resolve(done)
    }
    worker.on('completed', onCompleted)
    worker.on('failed', onFailed)
  })
}

function collect<T, A extends unknown[]>(worker: Worker, event: 'failed', n: number, ms: number, map: (...args: A) => T): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const seen: T[] = []
    const timer = setTimeout(() => {
      worker.off(event, listener)
      reject(new Error(`${seen.length}/${n} '${event}' events within ${ms} ms`))
    }, ms)
    const listener = ((...args: A) => {
      seen.push(map(...args))
      if (seen.length < n) return
      clearTimeout(timer)
      worker.off(event, listener)
      resolve(seen)
    }) as never
    worker.on(event, listener)
  })
}

export interface Upstream {
  readonly url: string
  close(): Promise<void>
}

/** An HTTP server on 127.0.0.1:0 answering `{ ok: true }`; start it outside any scope. */
export async function startUpstream(): Promise<Upstream> {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => res.end('{"ok":true}'))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/**
 * GET `url` with node:http (the global, keep-alive agent, as an app does) and
 * read the TCP_USER_TIMEOUT of the socket carrying it while the exchange is on
 * the wire (when the response head arrives). Bounded by `ms`.
 */
export function httpReadback(url: string, ms = 5000): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const value = getUserTimeout(res.socket as Socket)
      res.resume()
      res.once('end', () => resolve(value))
    })
    req.setTimeout(ms, () => req.destroy(new Error(`no answer from ${url} within ${ms} ms`)))
    req.once('error', reject)
  })
}

/** The ioredis socket of a BullMQ client (`worker.getBackend().client` / `.blockingClient`). */
export async function redisSocket(client: Promise<unknown> | undefined): Promise<Socket> {
  if (client === undefined) throw new Error('no such client')
  const stream = ((await client) as { stream?: Socket }).stream
  if (stream === undefined) throw new Error('the client has no stream (a Cluster?)')
  return stream
}
