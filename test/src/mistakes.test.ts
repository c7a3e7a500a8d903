import http from 'node:http'
import { once } from 'node:events'
import express5 from 'express'
import express4 from 'express4'
import Fastify from 'fastify'
import Koa from 'koa'
import { describe, expect, it } from 'vitest'
import { currentTimeout, setGlobalDefault, warningCodes, withJobTimeout, withTimeout } from '@tcp-user-timeout/core'
import { createPolicy } from '@tcp-user-timeout/core/adapter'
import { withTcpUserTimeout } from '@tcp-user-timeout/bullmq'
import { override as expressOverride, tcpUserTimeout as expressMiddleware } from '@tcp-user-timeout/express'
import { tcpUserTimeout as fastifyPlugin } from '@tcp-user-timeout/fastify'
import { override as koaOverride, tcpUserTimeout as koaMiddleware } from '@tcp-user-timeout/koa'
import { captureWarnings, listen, perTest, type ProcessWarning, type Teardown } from '@tcp-user-timeout/test-utils'

// A new user's mistakes, each answered where it is made: a budget of 0
// meant as "off", a budget in milliseconds, middleware registered after
// the routes.

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn()
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('expected a throw')
}

/**
 * The warnings of this library emitted while `fn` runs, once delivered,
 * captured (not printed: they are expected).
 */
async function warningsOf(fn: () => unknown): Promise<ProcessWarning[]> {
  const captured = captureWarnings()
  try {
    await fn()
    await captured.delivered()
  } finally {
    captured.restore()
  }
  return captured.warnings.filter((w) => w.code?.startsWith('TUT_WARN_'))
}

const getJson = async (origin: string, path: string) => (await fetch(`${origin}${path}`)).json()

describe('a budget of 0 is not "off": the error says how to turn the bound off, where it was given', () => {
  it.each([
    [
      'Express tcpUserTimeout',
      () => expressMiddleware({ seconds: 0 }),
      /^tcpUserTimeout\(\): seconds .*received 0\. A bound of 0 is not "off" here.*answer false from a seconds callback.*override\(false\)/,
    ],
    [
      'Express override',
      () => expressOverride({ seconds: 0 }),
      /^override\(\): seconds .*received 0\. .* to turn the bound off, give override\(false\) in place of the options$/,
    ],
    [
      'Koa tcpUserTimeout',
      () => koaMiddleware({ seconds: 0 }),
      /^tcpUserTimeout\(\): .*not "off" here.*\(ctx\) =>.*override\(false\)/,
    ],
    [
      'Koa override',
      () => koaOverride({ seconds: 0 }),
      /^override\(\): .*give override\(false\) in place of the options$/,
    ],
    [
      'workerTimeoutSeconds',
      () => expressMiddleware({ workerTimeoutSeconds: 0 }),
      /^tcpUserTimeout\(\): workerTimeoutSeconds must be a time limit.*received 0.*not "off" here/,
    ],
    [
      'BullMQ maxExecutionSeconds',
      () => withTcpUserTimeout(async () => {}, { maxExecutionSeconds: 0 }),
      /^withTcpUserTimeout\(\): maxExecutionSeconds .*received 0.*not "off" here.*do not wrap the processor/,
    ],
    [
      'a third-party adapter (a function name)',
      () => createPolicy({ seconds: 0 }, 'mine'),
      /^mine\(\): seconds .*received 0.*give mine\(false\) in place of the options$/,
    ],
  ])('%s', (_label, build, message) => {
    const error = thrown(build)
    expect(error.code).toBe('TUT_ERR_INVALID_OPTION')
    expect(error.message).toMatch(message)
  })

  it('Fastify route config, plugin awaited: the route declaration throws, its name without "()"', async (ctx) => {
    const t = perTest(ctx)
    const app = t.defer(Fastify(), (a) => a.close())
    await app.register(fastifyPlugin, { seconds: 25 })
    const error = thrown(() => app.get('/y', { config: { tcpUserTimeout: { seconds: 0 } } }, async () => 'ok'))
    expect(error.code).toBe('TUT_ERR_INVALID_OPTION')
    expect(error.message).toMatch(/^GET \/y config\.tcpUserTimeout: seconds .*received 0\. .*to turn the bound off/)
    expect(error.message).toMatch(/, give config: \{ tcpUserTimeout: false \}$/)
  })

  it('Fastify plugin options: the registration fails with the advice', async (ctx) => {
    const t = perTest(ctx)
    const app = t.defer(Fastify(), (a) => a.close())
    const error = await app.register(fastifyPlugin, { seconds: 0 }).then(
      () => null,
      (e: Error & { code?: string }) => e,
    )
    expect(error?.code).toBe('TUT_ERR_INVALID_OPTION')
    expect(error?.message).toMatch(/^tcpUserTimeout\(\): .*not "off" here.*config: \{ tcpUserTimeout: false \}/)
  })

  it('withTimeout(0) and withJobTimeout(0): call fn directly', () => {
    for (const call of [() => withTimeout(0, () => 1), () => withJobTimeout(0, () => 1)]) {
      const error = thrown(call)
      expect(error.code).toBe('TUT_ERR_OUT_OF_RANGE')
      expect(error.message).toMatch(
        /received 0\. A bound of 0 is not "off" here: to run fn without a bound of its own, call fn\(\) directly/,
      )
    }
  })

  it('setGlobalDefault(0): setGlobalDefault(null) removes the default', () => {
    const error = thrown(() => setGlobalDefault(0))
    expect(error.code).toBe('TUT_ERR_OUT_OF_RANGE')
    expect(error.message).toMatch(
      /received 0\. A bound of 0 is not "off" here: setGlobalDefault\(null\) removes the default/,
    )
  })
})

