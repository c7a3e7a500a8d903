import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { ADAPTERS, type AdapterKind } from '@tcp-user-timeout/test-utils/apps'
import { perSuite } from '@tcp-user-timeout/test-utils/teardown'
import { requestExample, type ExampleRequest } from './helpers/example-request.js'
import { startNode, type NodeProcess } from './helpers/child.js'

// Every adapter's runnable example (examples/<example>, named by its app
// fixture in @tcp-user-timeout/test-utils/apps), started as a user starts it
// (`node server.mjs`, PORT=0) so that it cannot rot. An HTTP framework's:
// real HTTP requests through the app, whose handler fetches from its
// upstream and answers with the budget in effect (`currentTimeout()`); they
// all run side by side. A call adapter's (examples/grpc): its server, then
// its client (`node client.mjs host:port`), whose lines are checked. A job
// runner's (examples/jobs) needs Redis: jobs/example.test.ts. Every wait is
// bounded.

const examplesOf = (kind: AdapterKind) => ADAPTERS.filter((a) => a.kind === kind).map((a) => a.example)
const EXAMPLES = examplesOf('http')
const CALL_EXAMPLES = examplesOf('call')
type Example = string
const exampleDir = (name: string) => fileURLToPath(new URL(`../../examples/${name}/`, import.meta.url))

const START_TIMEOUT_MS = 15_000
const STOP_TIMEOUT_MS = 10_000
const REQUEST_TIMEOUT_MS = 10_000
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:(\d+))/

interface Running {
  origin: string
  process: NodeProcess
}

// Whatever the tests did: no example outlives the file.
const suite = perSuite()
const running = new Map<Example, Running>()
const failedToStart = new Map<Example, Error>()

async function start(name: Example): Promise<Running> {
  const cwd = exampleDir(name)
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' }
  delete env.UPSTREAM_URL // each example starts its own upstream on 127.0.0.1
  const example = startNode(suite, ['server.mjs'], { cwd, env, label: `examples/${name}` })
  const [, origin] = await example.line(LISTENING, START_TIMEOUT_MS)
  return { origin: origin, process: example }
}

function app(name: Example): Running {
  const r = running.get(name)
  if (r === undefined) throw failedToStart.get(name) ?? new Error(`examples/${name} is not running`)
  return r
}

interface Answer {
  status: number
  body: { route?: string; budgetMs?: number | null; upstream?: { path?: string; price?: number }; error?: string }
}

function call(name: Example, path: string, init: ExampleRequest = {}): Promise<Answer> {
  return requestExample<Answer['body']>(app(name).origin, path, init, REQUEST_TIMEOUT_MS)
}

async function budget(name: Example, path: string, header?: string): Promise<number | null | undefined> {
  const { status, body } = await call(name, path, { header })
  expect(status, JSON.stringify(body)).toBe(200)
  expect(body.upstream?.price, 'the handler reached its upstream').toBe(42)
  return body.budgetMs
}

beforeAll(async () => {
  const results = await Promise.allSettled(EXAMPLES.map(start))
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') running.set(EXAMPLES[i], result.value)
    else failedToStart.set(EXAMPLES[i], result.reason as Error)
  })
}, START_TIMEOUT_MS + 5000)

describe('each adapter has its example', () => {
  const cases = ADAPTERS.map((a) => [a.name, a.example, a.package] as const)
  it.each(cases)('%s: examples/%s, which uses %s', (_name, example, pkg) => {
    type Manifest = { dependencies?: Record<string, string> }
    const manifest = JSON.parse(readFileSync(`${exampleDir(example)}package.json`, 'utf8')) as Manifest
    expect(Object.keys(manifest.dependencies ?? {})).toContain(pkg)
  })
})

