import { describe, it } from 'vitest'
import { get, startFailure } from './app.js'
import type { AdapterHarness, AppSpec } from './harness.js'
import { perTest } from './teardown.js'

const ok = () => ({ ok: true })
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/**
 * A bad configuration fails when the app is built, not at the first request,
 * with a coded error that says what was received and the fix.
 */
export function configContract<Req>(harness: AdapterHarness<Req>): void {
  // `as never`: these are the values TypeScript would reject, as plain JavaScript passes them.
  const appWide: [string, AppSpec<Req>['use'], RegExp][] = [
    [
      'no options',
      [],
      // Express and Koa get undefined; Fastify's register hands its plugin {}.
      /^tcpUserTimeout\(\) (takes an options object such as \{ seconds: 25 \}, received undefined|needs a budget: \{ seconds: 25 \})/,
    ],
    [
      '{}',
      [{} as never],
      /^tcpUserTimeout\(\) needs a budget: \{ seconds: 25 \}, \{ seconds: \(req\) => \.\.\. \} or \{ workerTimeoutSeconds: 30 \}/,
    ],
    [
      '{ seconds: -1 }',
      [{ seconds: -1 }],
      /^tcpUserTimeout\(\): seconds must be a finite number of seconds > 0, received -1/,
    ],
    [
      '{ seconds: "x" }',
      [{ seconds: 'x' as never }],
      /^tcpUserTimeout\(\): seconds must be a number of seconds, received "x"/,
    ],
    [
      '{ bogus: 1 }',
      [{ bogus: 1 } as never],
      /^tcpUserTimeout\(\): unknown option "bogus"; the options are seconds, workerTimeoutSeconds, header/,
    ],
    [
      "{ header: 'bad header' }",
      [{ seconds: 25, header: 'bad header' }],
      /^tcpUserTimeout\(\): header must be an HTTP header name such as 'x-request-timeout-s', received "bad header"/,
    ],
    [
      '{ seconds: 25, workerTimeoutSeconds: 30 }',
      [{ seconds: 25, workerTimeoutSeconds: 30 } as never],
      /^tcpUserTimeout\(\): give seconds or workerTimeoutSeconds, not both/,
    ],
  ]

  describe('configuration errors fail the build with TUT_ERR_INVALID_OPTION', { concurrent: true }, () => {
    it.for(appWide)('tcpUserTimeout(%s)', async ([, use, message], ctx) => {
      const t = perTest(ctx)
      const spec: AppSpec<Req> = { routes: [get('/', ok)] }
      if (use !== undefined) spec.use = use
      const failure = await startFailure(t, () => harness.start(spec))
      ctx.expect(failure).toBeInstanceOf(TypeError)
      ctx.expect(failure).toMatchObject({ name: 'InvalidOptionError', code: 'TUT_ERR_INVALID_OPTION' })
      ctx.expect((failure as Error).message).toMatch(message)
    })

    it('a bad route override names the route', async (ctx) => {
      const t = perTest(ctx)
      const route = { method: 'GET', path: '/reports' } as const
      const failure = await startFailure(t, () =>
        harness.start({
          use: [{ seconds: 25 }],
          routes: [get('/', ok), get(route.path, ok, { override: { seconds: 0 } })],
        }),
      )
      ctx.expect(failure).toBeInstanceOf(TypeError)
      ctx.expect(failure).toMatchObject({ name: 'InvalidOptionError', code: 'TUT_ERR_INVALID_OPTION' })
      ctx
        .expect((failure as Error).message)
        .toMatch(
          new RegExp(
            `^${escape(harness.overrideName(route))}: seconds must be a finite number of seconds > 0, received 0`,
          ),
        )
    })
  })
}
