import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { answerJson, Barrier, holding, startUpstream, type UpstreamHandler } from '@tcp-user-timeout/test-utils'
import { perSuite } from '@tcp-user-timeout/test-utils/teardown'
import { support } from '@tcp-user-timeout/core'
import { requestExample, type ExampleRequest } from './helpers/example-request.js'
import { startNode, type NodeProcess } from './helpers/child.js'

// examples/nestjs, started as a user starts it (`node dist/<platform>.js`,
// PORT=0; the root build compiles it), on @nestjs/platform-express and
// @nestjs/platform-fastify with the existing adapters. Real HTTP requests
// through Nest's pipeline to the controller, whose handlers call an upstream
// this file owns (UPSTREAM_URL), so that a test can hold exchanges in flight
// at once. The requests of one platform run one after another (the held
// upstream is shared by them); the platforms start side by side.

const PLATFORMS = ['express', 'fastify'] as const
type Platform = (typeof PLATFORMS)[number]

const START_TIMEOUT_MS = 20_000
const STOP_TIMEOUT_MS = 10_000
const REQUEST_TIMEOUT_MS = 10_000
const LISTENING = /listening on (http:\/\/127\.0\.0\.1:(\d+))/
const EXAMPLE = fileURLToPath(new URL('../../examples/nestjs/', import.meta.url))

interface Running {
  origin: string
  process: NodeProcess
  /** What the upstream does with the next exchanges (answerJson unless a test holds them). */
  upstream: { handler: UpstreamHandler }
}

const suite = perSuite()
const running = new Map<Platform, Running>()
const failedToStart = new Map<Platform, Error>()

async function start(platform: Platform): Promise<Running> {
  const upstream = { handler: answerJson }
  const served = await startUpstream(suite, (req, res) => upstream.handler(req, res))
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', UPSTREAM_URL: served.origin }
  // Warnings must reach stderr, where the test reads them.
  delete env.NODE_NO_WARNINGS
  const app = startNode(suite, [`dist/${platform}.js`], { cwd: EXAMPLE, env, label: `examples/nestjs ${platform}` })
  const [, origin] = await app.line(LISTENING, START_TIMEOUT_MS)
  return { origin: origin, process: app, upstream }
}

function app(platform: Platform): Running {
  const r = running.get(platform)
  if (r === undefined) throw failedToStart.get(platform) ?? new Error(`examples/nestjs ${platform} is not running`)
  return r
}

interface Body {
  route?: string
  budgetMs?: number | null
  socketMs?: number | null
  upstream?: { path?: string }
}

async function call(platform: Platform, path: string, init: ExampleRequest = {}): Promise<Body> {
  const { status, body } = await requestExample<Body>(app(platform).origin, path, init, REQUEST_TIMEOUT_MS)
  // Nest answers a POST with 201 Created.
  expect(status, JSON.stringify(body)).toBe(init.json === undefined ? 200 : 201)
  return body
}

beforeAll(async () => {
  const results = await Promise.allSettled(PLATFORMS.map(start))
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') running.set(PLATFORMS[i], result.value)
    else failedToStart.set(PLATFORMS[i], result.reason as Error)
  })
}, START_TIMEOUT_MS + 5000)

const kernel = support()
if (!kernel.supported)
  console.log(`nestjs.test: socket read-backs skip: TCP_USER_TIMEOUT unsupported here (${kernel.reason})`)
const onKernel = kernel.supported || process.env.CI ? it : it.skip

describe.each(PLATFORMS)('examples/nestjs on %s', (platform) => {
  it('the controller runs in the app-wide scope: 25 s → 25000 ms, read after the outbound fetch', async () => {
    const body = await call(platform, '/quote')
    expect(body.upstream?.path, 'the handler reached its upstream').toBe('/price')
    expect(body.budgetMs).toBe(25000)
  })

  it('a header tightens it (3 → 3000), never extends it (60 → 25000)', async () => {
    expect((await call(platform, '/quote', { header: '3' })).budgetMs).toBe(3000)
    expect((await call(platform, '/quote', { header: '60' })).budgetMs).toBe(25000)
  })

  it("the route's own policy replaces it on /export: 300000 ms, its header option still tightens", async () => {
    const why =
      platform === 'express' ? 'override() through the middleware consumer' : '@RouteConfig({ tcpUserTimeout })'
    expect((await call(platform, '/export')).budgetMs, why).toBe(300000)
    expect((await call(platform, '/export', { header: '3' })).budgetMs, why).toBe(3000)
  })

  it('a route that disables it (/health) has no scope, whatever the header says', async () => {
    expect((await call(platform, '/health')).budgetMs).toBeNull()
    expect((await call(platform, '/health', { header: '3' })).budgetMs).toBeNull()
  })

  it("a JSON POST keeps its scope through Nest's body parsing", async () => {
    const body = await call(platform, '/orders', { json: { sku: 'demo-1' }, header: '7' })
    expect(body.budgetMs).toBe(7000)
    expect(body.upstream?.path).toBe('/price')
  })

  onKernel("a socket the handler opens holds the request's bound (getUserTimeout)", async () => {
    expect(await call(platform, '/socket')).toMatchObject({ budgetMs: 25000, socketMs: 25000 })
    expect(await call(platform, '/socket', { header: '4' })).toMatchObject({ budgetMs: 4000, socketMs: 4000 })
  })

  onKernel('interleaved requests with different budgets keep their own, on their sockets too', async () => {
    // The upstream answers none of the four exchanges until all four are in
    // flight: each request's scope is live while the others' are.
    const { upstream } = app(platform)
    upstream.handler = holding(new Barrier(4, `nestjs ${platform}: interleaved exchanges`))
    try {
      const got = await Promise.all([
        call(platform, '/socket', { header: '3' }),
        call(platform, '/socket', { header: '7' }),
        call(platform, '/quote', { header: '5' }),
        call(platform, '/export'),
      ])
      expect(got.map((b) => [b.route, b.budgetMs, b.socketMs ?? null])).toEqual([
        ['/socket', 3000, 3000],
        ['/socket', 7000, 7000],
        ['/quote', 5000, null],
        ['/export', 300000, null],
      ])
    } finally {
      upstream.handler = answerJson
    }
  })
})

describe('shutdown', () => {
  it.concurrent.each(PLATFORMS)(
    'examples/nestjs %s printed no TUT_WARN warning and exits 0 on SIGTERM',
    async (platform) => {
      const { process: example } = app(platform)
      const { code, signal } = await example.stop(STOP_TIMEOUT_MS)
      const output = example.lines.join('\n')
      expect({ code, signal }, output).toEqual({ code: 0, signal: null })
      expect(output).toMatch(/SIGTERM, shutting down/)
      // Nest's registration order (adapter first, then its middleware and
      // routes) must not trip the adapters' "registered after the routes" check.
      expect(
        example.lines.filter((l) => /TUT_WARN|Warning/.test(l)),
        output,
      ).toEqual([])
    },
  )
})