describe.concurrent.each(EXAMPLES)('examples/%s', (name) => {
  it('the app-wide budget of 25 s → 25000 ms, read after an outbound fetch', async () => {
    expect(await budget(name, '/quote')).toBe(25000)
  })

  it('a header can only tighten: 3 → 3000, never extend, never disable, floored at 1 s', async () => {
    expect(await budget(name, '/quote', '3')).toBe(3000)
    expect(await budget(name, '/quote', '2.5')).toBe(2500)
    expect(await budget(name, '/quote', '60')).toBe(25000)
    expect(await budget(name, '/quote', '0.2')).toBe(1000)
  })

  it.each(['abc', '', '0', '-3', 'Infinity', 'NaN', '1e3', '3, 4', '9'.repeat(30)])(
    'a malformed header (%j) leaves the configured 25000 ms',
    async (value) => {
      expect(await budget(name, '/quote', value)).toBe(25000)
    },
  )

  it('per-route override lengthens /export to 300000 ms; its own header option still tightens', async () => {
    const why = "the route's own policy (override() / config.tcpUserTimeout) is in effect"
    expect(await budget(name, '/export'), why).toBe(300000)
    expect(await budget(name, '/export', '3'), why).toBe(3000)
    expect(await budget(name, '/export', '600'), why).toBe(300000)
  })

  it('a route that disables it has no scope, whatever the header says', async () => {
    const why = "the route's own policy (override(false) / config.tcpUserTimeout: false) is in effect"
    expect(await budget(name, '/health'), why).toBeNull()
    expect(await budget(name, '/health', '3'), why).toBeNull()
  })

  it('a JSON POST keeps its scope through body parsing', async () => {
    const { status, body } = await call(name, '/orders', { json: { sku: 'demo-1', qty: 2 }, header: '7' })
    expect(status, JSON.stringify(body)).toBe(200)
    expect(body.budgetMs).toBe(7000)
    expect(body.upstream?.price).toBe(42)
  })

  it('concurrent requests each keep their own budget', async () => {
    const cases: [string, string | undefined, number | null][] = []
    for (let i = 0; i < 8; i++) {
      cases.push(
        ['/quote', String(i + 2), (i + 2) * 1000],
        ['/export', undefined, 300000],
        ['/health', undefined, null],
        ['/quote', undefined, 25000],
      )
    }
    const got = await Promise.all(cases.map(([path, header]) => budget(name, path, header)))
    expect(got).toEqual(cases.map(([, , want]) => want))
  })
})

describe.each(CALL_EXAMPLES)('examples/%s', (name) => {
  const cwd = exampleDir(name)
  const CALL_LISTENING = /example listening on (127\.0\.0\.1:\d+)/
  let server: NodeProcess | undefined
  let target = ''

  beforeAll(async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' }
    delete env.UPSTREAM_URL
    server = startNode(suite, ['server.mjs'], { cwd, env, label: `examples/${name} server` })
    ;[, target = ''] = await server.line(CALL_LISTENING, START_TIMEOUT_MS)
  }, START_TIMEOUT_MS + 5000)

  it('client.mjs: 25 s; a deadline or the metadata tightens it, never lengthens it; Export 300 s; each streamed message; the channel pinned to 10 s (A18)', async () => {
    const client = startNode(suite, ['client.mjs', target], { cwd, label: `examples/${name} client` })
    const { code } = await client.exit(REQUEST_TIMEOUT_MS)
    expect(code, client.lines.join('\n')).toBe(0)
    // Its JSON lines (stderr's, such as a runtime warning, are prefixed and left out).
    const lines = client.lines
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { call: string; budgetMs?: number; price?: number })
    const byCall = Object.fromEntries(lines.map(({ call, ...rest }) => [call, rest]))
    expect(byCall).toEqual({
      GetQuote: { budgetMs: 25_000, price: 42 },
      'GetQuote deadline 3 s': { budgetMs: expect.any(Number), price: 42 },
      'GetQuote x-request-timeout-s: 2': { budgetMs: 2000, price: 42 },
      'GetQuote x-request-timeout-s: 600': { budgetMs: 25_000, price: 42 },
      'GetQuote x-request-timeout-s: abc': { budgetMs: 25_000, price: 42 },
      'Export deadline 10 min': { budgetMs: 300_000, price: 42 },
      WatchQuotes: { budgetsMs: [25_000, 25_000] },
      connection: { pinnedMs: 10_000, peer: target },
    })
    const tight = byCall['GetQuote deadline 3 s'].budgetMs!
    expect(tight).toBeGreaterThan(2000)
    expect(tight).toBeLessThanOrEqual(3000)
  })

  it('the server exits 0 on SIGTERM', async () => {
    const { code, signal } = await server!.stop(STOP_TIMEOUT_MS)
    expect({ code, signal }, server!.lines.join('\n')).toEqual({ code: 0, signal: null })
    expect(server!.lines.join('\n')).toMatch(/example: SIGTERM, shutting down/)
  })
})

describe('shutdown', () => {
  // After the request tests (files run their top-level blocks in order).
  it.concurrent.each(EXAMPLES)('examples/%s exits 0 on SIGTERM', async (name) => {
    const { process: example } = app(name)
    const { code, signal } = await example.stop(STOP_TIMEOUT_MS)
    expect({ code, signal }, example.lines.join('\n')).toEqual({ code: 0, signal: null })
    expect(example.lines.join('\n')).toMatch(/SIGTERM, shutting down/)
  })
})
