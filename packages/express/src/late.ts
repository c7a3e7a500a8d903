import { EventEmitter } from 'node:events'
import { warningCodes } from '@tcp-user-timeout/core'
import { subscribe, warn } from '@tcp-user-timeout/core/adapter'

/** What this reads of an Express 4 or 5 router layer (`app._router.stack`, `app.router.stack`). */
interface Layer {
  handle?: unknown
  route?: { path?: unknown; methods?: Record<string, boolean> }
  /** Express 4: mounted on `/` (app.use(fn)). */
  regexp?: { fast_slash?: boolean }
  /** Express 5 (router 2): mounted on `/`. */
  slash?: boolean
}

type App = Record<PropertyKey, unknown>

/**
 * Marks a tcpUserTimeout() middleware, so that the check at listen finds it
 * in an app's stack: a Symbol.for key, so that a second copy of this
 * package (its ESM and CommonJS builds side by side) finds this copy's too.
 */
const MIDDLEWARE = Symbol.for('tcp-user-timeout.express.middleware')

/** Node publishes it, synchronously inside `server.listen()`, before the port is bound (20.16+, 22.3+). */
const LISTEN = 'tracing:net.server.listen:asyncStart'

/**
 * Set on an app once it was warned about, whichever check or copy of this
 * package found it (a Symbol.for key: the ESM and CommonJS builds side by
 * side, Jest's registry per test file).
 */
const WARNED = Symbol.for('tcp-user-timeout.express.warned')

/**
 * Marks `middleware` as a tcpUserTimeout() middleware and, once per thread
 * (the core's `subscribe`, undone by uninstall()), starts the check at
 * listen: when any server starts listening (`app.listen()`,
 * `http.createServer(app).listen()`, supertest), each Express app it
 * serves is checked for routes declared before the middleware
 * (warnIfLate). It runs at start-up, before any request and off the
 * request path: a diagnostics channel of Node, no patch. Where Node has no
 * such channel (before 20.16 and 22.3), or no server listens in this
 * process (an app mounted into another, serverless), the middleware's
 * first request checks instead. Never throws.
 */
export function watchForLateRegistration(middleware: object): void {
  try {
    Object.defineProperty(middleware, MIDDLEWARE, { value: true })
    subscribe(LISTEN, onListen, 'express:late-registration')
  } catch {
    // The first request's check remains.
  }
}

/**
 * A server starts listening: the Express apps among its request listeners.
 * Never throws (a subscriber's throw would be an uncaught exception).
 */
function onListen(message: unknown): void {
  try {
    const server = (message as { server?: unknown } | null)?.server
    if (!(server instanceof EventEmitter)) return
    for (const listener of server.listeners('request')) {
      if (isExpressApp(listener)) warnIfLate(listener as unknown as App, isMarked)
    }
  } catch {
    // Not a server this was written for: it listens all the same.
  }
}

function isMarked(handle: unknown): boolean {
  return typeof handle === 'function' && (handle as unknown as Record<symbol, unknown>)[MIDDLEWARE] === true
}

/** An Express 4 or 5 app: the function `express()` returns, which a server calls per request. */
function isExpressApp(fn: unknown): boolean {
  if (typeof fn !== 'function') return false
  const app = fn as unknown as App
  return typeof app['handle'] === 'function' && typeof app['set'] === 'function' && typeof app['use'] === 'function'
}

/**
 * Warns once per app when routes were declared on it before a
 * tcpUserTimeout() middleware (app.get(...) then app.use(tcpUserTimeout(...))),
 * since their requests are answered before they reach it. `ours` picks the
 * middleware out of the app's stack: the first one found is the one that
 * counts. Only a middleware the app itself mounts on `/` is checked: one in
 * a router, in a route's list or under a path is where its user put it on
 * purpose, and routes added later (routers, NestJS's routes at init) come
 * after it. Called at listen (every middleware of this package) and at a
 * middleware's first request (that one, with `req.app`). Never throws.
 */
export function warnIfLate(app: App | undefined, ours: (handle: unknown) => boolean): void {
  try {
    if (app === undefined || app === null || app[WARNED] === true) return
    const stack = routerStack(app)
    if (stack === undefined) return
    const at = stack.findIndex((layer) => ours(layer.handle))
    if (at < 0 || !(stack[at]!.regexp?.fast_slash === true || stack[at]!.slash === true)) return
    const early = stack.slice(0, at).filter((layer) => layer.route !== undefined)
    if (early.length === 0) return
    Object.defineProperty(app, WARNED, { value: true })
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

/**
 * The app's layers: Express 4 keeps its router in `_router` (made at the
 * first route or middleware; its `router` getter throws); Express 5's
 * `router` makes it when first read.
 */
function routerStack(app: App): Layer[] | undefined {
  let router: { stack?: unknown } | undefined
  try {
    router = (app['_router'] ?? app['router']) as { stack?: unknown } | undefined
  } catch {
    return undefined
  }
  return Array.isArray(router?.stack) ? (router.stack as Layer[]) : undefined
}

function describeRoute(route: NonNullable<Layer['route']>): string {
  const methods = Object.keys(route.methods ?? {}).filter((m) => route.methods![m] === true && m !== '_all')
  const path = typeof route.path === 'string' ? route.path : String(route.path)
  return `${methods.length === 0 ? 'ALL' : methods.map((m) => m.toUpperCase()).join('|')} ${path}`
}
