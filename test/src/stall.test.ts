/**
 * examples/observability/stall.mjs, the rootless stalling upstream of
 * docs/observability.md "See a timeout on your machine", run as a user runs
 * it (`node stall.mjs`, a process of its own): an Express app with the
 * adapter whose handler calls it gets a real ETIMEDOUT within the budget,
 * observe() reports the timeout and stats().timedOut moves; the same app
 * without the adapter is still waiting. Then the whole recipe in child
 * processes: the check lines (`node --import ./check.mjs`) in front of an
 * app pointed at it with UPSTREAM_URL= print the timeout line and the counter.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { observe, stats, type TcpUserTimeoutEvent } from '@tcp-user-timeout/core'
import { perTest, type Teardown } from '@tcp-user-timeout/test-utils'
import { createApp, useAdapter } from '@tcp-user-timeout/test-utils/apps'
import { describeChild, runNode } from './helpers/child.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const EXAMPLE = join(ROOT, 'examples/observability')
const STALL = join(EXAMPLE, 'stall.mjs')
const BUDGET_S = 2
/** As the other kernel tests: ETIMEDOUT within the bound + 1.5 s (zero-window probes back off). */
const SLACK_MS = 1500
/** What the banner tells a user to send: 1 MB (about 128 KiB already wedges a loopback connection here). */
const UPLOAD_BYTES = 1024 * 1024
const READY_TIMEOUT_MS = 5000

interface Stall {
  port: number
  origin: string
  /** Every line the server printed so far. */
  lines: string[]
}

