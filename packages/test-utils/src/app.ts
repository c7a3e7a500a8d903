import type { AdapterHarness, AppSpec, RouteSpec, RunningApp } from './harness.js'
import type { Teardown } from './teardown.js'

/** The error starting rejects with; undefined when it started (what started is then closed with `t`). */
export async function startFailure(t: Teardown, start: () => Promise<{ close(): unknown }>): Promise<unknown> {
  try {
    t.defer(await start(), (started) => started.close())
    return undefined
  } catch (error) {
    return error
  }
}

/** Starts the harness's app; it is closed with the test (or suite) that owns `t`. */
export async function startApp<Req>(
  t: Teardown,
  harness: AdapterHarness<Req>,
  spec: AppSpec<Req>,
): Promise<RunningApp> {
  return t.defer(await harness.start(spec), (app) => app.close())
}

export function get<Req>(
  path: string,
  handler: RouteSpec<Req>['handler'],
  more: Partial<RouteSpec<Req>> = {},
): RouteSpec<Req> {
  return { method: 'GET', path, handler, ...more }
}

export function post<Req>(
  path: string,
  handler: RouteSpec<Req>['handler'],
  more: Partial<RouteSpec<Req>> = {},
): RouteSpec<Req> {
  return { method: 'POST', path, handler, ...more }
}
