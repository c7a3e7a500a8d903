import type { Server } from 'node:http'

export type Framework = 'express' | 'koa' | 'fastify' | 'hono'

/** The frameworks with an adapter, in the order the tests and benches report them. */
export declare const FRAMEWORKS: readonly Framework[]

/**
 * The framework's own objects are typed `any` here: the fixture is plain
 * JavaScript shared by Express 4 and 5, and each caller knows its framework.
 */
type Native = any

export interface AppRoute {
  method: 'GET' | 'POST'
  /** A literal path. */
  path: string
  /**
   * The framework's handler arguments: Express (req, res), Koa (ctx),
   * Fastify (request, reply), Hono (c). Its result, or what its promise resolves to, is
   * the answer: Express sends a string with res.send and anything else with
   * res.json (unless the handler answered itself or the response is gone), Koa sets ctx.body,
   * Fastify sends it, Hono answers a string with c.text and anything else
   * with c.json (a Response as it is). A throw or rejection goes to the app's error handler.
   */
  handler: (...args: Native[]) => unknown
  /** Express, Koa and Hono: route middleware before the handler (e.g. the adapter's `override(...)`). */
  middleware?: readonly Native[]
  /** Fastify: the route's own options (config, preValidation, preHandler, ...). */
  options?: Record<string, unknown>
}

export interface AppOptions {
  /**
   * Puts the middleware in, as an application does: Express/Koa/Hono
   * `app.use(...)`, Fastify `app.register(...)` or a hook (awaited). Runs
   * before the body parser and the routes (Koa: after the error catcher).
   * A throw or rejection (a bad adapter option) rejects `createApp`, with
   * nothing left listening.
   */
  use?: (app: Native) => unknown
  /** A JSON body parser after `use`, leaving an application/octet-stream body unread for the handler. */
  json?: boolean
  routes: readonly AppRoute[]
  /** The error handler's answer, computed inside that handler. Absent: the framework's default. */
  onError?: (error: unknown) => { status: number; body: unknown }
  /** Express: the module (Express 4 or 5); default the installed `express`. */
  express?: Native
  /** Koa: false puts the one route in as the last middleware, with no router (Koa's own hello world). */
  router?: boolean
  /** Koa: the constructor's options, and `silent` (set on the instance). */
  koa?: Record<string, unknown> & { silent?: boolean }
  /** Fastify: the constructor's options. */
  fastify?: Record<string, unknown>
}

export interface ListeningApp {
  readonly port: number
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  readonly server: Server
  /** Ends every connection and closes the server. */
  close(): Promise<void>
}

/** Builds `framework`'s app from `options` and listens on 127.0.0.1 port 0. */
export declare function createApp(framework: Framework, options: AppOptions): Promise<ListeningApp>

/** Imports the framework now (createApp otherwise does on first use): a clock started later does not count it. */
export declare function loadFramework(framework: Framework): Promise<unknown>

/**
 * The `use` that puts the framework's adapter in as its README shows it:
 * Express/Koa/Hono `app.use(tcpUserTimeout(...args))`, Fastify
 * `app.register(tcpUserTimeout, ...args)`. Imports the adapter (and so the
 * core's client hooks) only now.
 */
export declare function useAdapter(framework: Framework, ...args: unknown[]): Promise<(app: Native) => unknown>
