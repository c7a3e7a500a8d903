/**
 * examples/jobs, run as a user runs it: `node worker.mjs` (its own upstream,
 * a unique QUEUE on the machine's Redis), then `node producer.mjs ...` for
 * each job, whose printed result carries the bound in effect for the job's
 * upstream call. Then SIGTERM: the worker must exit 0. Every wait is bounded.
 */
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { headroom } from '@tcp-user-timeout/core'
import { perSuite, perTest, type Teardown } from '@tcp-user-timeout/test-utils/teardown'
import { startNode, type NodeProcess } from '../helpers/child.js'
import { REDIS, redisConfig, skipWithout } from '../helpers/services.js'
import { openQueue, uniqueQueueName } from './helpers/bullmq.js'

const skip = await skipWithout('jobs example', REDIS)

const CWD = fileURLToPath(new URL('../../../examples/jobs/', import.meta.url))
const QUEUE = uniqueQueueName('example')
const START_TIMEOUT_MS = 15_000
const RUN_TIMEOUT_MS = 15_000
const STOP_TIMEOUT_MS = 10_000
const READY = new RegExp(
  `^jobs example worker ready on queue "${QUEUE}" \\(redis 127\\.0\\.0\\.1:\\d+, ` +
    `upstream (http:\\/\\/127\\.0\\.0\\.1:\\d+)\\)$`,
)

const env = () => {
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    QUEUE,
    REDIS_HOST: redisConfig.host,
    REDIS_PORT: String(redisConfig.port),
  }
  delete e.UPSTREAM_URL
  delete e.REDIS_URL
  return e
}

interface Produced {
  state: 'completed' | 'failed'
  result?: { job: string; budgetMs: number | null; upstream: { price: number } }
  failedReason?: string
}

let worker: NodeProcess | undefined

async function produce(t: Teardown, ...args: string[]): Promise<Produced> {
  const p = startNode(t, ['producer.mjs', ...args], { cwd: CWD, env: env() })
  const { code } = await p.exit(RUN_TIMEOUT_MS).catch((error: Error) => {
    throw new Error(`${error.message}\nworker.mjs printed:\n${worker?.lines.join('\n')}`)
  })
  expect(code, p.lines.join('\n')).toBe(0)
  return JSON.parse(p.lines.at(-1)!) as Produced
}

describe.skipIf(skip)('examples/jobs', () => {
  const suite = perSuite()

  beforeAll(async () => {
    // Obliterated once the worker has stopped (last in, first out).
    openQueue(suite, QUEUE)
    worker = startNode(suite, ['worker.mjs'], { cwd: CWD, env: env() })
    await worker.line(READY, START_TIMEOUT_MS)
  }, START_TIMEOUT_MS + 5000)

  it('a job gets headroom(30) = 25000 ms; job data tightens to 3000, never loosens; garbage → 25000, reported once', async (ctx) => {
    const t = perTest(ctx)
    const configured = Math.round(headroom(30) * 1000)
    expect(await produce(t, 'quote')).toMatchObject({
      state: 'completed',
      result: { budgetMs: configured, upstream: { price: 42 } },
    })
    expect(await produce(t, 'quote', '3')).toMatchObject({ state: 'completed', result: { budgetMs: 3000 } })
    expect(await produce(t, 'quote', '600')).toMatchObject({ state: 'completed', result: { budgetMs: configured } })
    expect(await produce(t, 'quote', 'abc')).toMatchObject({ state: 'completed', result: { budgetMs: configured } })
    expect(await produce(t, 'quote', '-1')).toMatchObject({ state: 'completed', result: { budgetMs: configured } })
    const reports = worker!.lines.filter((l) => l.includes('tcp-user-timeout: withTcpUserTimeout()'))
    expect(reports, worker!.lines.join('\n')).toHaveLength(1)
    expect(reports[0]).toMatch(/data\.timeoutSeconds that is not a budget: it is "abc"/)
  })

  it("'export' jobs get 300000 ms from the seconds callback; job data still tightens them", async (ctx) => {
    const t = perTest(ctx)
    expect(await produce(t, 'export')).toMatchObject({
      state: 'completed',
      result: { job: 'export', budgetMs: 300_000 },
    })
    expect(await produce(t, 'export', '2.5')).toMatchObject({ state: 'completed', result: { budgetMs: 2500 } })
  })

  it('exits 0 on SIGTERM', async () => {
    const exit = await worker!.stop(STOP_TIMEOUT_MS)
    expect(exit, worker!.lines.join('\n')).toEqual({ code: 0, signal: null })
    expect(worker!.lines.join('\n')).toMatch(/jobs example: SIGTERM, shutting down/)
  })
})
