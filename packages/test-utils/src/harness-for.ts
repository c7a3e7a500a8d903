import supertest from 'supertest'
import { createApp, httpFixture, useAdapter, type AppOptions, type Framework } from '../apps/index.mjs'
import type { AdapterHarness, RunningApp } from './harness.js'

const noStage = (): void => {}

/**
 * The contract's harness of `framework`, from its app fixture alone: the
 * fixture's app with a JSON body parser after the middleware (so the scope
 * must survive it), each route's policy and stages put in as the fixture
 * does, handlers that see the request framework-neutral, and an error
 * handler answering JSON. `name` labels the suite; `app` gives the fixture
 * more options (Express 4: `{ express }`, the module).
 */
export function harnessFor<Req = unknown>(
  framework: Framework,
  { name = framework, app = {} }: { name?: string; app?: Partial<AppOptions> } = {},
): AdapterHarness<Req> {
  const fixture = httpFixture(framework)
  const { stages, errorHandlerInScope, overrideName } = fixture.contract
  return {
    name,
    stages,
    errorHandlerInScope,
    overrideName,
    secondsFromPath: (choose) => (req) => choose(fixture.request(req).path) as number | undefined | false,

    async start(spec): Promise<RunningApp> {
      const running = await createApp(framework, {
        ...fixture.contract.app,
        ...app,
        use: spec.use && (await useAdapter(framework, ...spec.use)),
        json: true,
        routes: spec.routes.map((route) => ({
          method: route.method,
          path: route.path,
          override: route.override,
          stage: route.stage ?? noStage,
          handler: (native: unknown) => route.handler(fixture.request(native)),
        })),
        onError: (error) => ({ status: 500, body: spec.onError?.(error) ?? { error: String(error) } }),
      })
      return { origin: running.origin, client: supertest(running.origin), close: running.close }
    },
  }
}