describe('a budget over an hour (milliseconds by mistake) warns once per middleware, TUT_WARN_LONG_BUDGET', () => {
  it('a fixed seconds: what was given, that it looks like milliseconds, how to silence it', async () => {
    const warnings = await warningsOf(() => expressMiddleware({ seconds: 25000 }))
    expect(warnings.map((w) => w.code)).toEqual([warningCodes.LONG_BUDGET])
    expect(warnings[0].name).toBe('TcpUserTimeoutWarning')
    expect(warnings[0].message).toBe(
      'tcpUserTimeout(): seconds: 25000 is a budget of 6.9 hours; ' +
        'it looks like milliseconds (25000 ms would be seconds: 25). ' +
        'Budgets are in seconds. If a budget over an hour is meant, add allowLongBudget: true to these options.',
    )
  })

  it('workerTimeoutSeconds, a Fastify route config (labelled as such), Koa', async (ctx) => {
    const t = perTest(ctx)
    const app = t.defer(Fastify(), (a) => a.close())
    await app.register(fastifyPlugin, { seconds: 25 })
    const warnings = await warningsOf(() => {
      koaMiddleware({ workerTimeoutSeconds: 30000 })
      app.get('/export', { config: { tcpUserTimeout: { seconds: 90000 } } }, async () => 'ok')
    })
    expect(warnings.map((w) => w.message.split(' is a budget')[0])).toEqual([
      'tcpUserTimeout(): workerTimeoutSeconds: 30000',
      'GET /export config.tcpUserTimeout: seconds: 90000',
    ])
  })

  it('allowLongBudget: true says it is meant; an hour exactly is no warning; BullMQ jobs of hours never warn', async () => {
    const warnings = await warningsOf(() => {
      expressMiddleware({ seconds: 25000, allowLongBudget: true })
      koaOverride({ workerTimeoutSeconds: 30000, allowLongBudget: true })
      expressMiddleware({ seconds: 3600 })
      withTcpUserTimeout(async () => {}, { maxExecutionSeconds: 6 * 3600 })
      withTcpUserTimeout(async () => {}, { seconds: 6 * 3600 })
    })
    expect(warnings).toEqual([])
    // BullMQ has no allowLongBudget: nothing to silence.
    expect(() =>
      withTcpUserTimeout(async () => {}, { maxExecutionSeconds: 30, allowLongBudget: true } as never),
    ).toThrow(/unknown option "allowLongBudget"/)
    expect(() => expressMiddleware({ seconds: 25, allowLongBudget: 'yes' } as never)).toThrow(
      /allowLongBudget must be true or false, received "yes"/,
    )
  })

  it('a seconds callback answering 25000 at request time: the request is served with it, one warning for the middleware', async (ctx) => {
    const t = perTest(ctx)
    const app = express5()
    app.use(expressMiddleware({ seconds: (req) => (req.path === '/long' ? 25000 : 25) }))
    app.get('/:name', (_req, res) => {
      res.json({ ms: currentTimeout() ?? null })
    })
    const server = await listen(t, http.createServer(app))
    const answers: unknown[] = []
    const warnings = await warningsOf(async () => {
      for (const path of ['/short', '/long', '/long', '/short']) answers.push(await getJson(server.origin, path))
    })
    expect(answers).toEqual([{ ms: 25000 }, { ms: 25000000 }, { ms: 25000000 }, { ms: 25000 }])
    expect(warnings.map((w) => w.code)).toEqual([warningCodes.LONG_BUDGET])
    expect(warnings[0].message).toMatch(
      /^tcpUserTimeout\(\): a seconds callback answer of 25000 is a budget of 6\.9 hours; it looks like milliseconds.*allowLongBudget: true/,
    )
  })
})