/** `node stall.mjs --port=0 ...args`, in its own process group, killed (with its stopped listener) by `t`. */
async function startStall(t: Teardown, args: string[] = []): Promise<Stall> {
  const child = spawn(process.execPath, [STALL, '--port=0', ...args], {
    cwd: EXAMPLE,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  t.defer(child, (c) => {
    try {
      process.kill(-c.pid!, 'SIGKILL') // the group: --drop-syns leaves a stopped listener child
    } catch {
      c.kill('SIGKILL')
    }
  })
  const lines: string[] = []
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  const first = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`stall.mjs printed nothing in ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    )
    child.once('exit', (code) => reject(new Error(`stall.mjs exited (${code}) before listening: ${stderr}`)))
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line)
      if (lines.length === 1) {
        clearTimeout(timer)
        resolve(line)
      }
    })
  })
  const port = Number(/^stall: listening on 127\.0\.0\.1:(\d+) /.exec(await first)?.[1])
  expect(port).toBeGreaterThan(0)
  return { port, origin: `http://127.0.0.1:${port}`, lines }
}

/** observe() events, and the first timeout event for `peer` once it comes (bounded). */
function timeoutsOf(t: Teardown, peer: string) {
  const events: TcpUserTimeoutEvent[] = []
  let resolveTimeout: (event: TcpUserTimeoutEvent) => void = () => {}
  const timeout = new Promise<TcpUserTimeoutEvent>((resolve) => (resolveTimeout = resolve))
  t.defer(
    observe((event) => {
      events.push(event)
      if (event.type === 'timeout' && event.peer === peer) resolveTimeout(event)
    }),
    (o) => o.close(),
  )
  return {
    events,
    next: (ms: number) =>
      Promise.race([
        timeout,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no timeout event in ${ms} ms`)), ms)),
      ]),
  }
}

interface Outcome {
  code: string | undefined
  elapsedMs: number
}

/** Calls the upstream with `call`; answers how it failed (its cause's code) and after how long. */
async function failureOf(call: () => Promise<Response>): Promise<Outcome> {
  const started = performance.now()
  try {
    const res = await call()
    await res.arrayBuffer()
    return { code: `answered ${res.status}`, elapsedMs: performance.now() - started }
  } catch (error) {
    const cause = (error as { cause?: NodeJS.ErrnoException }).cause
    return { code: cause?.code ?? (error as NodeJS.ErrnoException).code, elapsedMs: performance.now() - started }
  }
}

/**
 * Two Express apps whose GET /call runs `call(stall)`: one with the adapter
 * (`{ seconds: 2 }`), one without. Both are asked at once; the protected
 * one's answer is returned, and whether the other was still waiting then.
 */
/**
 * The call through the adapter fails ETIMEDOUT within the budget (+ SLACK_MS) while the same call without it is
 * `waiting`, and the socket's timeout is published once and counted once. Returns what was observed.
 */
async function expectCut(
  t: Teardown,
  peer: string,
  waiting: string,
  call: (signal: AbortSignal) => Promise<Response>,
): Promise<ReturnType<typeof timeoutsOf>> {
  const observed = timeoutsOf(t, peer)
  const before = stats().timedOut
  const { outcome, unboundedSettled } = await protectedAndNot(t, call)
  expect(outcome.code).toBe('ETIMEDOUT')
  expect(outcome.elapsedMs).toBeGreaterThanOrEqual(BUDGET_S * 1000 - 50)
  expect(outcome.elapsedMs).toBeLessThanOrEqual(BUDGET_S * 1000 + SLACK_MS)
  expect(unboundedSettled, `the same call without the adapter is ${waiting}`).toBe(false)
  // Published and counted at the socket's 'close', which may follow the handler's answer.
  expect(await observed.next(5000)).toEqual({
    type: 'timeout',
    ms: BUDGET_S * 1000,
    direction: 'outbound',
    peer,
    code: 'ETIMEDOUT',
  })
  expect(stats().timedOut - before).toBe(1)
  return observed
}

async function protectedAndNot(t: Teardown, call: (signal: AbortSignal) => Promise<Response>) {
  const gone = t.defer(new AbortController(), (c) => c.abort())
  const routes = [{ method: 'GET' as const, path: '/call', handler: () => failureOf(() => call(gone.signal)) }]
  const bounded = t.defer(
    await createApp('express', { use: await useAdapter('express', { seconds: BUDGET_S }), routes }),
    (a) => a.close(),
  )
  const unbounded = t.defer(await createApp('express', { routes }), (a) => a.close())
  let unboundedSettled = false
  void fetch(`${unbounded.origin}/call`, { signal: gone.signal })
    .then((res) => res.arrayBuffer())
    .catch(() => {})
    .finally(() => (unboundedSettled = true))
  const res = await fetch(`${bounded.origin}/call`, { signal: AbortSignal.timeout(BUDGET_S * 1000 + 10_000) })
  expect(res.status).toBe(200)
  return { outcome: (await res.json()) as Outcome, unboundedSettled }
}

describe('examples/observability/stall.mjs: a real ETIMEDOUT on your machine, without root', () => {
  it(`accepts and never reads: a handler POSTing 1 MB to it gets ETIMEDOUT within the budget (${BUDGET_S} s) + ${SLACK_MS} ms, a timeout event and stats().timedOut + 1; without the adapter it still waits`, async (ctx) => {
    const t = perTest(ctx)
    const stall = await startStall(t)
    expect(stall.lines[0]).toBe(`stall: listening on 127.0.0.1:${stall.port} (accepts, never reads)`)
    const peer = `127.0.0.1:${stall.port}`
    const observed = await expectCut(t, peer, 'still waiting', (signal) =>
      fetch(`${stall.origin}/upload`, { method: 'POST', body: Buffer.alloc(UPLOAD_BYTES, 0x61), signal }),
    )
    expect(observed.events.filter((e) => e.type === 'bind' && e.peer === peer).map((e) => e.ms)).toEqual([2000])
    // It says what it holds: both apps' connections, accepted and never read.
    expect(stall.lines.filter((l) => / accepted 127\.0\.0\.1:\d+; not reading it$/.test(l))).toHaveLength(2)
  })

  it(`--drop-syns: any request, a GET too, gets ETIMEDOUT in the handshake within the budget + ${SLACK_MS} ms, a timeout event and stats().timedOut + 1`, async (ctx) => {
    const t = perTest(ctx)
    const stall = await startStall(t, ['--drop-syns'])
    expect(stall.lines[0]).toBe(`stall: listening on 127.0.0.1:${stall.port} (drops every SYN)`)
    await expectCut(t, `127.0.0.1:${stall.port}`, 'still connecting', (signal) =>
      fetch(`${stall.origin}/quote`, { signal }),
    )
  })

  it('the recipe, all in processes of their own: the check lines in front of an app with UPSTREAM_URL= pointed at it print the timeout and "timedOut":1', async (ctx) => {
    const t = perTest(ctx)
    const stall = await startStall(t)
    expect(stall.lines.join('\n')).toContain(`UPSTREAM_URL=${stall.origin}`)
    // A user's app: the adapter in front of a route that uploads to UPSTREAM_URL; asked once, then it exits.
    const app = `
      import { createApp, useAdapter } from '@tcp-user-timeout/test-utils/apps'
      const body = Buffer.alloc(${UPLOAD_BYTES})
      const upload = () => fetch(process.env.UPSTREAM_URL + '/upload', { method: 'POST', body })
      const app = await createApp('express', {
        use: await useAdapter('express', { seconds: ${BUDGET_S} }),
        routes: [{ method: 'POST', path: '/orders', handler: () => upload() }],
        onError: (error) => ({ status: 504, body: { code: error.cause?.code } }),
      })
      const started = performance.now()
      const res = await fetch(app.origin + '/orders', { method: 'POST' })
      console.log('app:', res.status, JSON.stringify(await res.json()), Math.round(performance.now() - started))
      await app.close()`
    // From test/, where the app's imports resolve; check.mjs resolves the core from its own folder.
    const r = await runNode(['--import', join(EXAMPLE, 'check.mjs'), '--input-type=module', '-e', app], {
      cwd: join(ROOT, 'test'),
      timeoutMs: 20_000,
      env: { ...process.env, UPSTREAM_URL: stall.origin },
    })
    expect(r.code, describeChild('node --import ./check.mjs app', r)).toBe(0)
    const lines = r.stdout.trim().split('\n')
    const json = (prefix: string) =>
      lines
        .filter((l) => l.startsWith(prefix))
        .map((l) => JSON.parse(l.slice(prefix.length).replace(/ \{\}$/, '')) as Record<string, unknown>)
    const peer = `127.0.0.1:${stall.port}`
    expect(json('tcp-user-timeout: ').filter((e) => e.type === 'timeout')).toEqual([
      { type: 'timeout', ms: BUDGET_S * 1000, direction: 'outbound', peer, code: 'ETIMEDOUT' },
    ])
    expect(json('tcp-user-timeout: ').at(-1)).toMatchObject({ bound: 1, timedOut: 1, errors: 0 })
    const answer = /^app: (\d+) (\{.*\}) (\d+)$/.exec(lines.find((l) => l.startsWith('app: ')) ?? '')
    expect(answer?.slice(1, 3)).toEqual(['504', '{"code":"ETIMEDOUT"}'])
    expect(Number(answer?.[3])).toBeLessThanOrEqual(BUDGET_S * 1000 + SLACK_MS)
  })
})
