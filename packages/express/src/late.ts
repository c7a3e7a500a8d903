import { warningCodes } from '@tcp-user-timeout/core'
import { warn } from '@tcp-user-timeout/core/adapter'
import type { Request } from 'express'

/** What this reads of an Express 4 or 5 router layer (`app._router.stack`, `app.router.stack`). */
interface Layer {
  handle?: unknown
  route?: { path?: unknown; methods?: Record<string, boolean> }
  /** Express 4: mounted on `/` (app.use(fn)). */
  regexp?: { fast_slash?: boolean }
  /** Express 5 (router 2): mounted on `/`. */
  slash?: boolean
}

const warned = new WeakSet()

/**
 * Once, at the first request the middleware sees: warns when routes were
 * declared on the app before it (app.get(...) then app.use(tcpUserTimeout(...))),
 * since their requests are answered before they reach it. Only a
 * middleware the app itself mounts on `/` is checked: one in a router, in a
 * route's list or under a path is where its user put it on purpose, and
 * routes added later (routers, NestJS's routes at init) come after it.
 * Never throws.
 */
export function warnIfLate(req: Request, handle: unknown): void {
  try {
    const app = req.app as unknown as Record<string, unknown> | undefined
    if (app === undefined || app === null || warned.has(app)) return
    const stack = routerStack(app)
    if (stack === undefined) return
    const at = stack.findIndex((layer) => layer.handle === handle)
    if (at < 0 || !(stack[at]!.regexp?.fast_slash === true || stack[at]!.slash === true)) return
    const early = stack.slice(0, at).filter((layer) => layer.route !== undefined)
    if (early.length === 0) return
    warned.add(app)
    const shown = early.slice(0, 5).map((layer) => describeRoute(layer.route!))
    const more = early.length > 5 ? ` and ${early.length - 5} more` : ''
    warn(
      warningCodes.LATE_REGISTRATION,
      `tcpUserTimeout() was registered after ${shown.join(', ')}${more}: ` +
        `their requests never reach it and run unbound. ` +
        'Call app.use(tcpUserTimeout(...)) before declaring the routes; ' +
        'a route meant to run unbound takes override(false) in its list.',
    )
  } catch {
    // Not the Express this was written for: requests go on.
  }
}

/** The app's layers: Express 4 keeps its router in `_router`; Express 5's `router` (a getter that throws in 4). */
function routerStack(app: Record<string, unknown>): Layer[] | undefined {
  const router = (app['_router'] ?? app['router']) as { stack?: unknown } | undefined
  return Array.isArray(router?.stack) ? (router.stack as Layer[]) : undefined
}

function describeRoute(route: NonNullable<Layer['route']>): string {
  const methods = Object.keys(route.methods ?? {}).filter((m) => route.methods![m] === true && m !== '_all')
  const path = typeof route.path === 'string' ? route.path : String(route.path)
  return `${methods.length === 0 ? 'ALL' : methods.map((m) => m.toUpperCase()).join('|')} ${path}`
}
