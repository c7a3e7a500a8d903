/**
 * @tcp-user-timeout/bullmq against a real BullMQ Queue + Worker on the
 * machine's Redis and the real kernel: a job's sockets read back
 * headroom(maxExecutionSeconds); job data can only tighten that, and bad job
 * data is reported once and never fails a job; a job whose upstream stops
 * taking data (the write-side wedge) fails with ETIMEDOUT within the bound
 * and is retried as configured; BullMQ's own Redis connections (boot sockets)
 * stay unbound; configuration errors are coded and name the fix.
 *
 * Every queue name is unique; every worker, queue, client and server is
 * closed; every wait is bounded.
 */
import dc from 'node:diagnostics_channel'
import { once } from 'node:events'
import net, { type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type http from 'node:http'
import { beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import type { Job } from 'bullmq'
import {
  CHANNEL_ERROR,
  currentTimeout,
  getUserTimeout,
  headroom,
  setGlobalDefault,
  support,
  type ErrorMessage,
} from '@tcp-user-timeout/core'
import { withTcpUserTimeout } from '@tcp-user-timeout/bullmq'
import { REDIS, redisConfig, skipWithout } from '../helpers/services.js'
import {
  httpGet,
  perSuite,
  perTest,
  startUpstream,
  trackUndiciExchanges,
  type Served,
  type Teardown,
} from '@tcp-user-timeout/test-utils'
import { startWedgeServer } from '../helpers/wedge.js'
import { completions, failures, openQueue, redisSocket, startWorker, uniqueQueueName } from './helpers/bullmq.js'
import { postIntoWedge, type WedgedPost } from './helpers/wedge-post.js'

const skip = await skipWithout('bullmq', REDIS)

/** What a job's sockets get, computed with the core's own rule (never hard-coded). */
const boundMs = (maxExecutionSeconds: number) => Math.round(headroom(maxExecutionSeconds) * 1000)

/** Collects, until `t` ends, what is published on tcp-user-timeout:error for a request-time value (socket null). */
function watchReports(t: Teardown): ErrorMessage[] {
  const reports: ErrorMessage[] = []
  const listener = (m: unknown) => {
    if ((m as ErrorMessage).socket === null) reports.push(m as ErrorMessage)
  }
  dc.subscribe(CHANNEL_ERROR, listener)
  t.add(() => dc.unsubscribe(CHANNEL_ERROR, listener))
  return reports
}

/**
 * TCP_USER_TIMEOUT of the socket carrying a GET (node:http, the global keep-alive
 * agent, as an app does), read while in flight.
 */
const httpReadback = async (url: string) => (await httpGet(url)).inFlight

describe('configuration errors are coded and name the fix (no Redis needed)', () => {
  const job = async () => 'ok'
  const cases: [string, unknown, RegExp][] = [
    ['no options', undefined, /takes an options object such as \{ maxExecutionSeconds: 30 \}/],
    ['no bound', {}, /needs a budget: .*\{ maxExecutionSeconds: 30 \}; job data can only tighten it/],
    ['only a job-data key', { jobDataKey: 'timeoutSeconds' }, /needs a budget/],
    [
      'a typo',
      { maxExecutionSecond: 30 },
      /unknown option "maxExecutionSecond"; the options are maxExecutionSeconds, seconds, jobDataKey, minSeconds, exemptHosts/,
    ],
    [
      'a string max',
      { maxExecutionSeconds: '30' },
      /maxExecutionSeconds must be .* received "30"; e\.g\. \{ maxExecutionSeconds: 30 \}/,
    ],
    ['zero', { maxExecutionSeconds: 0 }, /maxExecutionSeconds must be .*finite number > 0.*received 0/],
    ['NaN', { maxExecutionSeconds: NaN }, /received NaN/],
    ['Infinity', { maxExecutionSeconds: Infinity }, /received Infinity/],
    ['too large for the kernel', { maxExecutionSeconds: 1e10 }, /at most 2147488\.647/],
    ['both', { maxExecutionSeconds: 30, seconds: 25 }, /give seconds or maxExecutionSeconds, not both/],
    [
      'a bad seconds',
      { seconds: -1 },
      /withTcpUserTimeout\(\): seconds must be a finite number of seconds > 0, received -1/,
    ],
    ['a string seconds', { seconds: '25' }, /must be a number of seconds, received "25" \(or a callback \(job\) =>/],
    [
      'an empty key',
      { maxExecutionSeconds: 30, jobDataKey: '' },
      /jobDataKey must be the name of a key of job\.data.*e\.g\. \{ jobDataKey: 'timeoutSeconds' \}/,
    ],
    ['a numeric key', { maxExecutionSeconds: 30, jobDataKey: 3 }, /jobDataKey must be/],
    [
      'a bad floor',
      { maxExecutionSeconds: 30, minSeconds: 0 },
      /withTcpUserTimeout\(\): minSeconds must be a finite number of seconds > 0/,
    ],
    ['bad exempt hosts', { maxExecutionSeconds: 30, exemptHosts: 'redis' }, /exemptHosts must be an array/],
  ]
  it.each(cases)('%s → TUT_ERR_INVALID_OPTION', (_label, options, message) => {
    let error: unknown
    try {
      withTcpUserTimeout(job, options as never)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TypeError)
    expect(error).toMatchObject({ code: 'TUT_ERR_INVALID_OPTION', name: 'InvalidOptionError' })
    expect((error as Error).message).toMatch(message)
  })

  it('a sandboxed processor path is refused with the way to do it (TUT_ERR_INVALID_ARG)', () => {
    expect(() => withTcpUserTimeout('./processor.js' as never, { maxExecutionSeconds: 30 })).toThrow(
      expect.objectContaining({
        code: 'TUT_ERR_INVALID_ARG',
        message: expect.stringMatching(/sandboxed processor .* wrap the function that file exports/),
      }),
    )
  })

  it("the wrapper keeps the processor's arity (BullMQ passes an AbortSignal to a processor of 3 parameters) and `this`", () => {
    expect(withTcpUserTimeout(async (_job: unknown) => 1, { maxExecutionSeconds: 30 }).length).toBe(1)
    expect(
      withTcpUserTimeout(async (_job: unknown, _token?: string, _signal?: AbortSignal) => 1, {
        maxExecutionSeconds: 30,
      }).length,
    ).toBe(3)
    const wrapped = withTcpUserTimeout(
      function (this: unknown, _job: unknown) {
        return this
      },
      { seconds: 5 },
    )
    const self = {}
    expect(wrapped.call(self, {})).toBe(self)
  })
})

describe('per-job budgets, without a worker (values JSON cannot carry, a callback)', () => {
  const inside = async (_job: { id?: string; name?: string; data?: unknown } | undefined) => currentTimeout()

  it('NaN, ±Infinity, a throwing getter, data that is not an object: the configured bound, one report, no throw', async (ctx) => {
    const reports = watchReports(perTest(ctx))
    const run = withTcpUserTimeout(inside, { maxExecutionSeconds: 30, jobDataKey: 'timeoutSeconds' })
    const configured = boundMs(30)
    expect(await run({ id: '1', data: { timeoutSeconds: 3 } })).toBe(3000)
    expect(await run({ id: '2', data: {} })).toBe(configured)
    expect(await run({ id: '3', data: null })).toBe(configured)
    expect(await run({ id: '4', data: 'a string' })).toBe(configured)
    expect(await run(undefined)).toBe(configured)
    expect(await run({ id: '5', data: { timeoutSeconds: null } })).toBe(configured)
    expect(reports).toHaveLength(0) // nothing given is not garbage
    const throwing = {
      get timeoutSeconds(): number {
        throw new Error('boom')
      },
    }
    for (const [i, data] of [
      { timeoutSeconds: NaN },
      { timeoutSeconds: Infinity },
      { timeoutSeconds: -Infinity },
      throwing,
    ].entries()) {
      expect(await run({ id: `bad-${i}`, name: 'fetch', data })).toBe(configured)
    }
    expect(reports).toHaveLength(1)
    expect(reports[0].error).toMatchObject({ code: 'TUT_ERR_INVALID_ARG' })
    expect(reports[0].error.message).toMatch(
      /job bad-0 \("fetch"\) has data\.timeoutSeconds that is not a budget: it is NaN; it must be a number of seconds > 0/,
    )
    // Inherited keys never match: `constructor` is not the job's own data.
    const proto = withTcpUserTimeout(inside, { maxExecutionSeconds: 30, jobDataKey: 'constructor' })
    expect(await proto({ data: {} })).toBe(configured)
    expect(reports).toHaveLength(1)
  })

  it('a seconds callback chooses per job (undefined → headroom(max), false → no bound); its garbage → the default, one report', async (ctx) => {
    const reports = watchReports(perTest(ctx))
    const run = withTcpUserTimeout(inside, {
      maxExecutionSeconds: 30,
      jobDataKey: 'timeoutSeconds',
      seconds: (job) =>
        job === undefined
          ? undefined
          : job.name === 'export'
            ? 300
            : job.name === 'stream'
              ? false
              : job.name === 'bad'
                ? ('5' as never)
                : undefined,
    })
    expect(await run({ name: 'export', data: {} })).toBe(300_000)
    expect(await run({ name: 'export', data: { timeoutSeconds: 10 } })).toBe(10_000)
    expect(await run({ name: 'mail', data: {} })).toBe(boundMs(30))
    expect(await run({ name: 'stream', data: { timeoutSeconds: 3 } })).toBeUndefined() // job data never adds a bound
    expect(await run({ name: 'bad', data: {} })).toBe(boundMs(30))
    expect(await run({ name: 'bad', data: {} })).toBe(boundMs(30))
    expect(reports).toHaveLength(1)
    expect(reports[0].error.message).toMatch(/seconds callback returned "5"/)
  })
})

describe.skipIf(skip)('BullMQ worker on Redis (real kernel)', () => {
  const suite = perSuite()
  let upstream: Served<http.Server>

  beforeAll(async () => {
    // Boot: outside any scope, as an application starts its upstream pools.
    upstream = await startUpstream(suite)
  })

  it("a job's HTTP exchanges (node:http and fetch) read back headroom(maxExecutionSeconds) ms; the processor still gets its AbortSignal", async (ctx) => {
    const t = perTest(ctx)
    const MAX = 30
    const name = uniqueQueueName('readback')
    const queue = openQueue(t, name)
    const exchanges = t.defer(trackUndiciExchanges(), (x) => x.stop())
    const worker = startWorker(
      t,
      name,
      withTcpUserTimeout(
        async (job: Job<{ n: number }>, _token?: string, signal?: AbortSignal) => {
          const viaHttp = await httpReadback(`${upstream.origin}/http-${job.id}`)
          const res = await fetch(`${upstream.origin}/fetch-${job.id}`, { signal: AbortSignal.timeout(5000) })
          await res.text()
          return { currentTimeout: currentTimeout(), viaHttp, hasSignal: signal instanceof AbortSignal }
        },
        { maxExecutionSeconds: MAX },
      ),
    )
    const done = completions(worker, 3, 15_000)
    const jobs = await queue.addBulk([1, 2, 3].map((n) => ({ name: 'call', data: { n } })))
    const results = await done
    const expected = boundMs(MAX)
    expect(expected).toBe(25_000) // the gem's rule: 30 s → 25 s
    for (const job of jobs) {
      expect(results.get(job.id!)).toEqual({
        currentTimeout: expected,
        viaHttp: support().supported ? expected : undefined,
        hasSignal: true,
      })
      if (support().supported) expect(exchanges.byPath.get(`/fetch-${job.id}`)?.inFlight).toBe(expected)
    }
    expect(currentTimeout()).toBeUndefined() // nothing leaks out of the job
  })

  it("a socket a job opened (a lazily connecting client) holds the job's bound while it runs and the global default once it has completed", async (ctx) => {
    const t = perTest(ctx)
    const name = uniqueQueueName('lifetime')
    const queue = openQueue(t, name)
    const opened = new Map<string, Socket>()
    setGlobalDefault(60)
    t.add(() => setGlobalDefault(null))
    const worker = startWorker(
      t,
      name,
      withTcpUserTimeout(
        async (job: Job) => {
          const socket = t.defer(net.connect(upstream.port, '127.0.0.1'), (s) => s.destroy())
          socket.on('error', () => {})
          opened.set(job.id!, socket)
          await once(socket, 'connect')
          return getUserTimeout(socket)
        },
        { maxExecutionSeconds: 30 },
      ),
    )
    const done = completions(worker, 2, 15_000)
    const jobs = await queue.addBulk([1, 2].map((n) => ({ name: 'open', data: { n } })))
    const results = await done
    for (const job of jobs) expect(results.get(job.id!)).toBe(25_000)
    // 'completed' comes after the processor's promise settled, which put the sockets back.
    for (const job of jobs) expect(getUserTimeout(opened.get(job.id!)!)).toBe(60_000)
  })

  it('job data can only tighten: smaller values read back, larger ones get the bound, garbage gets the bound + one report, no job fails', async (ctx) => {
    const t = perTest(ctx)
    const MAX = 30
    const configured = boundMs(MAX)
    const name = uniqueQueueName('jobdata')
    const queue = openQueue(t, name)
    const reports = watchReports(t)
    const worker = startWorker(
      t,
      name,
      withTcpUserTimeout(
        async (job: Job) => ({
          currentTimeout: currentTimeout(),
          viaHttp: await httpReadback(`${upstream.origin}/${job.id}`),
        }),
        {
          maxExecutionSeconds: MAX,
          jobDataKey: 'timeoutSeconds',
        },
      ),
    )
    // [timeoutSeconds, expected ms]; processed in this order (FIFO, concurrency 1): the well-formed ones first.
    const plan: [unknown, number][] = [
      [3, 3000],
      [2.5, 2500],
      [0.2, 1000], // floored at minSeconds (1)
      [600, configured], // never more
      [25.001, configured],
      [undefined, configured], // absent
      [null, configured],
      ['abc', configured], // garbage from here on
      ['3', configured],
      [-3, configured],
      [0, configured],
      [{ seconds: 3 }, configured],
      [[3], configured],
      [true, configured],
      [1e300, configured],
    ]
    const firstGarbage = plan.findIndex(([v]) => v === 'abc')
    const done = completions(worker, plan.length, 20_000)
    const jobs = await queue.addBulk(
      plan.map(([value], i) => ({ name: `job-${i}`, data: value === undefined ? {} : { timeoutSeconds: value } })),
    )
    const results = await done
    plan.forEach(([value, expected], i) => {
      const result = results.get(jobs[i].id!) as { currentTimeout: number; viaHttp: number | undefined }
      expect(result.currentTimeout, `timeoutSeconds ${JSON.stringify(value)}`).toBe(expected)
      if (support().supported)
        expect(result.viaHttp, `timeoutSeconds ${JSON.stringify(value)} read back`).toBe(expected)
    })
    expect(reports).toHaveLength(1)
    expect(reports[0].error).toMatchObject({ code: 'TUT_ERR_INVALID_ARG' })
    expect(reports[0].error.message).toContain(
      `job ${jobs[firstGarbage].id} ("job-${firstGarbage}") has data.timeoutSeconds`,
    )
    expect(reports[0].error.message).toMatch(/the configured bound applies/)
  })

  it.skipIf(!support().supported)(
    'a job whose upstream stops taking data fails with ETIMEDOUT ' +
      'within the bound, and is retried as configured (attempts: 2)',
    async (ctx) => {
      const t = perTest(ctx)
      const MAX = 2.2 // headroom: 2.2 * 0.9 = 1.98 s
      const expected = boundMs(MAX)
      const { port } = await startWedgeServer(t)
      const name = uniqueQueueName('wedge')
      const queue = openQueue(t, name)
      const attempts: (WedgedPost & { attempt: number })[] = []
      const worker = startWorker(
        t,
        name,
        withTcpUserTimeout(
          async (job: Job) => {
            const record = {
              attempt: job.attemptsMade + 1,
              userTimeout: undefined,
              wedgedAt: undefined,
              failedAt: undefined,
              bytes: 0,
            }
            attempts.push(record)
            await postIntoWedge(port, record)
          },
          { maxExecutionSeconds: MAX },
        ),
      )
      const failed = failures(worker, 2, 25_000)
      const job = await queue.add('upload', {}, { attempts: 2 })
      const [first, second] = await failed
      for (const f of [first, second]) {
        expect(f.job?.id).toBe(job.id)
        expect(f.error.message).toMatch(/ETIMEDOUT/)
        expect((f.error as NodeJS.ErrnoException).code).toBe('ETIMEDOUT')
      }
      expect(attempts.map((a) => a.attempt)).toEqual([1, 2])
      for (const a of attempts) {
        expect(a.userTimeout).toBe(expected)
        expect(a.wedgedAt, 'the POST body never filled the buffers').toBeDefined()
        const elapsed = a.failedAt! - a.wedgedAt!
        console.log(
          `[bullmq wedge] attempt ${a.attempt}: ETIMEDOUT ${Math.round(elapsed)} ` +
            `ms after the wedge (bound ${expected} ms, ${a.bytes} bytes written)`,
        )
        expect(elapsed).toBeGreaterThanOrEqual(expected * 0.9)
        expect(elapsed).toBeLessThanOrEqual(expected + 3000)
      }
      const final = await queue.getJob(job.id!)
      expect(await final!.getState()).toBe('failed')
      expect(final!.attemptsMade).toBe(2)
      expect(final!.failedReason).toMatch(/ETIMEDOUT/)
      expect(worker.isRunning()).toBe(true) // the worker itself carries on
    },
  )

  it.skipIf(!support().supported)(
    "BullMQ's own Redis connections are boot sockets: 0 before, " +
      "during and after jobs; a client a job opens gets the job's bound",
    async (ctx) => {
      const t = perTest(ctx)
      const MAX = 4 // headroom: 3.6 s, short on purpose: it must not reach the worker's connections
      const name = uniqueQueueName('boot')
      const queue = openQueue(t, name)
      const seen: {
        main: number | undefined
        blocking: number | undefined
        queue: number | undefined
        own: number | undefined
      }[] = []
      const worker = startWorker(
        t,
        name,
        withTcpUserTimeout(
          async (job: Job) => {
            await job.updateProgress(50) // a command on the worker's main connection, from inside the scope
            const backend = worker.getBackend()
            const own = t.defer(new Redis({ ...redisConfig, lazyConnect: false, maxRetriesPerRequest: 1 }), (r) =>
              r.quit(),
            )
            await own.ping()
            seen.push({
              main: getUserTimeout(await redisSocket(backend.client)),
              blocking: getUserTimeout(await redisSocket(backend.blockingClient)),
              queue: getUserTimeout(await redisSocket(queue.getBackend().client)),
              own: getUserTimeout(own.stream),
            })
          },
          { maxExecutionSeconds: MAX },
        ),
      )
      await worker.waitUntilReady()
      await queue.waitUntilReady()
      const backend = worker.getBackend()
      const main = await redisSocket(backend.client)
      const blocking = await redisSocket(backend.blockingClient)
      const queueSocket = await redisSocket(queue.getBackend().client)
      expect(new Set([main, blocking, queueSocket]).size).toBe(3)
      expect([getUserTimeout(main), getUserTimeout(blocking), getUserTimeout(queueSocket)]).toEqual([0, 0, 0])

      const done = completions(worker, 3, 15_000)
      await queue.addBulk([1, 2, 3].map((n) => ({ name: 'touch', data: { n } })))
      await done
      expect(seen).toEqual(Array(3).fill({ main: 0, blocking: 0, queue: 0, own: boundMs(MAX) }))
      // Still the same sockets (no reconnect inside a scope), still unbound.
      expect(await redisSocket(backend.client)).toBe(main)
      expect(await redisSocket(backend.blockingClient)).toBe(blocking)
      expect([getUserTimeout(main), getUserTimeout(blocking), getUserTimeout(queueSocket)]).toEqual([0, 0, 0])
    },
  )

  it.skipIf(!support().supported).for([
    ['a child process', {}],
    // The core is already imported on this (main) thread, as docs/limits.md asks: ffi-rs opens libc here first.
    ['a worker thread', { useWorkerThreads: true }],
  ] as const)('a sandboxed processor file wraps its own function: %s binds its sockets', async ([where, opts], ctx) => {
    const t = perTest(ctx)
    const name = uniqueQueueName('sandboxed')
    const queue = openQueue(t, name)
    const file = fileURLToPath(new URL('./helpers/sandboxed-processor.mjs', import.meta.url))
    const worker = startWorker(t, name, file, opts)
    const started = performance.now()
    const done = completions(worker, 2, 20_000)
    const jobs = await queue.addBulk([
      { name: 'plain', data: { url: `${upstream.origin}/sandboxed-1` } },
      { name: 'tight', data: { url: `${upstream.origin}/sandboxed-2`, timeoutSeconds: 3 } },
    ])
    const results = await done
    console.log(`[bullmq sandboxed] 2 jobs in ${where} in ${Math.round(performance.now() - started)} ms`)
    const plain = results.get(jobs[0].id!) as { pid: number; currentTimeout: number; userTimeout: number }
    const tight = results.get(jobs[1].id!) as { pid: number; currentTimeout: number; userTimeout: number }
    if ('useWorkerThreads' in opts) expect(plain.pid).toBe(process.pid)
    else expect(plain.pid).not.toBe(process.pid)
    expect(plain).toMatchObject({ currentTimeout: boundMs(12), userTimeout: boundMs(12) })
    expect(tight).toMatchObject({ currentTimeout: 3000, userTimeout: 3000 })
  })
})
