/**
 * examples/jobs, run as a user runs it: `node worker.mjs` (its own upstream,
 * a unique QUEUE on the machine's Redis), then `node producer.mjs ...` for
 * each job, whose printed result carries the bound in effect for the job's
 * upstream call. Then SIGTERM: the worker must exit 0. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Queue } from 'bullmq'
import { headroom } from '@tcp-user-timeout/core'
import { REDIS, redisConfig, skipWithout } from '../helpers/services.js'
import { uniqueQueueName } from './helpers/bullmq.js'

const skip = await skipWithout('jobs example', REDIS)

const CWD = fileURLToPath(new URL('../../../examples/jobs/', import.meta.url))
const QUEUE = uniqueQueueName('example')
const START_TIMEOUT_MS = 15_000
const RUN_TIMEOUT_MS = 15_000
const READY = /^jobs example worker ready on queue "([^"]+)" \(redis 127\.0\.0\.1:\d+, upstream (http:\/\/127\.0\.0\.1:\d+)\)$/

const env = () => {
  const e: NodeJS.ProcessEnv = { ...process.env, QUEUE, REDIS_HOST: redisConfig.host, REDIS_PORT: String(redisConfig.port) }
  delete e.UPSTREAM_URL
  delete e.REDIS_URL
  return e
}

const children = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

interface Running {
  child: ChildProcess
  lines: string[]
  /** Called with every stdout line, as it comes. */
  onLine: Set<(line: string) => void>
  exited: Promise<Exit>
}

function run(args: string[]): Running {
  const child = spawn(process.execPath, args, { cwd: CWD, env: env(), stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  const lines: string[] = []
  const onLine = new Set<(line: string) => void>()
  createInterface({ input: child.stdout! }).on('line', (l) => {
    lines.push(l)
    for (const f of onLine) f(l)
  })
  createInterface({ input: child.stderr! }).on('line', (l) => lines.push(`stderr: ${l}`))
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })))
  return { child, lines, onLine, exited }
}

/** Resolves with the exit, or kills the child and rejects after `ms`. */
async function bounded(p: Running, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)))
  const result = await Promise.race([p.exited, late])
  clearTimeout(timer)
  if (result === 'late') {
    p.child.kill('SIGKILL')
    throw new Error(`node ${p.child.spawnargs.slice(1).join(' ')} did not exit within ${ms} ms\n${p.lines.join('\n')}`)
  }
  return result
}

interface Produced {
  state: 'completed' | 'failed'
  result?: { job: string; budgetMs: number | null; upstream: { price: number } }
  failedReason?: string
}

let worker: Running | undefined

async function produce(...args: string[]): Promise<Produced> {
  const p = run(['producer.mjs', ...args])
  const { code } = await bounded(p, RUN_TIMEOUT_MS).catch((error: Error) => {
    throw new Error(`${error.message}\nworker.mjs printed:\n${worker?.lines.join('\n')}`)
  })
  expect(code, p.lines.join('\n')).toBe(0)
  return JSON.parse(p.lines.at(-1)!) as Produced
}

describe.skipIf(skip)('examples/jobs', () => {
  beforeAll(async () => {
    const w = run(['worker.mjs'])
    worker = w
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within ${START_TIMEOUT_MS} ms\n${w.lines.join('\n')}`)), START_TIMEOUT_MS)
      const onLine = (line: string) => {
        if (READY.exec(line)?.[1] === QUEUE) done()
      }
      w.onLine.add(onLine)
      void w.exited.then(({ code }) => done(new Error(`worker.mjs exited (${code}) before it was ready\n${w.lines.join('\n')}`)))
      function done(error?: Error) {
        clearTimeout(timer)
        w.onLine.delete(onLine)
        if (error) reject(error)
        else resolve()
      }
    })
  }, START_TIMEOUT_MS + 5000)

  afterAll(async () => {
    if (worker && worker.child.exitCode === null && worker.child.signalCode === null) {
      worker.child.kill('SIGTERM')
      await bounded(worker, 10_000).catch(() => {})
    }
    const queue = new Queue(QUEUE, { connection: redisConfig })
    await queue.obliterate({ force: true }).catch(() => {})
    await queue.close()
  }, 20_000)

  it('a job gets headroom(30) = 25000 ms; job data tightens to 3000, never loosens; garbage → 25000, reported once', async () => {
    const configured = Math.round(headroom(30) * 1000)
    expect(await produce('quote')).toMatchObject({ state: 'completed', result: { budgetMs: configured, upstream: { price: 42 } } })
    expect(await produce('quote', '3')).toMatchObject({ state: 'completed', result: { budgetMs: 3000 } })
    expect(await produce('quote', '600')).toMatchObject({ state: 'completed', result: { budgetMs: configured } })
    expect(await produce('quote', 'abc')).toMatchObject({ state: 'completed', result: { budgetMs: configured } })
    expect(await produce('quote', '-1')).toMatchObject({ state: 'completed', result: { budgetMs: configured } })
    const reports = worker!.lines.filter((l) => l.includes('tcp-user-timeout: withTcpUserTimeout()'))
    expect(reports, worker!.lines.join('\n')).toHaveLength(1)
    expect(reports[0]).toMatch(/data\.timeoutSeconds that is not a budget: it is "abc"/)
  })

  it("'export' jobs get 300000 ms from the seconds callback; job data still tightens them", async () => {
    expect(await produce('export')).toMatchObject({ state: 'completed', result: { job: 'export', budgetMs: 300_000 } })
    expect(await produce('export', '2.5')).toMatchObject({ state: 'completed', result: { budgetMs: 2500 } })
  })

  it('exits 0 on SIGTERM', async () => {
    worker!.child.kill('SIGTERM')
    const exit = await bounded(worker!, 10_000)
    expect(exit, worker!.lines.join('\n')).toEqual({ code: 0, signal: null })
    expect(worker!.lines.join('\n')).toMatch(/jobs example: SIGTERM, shutting down/)
  })
})
