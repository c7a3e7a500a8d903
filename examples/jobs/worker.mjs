// A BullMQ worker whose jobs call an upstream over fetch, with a
// kernel-enforced TCP_USER_TIMEOUT on every socket a job uses, derived from
// the job's time limit (maxExecutionSeconds, the Ruby gem's headroom rule).
//
//   node worker.mjs                                  Redis at 127.0.0.1:6379, queue "tcp-user-timeout-example"
//   REDIS_URL=redis://host:6379 QUEUE=mail node worker.mjs
//   UPSTREAM_URL=http://host:port node worker.mjs    call that upstream instead of the built-in one
//   node producer.mjs [quote|export] [timeoutSeconds]  enqueue a job and print its result
//
// See README.md next to this file.

import dc from 'node:diagnostics_channel'
import { Worker } from 'bullmq'
import { withTcpUserTimeout } from '@tcp-user-timeout/bullmq'
import { CHANNEL_ERROR, currentTimeout, support } from '@tcp-user-timeout/core'
import { callUpstream, exitOnSignals, failure, upstreamFromEnv } from '../shared/upstream.mjs'
import { QUEUE, readyOrExit, redisFromEnv } from './redis.mjs'

// A stand-in for the API a real job calls, started at boot (outside any
// job), like the worker's own Redis connections: no job's scope touches them.
const upstream = await upstreamFromEnv()
const UPSTREAM_URL = upstream.url
const connection = redisFromEnv()

// The job: one call to the upstream, answered with the bound that was in
// effect for it. A thrown error fails the attempt; BullMQ retries it as the
// producer asked (attempts).
async function quote(job) {
  const path = job.name === 'export' ? '/export' : '/price'
  try {
    // The kernel bound covers data left unacknowledged; an upstream that ACKs
    // and never answers needs an application timeout too: the same budget.
    const answer = await callUpstream(UPSTREAM_URL, path, undefined, currentTimeout() ?? 25_000)
    return { job: job.name, budgetMs: currentTimeout() ?? null, upstream: answer }
  } catch (err) {
    // ETIMEDOUT here is the kernel giving up on a dead upstream.
    const { code } = failure(err)
    throw Object.assign(new Error(`${path}: ${code}`), { code })
  }
}

const worker = new Worker(
  QUEUE,
  withTcpUserTimeout(quote, {
    // A job may run 30 s: its sockets get 25 s (max >= 10 ? max - 5 : max * 0.9),
    // leaving it time to fail cleanly and be retried.
    maxExecutionSeconds: 30,
    // 'export' jobs legitimately wait minutes on their upstream.
    seconds: (job) => (job.name === 'export' ? 300 : undefined),
    // A producer may ask for less (job.data.timeoutSeconds = 3), never for more.
    jobDataKey: 'timeoutSeconds',
  }),
  { connection, concurrency: 4 },
)
worker.on('completed', (job, result) =>
  console.log(`job ${job.id} (${job.name}) completed: budget ${result.budgetMs} ms`),
)
worker.on('failed', (job, err) => console.log(`job ${job?.id} (${job?.name}) failed: ${err.message}`))
worker.on('error', (err) => console.error(`jobs example: ${err.message}`))
// Bad job data (timeoutSeconds: "abc") never fails a job: the worker's bound
// applies, and the first such value is published here (once per processor).
dc.subscribe(CHANNEL_ERROR, ({ error }) => console.warn(`tcp-user-timeout: ${error.message}`))

await readyOrExit('jobs example', worker, connection)
const why = support().supported ? '' : ` (TCP_USER_TIMEOUT not set here: ${support().reason})`
// One line, parsed by the repository's tests: keep its shape.
console.log(
  `jobs example worker ready on queue "${QUEUE}" ` +
    `(redis ${connection.host}:${connection.port}, upstream ${UPSTREAM_URL})${why}`,
)

// Stop taking jobs, let those in flight finish, then exit.
exitOnSignals('jobs', async () => {
  await worker.close()
  upstream.close()
})