describe.each([
  ['Express 5', express5],
  ['Express 4', express4],
])('%s: middleware registered after routes warns once, TUT_WARN_LATE_REGISTRATION', (_name, express) => {
  /**
   * An app built by `build`, served; `paths` requested in turn. `atListen`:
   * the warnings drawn while the app was built and its server started
   * listening (none of them is a request); `warnings`: those the requests drew.
   */
  async function run(
    t: Teardown,
    build: (app: ReturnType<typeof express5>) => void,
    paths: string[],
    afterListen?: (app: ReturnType<typeof express5>) => void,
  ) {
    const app = express()
    let origin = ''
    const atListen = await warningsOf(async () => {
      build(app)
      origin = (await listen(t, http.createServer(app))).origin
    })
    afterListen?.(app)
    const answers: unknown[] = []
    const warnings = await warningsOf(async () => {
      for (const path of paths) answers.push(await getJson(origin, path))
    })
    return { atListen, answers, warnings }
  }
  const ms = (_req: unknown, res: { json(v: unknown): void }) => res.json({ ms: currentTimeout() ?? null })
  const LATE =
    'tcpUserTimeout() was registered after GET /early, POST /early: their requests never reach it and run unbound. ' +
    'Call app.use(tcpUserTimeout(...)) before declaring the routes; ' +
    'a route meant to run unbound takes override(false) in its list.'

  it('routes declared before: the warning comes when the server starts listening, before any request, naming them and the fix', async (ctx) => {
    const { atListen, answers, warnings } = await run(
      perTest(ctx),
      (app) => {
        app.get('/early', ms)
        app.post('/early', ms)
        app.use(expressMiddleware({ seconds: 25 }))
        app.get('/late', ms)
      },
      // Only routed requests: none falls through to the middleware of its own.
      ['/early', '/early', '/early', '/late', '/early'],
    )
    expect(atListen.map((w) => w.code)).toEqual([warningCodes.LATE_REGISTRATION])
    expect(atListen[0].message).toBe(LATE)
    expect(answers).toEqual([{ ms: null }, { ms: null }, { ms: null }, { ms: 25000 }, { ms: null }])
    expect(warnings).toEqual([])
  })

  it("Express's own app.listen() too, once per app however many servers serve it", async (ctx) => {
    const t = perTest(ctx)
    const app = express()
    const warnings = await warningsOf(async () => {
      app.get('/early', ms)
      app.post('/early', ms)
      app.use(expressMiddleware({ seconds: 25 }))
      for (let i = 0; i < 2; i++) {
        const server = t.defer(app.listen(0, '127.0.0.1'), (s) => {
          s.closeAllConnections()
          return new Promise<void>((resolve) => s.close(() => resolve()))
        })
        await once(server, 'listening')
      }
    })
    expect(warnings.map((w) => w.message)).toEqual([LATE])
  })

  it('a middleware added after the server listens: the first request it sees checks, as before', async (ctx) => {
    const { atListen, answers, warnings } = await run(
      perTest(ctx),
      (app) => {
        app.get('/early', ms)
        app.post('/early', ms)
      },
      ['/early', '/late', '/late', '/early'],
      (app) => {
        app.use(expressMiddleware({ seconds: 25 }))
        app.get('/late', ms)
      },
    )
    expect(atListen).toEqual([])
    expect(answers).toEqual([{ ms: null }, { ms: 25000 }, { ms: 25000 }, { ms: null }])
    expect(warnings.map((w) => w.message)).toEqual([LATE])
  })

  it('no warning for the normal order, override() in a route, routers mounted after, a middleware under a path, or routes added at init (NestJS)', async (ctx) => {
    const t = perTest(ctx)
    const { atListen, answers, warnings } = await run(
      t,
      (app) => {
        app.use(expressMiddleware({ seconds: 25 }))
        app.get('/a', ms)
        app.get('/off', expressOverride(false), ms)
        app.get('/long', expressOverride({ seconds: 300 }), ms)
        const router = express.Router()
        router.get('/r', ms)
        app.use('/api', router)
      },
      ['/a', '/off', '/long', '/api/r'],
    )
    expect(answers).toEqual([{ ms: 25000 }, { ms: null }, { ms: 300000 }, { ms: 25000 }])
    const underPath = await run(
      t,
      (app) => {
        app.get('/health', ms)
        app.use('/api', expressMiddleware({ seconds: 25 }))
        app.get('/api/x', ms)
      },
      ['/api/x', '/health'],
    )
    expect(underPath.answers).toEqual([{ ms: 25000 }, { ms: null }])
    // NestJS: app.use() before listen, its controllers' routes added to the app at init, once the server exists.
    const nestLike = await run(
      t,
      (app) => app.use(expressMiddleware({ seconds: 25 })),
      ['/controller'],
      (app) => app.get('/controller', ms),
    )
    expect(nestLike.answers).toEqual([{ ms: 25000 }])
    expect([
      ...atListen,
      ...warnings,
      ...underPath.atListen,
      ...underPath.warnings,
      ...nestLike.atListen,
      ...nestLike.warnings,
    ]).toEqual([])
  })
})

