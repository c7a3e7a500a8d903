// Enqueues one job on the example's queue, waits for it, prints its result
// as one JSON line and exits (0: completed, 1: failed).
//
//   node producer.mjs                 a 'quote' job: the worker's 25 s bound
//   node producer.mjs quote 3         job.data.timeoutSeconds = 3: a 3 s bound (it can only tighten)
//   node producer.mjs export          an 'export' job: 300 s (the worker's seconds callback)
//
// REDIS_URL / REDIS_HOST / REDIS_PORT and QUEUE as for worker.mjs.

import { Queue, QueueEvents } from 'bullmq'
import { QUEUE, readyOrExit, redisFromEnv } from './redis.mjs'

const [name = 'quote', timeout] = process.argv.slice(2)
const WAIT_MS = Number(process.env.WAIT_MS || 60_000)
const connection = redisFromEnv()

const queue = new Queue(QUEUE, { connection })
await readyOrExit('producer', queue, connection)
// Listen from the end the queue's event stream has now, before adding. The
// default ('$': what is new once the listener's first read reaches Redis)
// can miss the end of a job the worker finished in between.
const client = await queue.getBackend().client
const [last] = await client.xrevrange(queue.keys.events, '+', '-', 'COUNT', 1)
const events = new QueueEvents(QUEUE, { connection, lastEventId: last?.[0] ?? '0-0' })
await readyOrExit('producer', events, connection)

// Job data is JSON: a number stays a number. Anything but seconds > 0 is
// ignored by the worker (and reported once on tcp-user-timeout:error).
const data = timeout === undefined ? {} : { timeoutSeconds: Number.isNaN(Number(timeout)) ? timeout : Number(timeout) }
const job = await queue.add(name, data, { attempts: 2, removeOnComplete: 100, removeOnFail: 100 })

let code = 0
try {
  const result = await job.waitUntilFinished(events, WAIT_MS)
  console.log(JSON.stringify({ id: job.id, name, data, state: 'completed', result }))
} catch (err) {
  code = 1
  console.log(JSON.stringify({ id: job.id, name, data, state: 'failed', failedReason: err.message }))
} finally {
  await events.close()
  await queue.close()
}
process.exit(code)
