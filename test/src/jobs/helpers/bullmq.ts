/**
 * Real BullMQ on the machine's Redis: unique queue names, queues and workers
 * closed (and the queues obliterated) with the test that made them, and
 * bounded waits for worker events.
 */
import type { Socket } from 'node:net'
import { Queue, Worker, type Job, type WorkerOptions } from 'bullmq'
import type { Teardown } from '@tcp-user-timeout/test-utils'
import { redisConfig } from '../../helpers/services.js'

let counter = 0
/** A queue name no other test (or run) uses. */
export function uniqueQueueName(label: string): string {
  return `tut-${label}-${process.pid}-${Date.now().toString(36)}-${++counter}`
}

/** A Queue, obliterated and closed with `t` (after the workers made since: last in, first out). */
export function openQueue(t: Teardown, name: string): Queue {
  return t.defer(new Queue(name, { connection: redisConfig }), async (q) => {
    await q.obliterate({ force: true }).catch(() => {})
    await q.close()
  })
}

/** A Worker (processor: a function, or a sandboxed processor file) on its own connections, closed with `t`. */
export function startWorker(
  t: Teardown,
  name: string,
  processor: string | ((job: Job, ...rest: any[]) => Promise<unknown>),
  opts: Partial<WorkerOptions> = {},
): Worker {
  // drainDelay 1 s: an idle worker's blocking call returns quickly, so close() is prompt.
  const w = t.defer(new Worker(name, processor as string, { connection: redisConfig, drainDelay: 1, ...opts }), (v) =>
    v.close(true),
  )
  // A connection hiccup must not become an unhandled 'error' in the test process.
  w.on('error', () => {})
  return w
}

export interface Failure {
  job: Job | undefined
  error: Error
}

/** Resolves with the first `n` 'failed' events of `worker`; rejects after `ms`. */
export function failures(worker: Worker, n: number, ms: number): Promise<Failure[]> {
  return collect(worker, 'failed', n, ms, (job: Job | undefined, error: Error) => ({ job, error }))
}

/**
 * Resolves with the first `n` completed jobs of `worker` (job id → return value); rejects after `ms`, or on a failure.
 */
export function completions(worker: Worker, n: number, ms: number): Promise<Map<string, unknown>> {
  return new Promise((resolve, reject) => {
    const done = new Map<string, unknown>()
    const timer = setTimeout(() => finish(new Error(`${done.size}/${n} jobs completed within ${ms} ms`)), ms)
    const onCompleted = (job: Job, result: unknown) => {
      done.set(job.id!, result)
      if (done.size >= n) finish()
    }
    const onFailed = (job: Job | undefined, error: Error) =>
      finish(new Error(`job ${job?.id} failed: ${error.message}`))
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

function collect<T, A extends unknown[]>(
  worker: Worker,
  event: 'failed',
  n: number,
  ms: number,
  map: (...args: A) => T,
): Promise<T[]> {
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

/** The ioredis socket of a BullMQ client (`worker.getBackend().client` / `.blockingClient`). */
export async function redisSocket(client: Promise<unknown> | undefined): Promise<Socket> {
  if (client === undefined) throw new Error('no such client')
  const stream = ((await client) as { stream?: Socket }).stream
  if (stream === undefined) throw new Error('the client has no stream (a Cluster?)')
  return stream
}