describe('Fastify: routes declared before the plugin loaded', () => {
  const ms = async () => ({ ms: currentTimeout() ?? null })

  it('are covered (Fastify 5 gives them the hook at start), and one with its own config warns once, naming the fix', async (ctx) => {
    const t = perTest(ctx)
    const app = t.defer(Fastify(), (a) => a.close())
    app.get('/plain', ms)
    app.get('/own', { config: { tcpUserTimeout: { seconds: 300 } } }, ms)
    app.get('/other', { config: { tcpUserTimeout: false } }, ms)
    // Not awaited: the routes below are declared before it loads too.
    app.register(fastifyPlugin, { seconds: 25 })
    app.get('/after', ms)
    await app.ready()
    const answers: unknown[] = []
    const warnings = await warningsOf(async () => {
      for (const path of ['/plain', '/own', '/other', '/own', '/after']) answers.push((await app.inject(path)).json())
    })
    expect(answers).toEqual([{ ms: 25000 }, { ms: 300000 }, { ms: null }, { ms: 300000 }, { ms: 25000 }])
    expect(warnings.map((w) => w.code)).toEqual([warningCodes.LATE_REGISTRATION])
    expect(warnings[0].message).toMatch(
      /the route GET \/own was declared before the plugin loaded, so its config\.tcpUserTimeout is checked at its first request, not at startup\. .*await app\.register\(tcpUserTimeout/,
    )
  })

  it('awaited registration: no warning, route config checked at declaration', async (ctx) => {
    const t = perTest(ctx)
    const app = t.defer(Fastify(), (a) => a.close())
    await app.register(fastifyPlugin, { seconds: 25 })
    app.get('/own', { config: { tcpUserTimeout: { seconds: 300 } } }, ms)
    await app.ready()
    const warnings = await warningsOf(async () => expect((await app.inject('/own')).json()).toEqual({ ms: 300000 }))
    expect(warnings).toEqual([])
  })
})

it('Koa: nothing to detect (no route table); a route before the middleware runs unbound, as its TSDoc says', async (ctx) => {
  const t = perTest(ctx)
  const app = new Koa()
  app.use(async (ctx, next) => {
    if (ctx.path === '/early') ctx.body = { ms: currentTimeout() ?? null }
    else await next()
  })
  app.use(koaMiddleware({ seconds: 25 }))
  app.use((ctx) => {
    ctx.body = { ms: currentTimeout() ?? null }
  })
  const server = await listen(t, http.createServer(app.callback()))
  const warnings = await warningsOf(async () => {
    expect(await getJson(server.origin, '/early')).toEqual({ ms: null })
    expect(await getJson(server.origin, '/late')).toEqual({ ms: 25000 })
  })
  expect(warnings).toEqual([])
})
