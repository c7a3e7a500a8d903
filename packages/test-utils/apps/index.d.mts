import type { AsyncLocalStorage } from 'node:async_hooks'
import type { Server } from 'node:http'
import type { TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import type { NeutralRequest } from '../src/harness.js'

/**
 * The framework's own objects are typed `any` here: the fixtures are plain
 * JavaScript (one of them shared by Express 4 and 5), and each caller knows
 * its framework.
 */
type Native = any

/**
 * 'http': an HTTP framework's middleware, whose app createApp builds;
 * 'call': an RPC server's handlers (callFixture); 'job': a job runner's
 * wrapper, which has no app.
 */
export type AdapterKind = 'http' | 'call' | 'job'

/** What an adapter's fixture module declares of its package (`export const adapter`). */
export interface AdapterFacts {
  /** The fixture module's name, which names the adapter in tests, benches and reports. */
  readonly name: string
  readonly kind: AdapterKind
  /** The npm package (its folder under packages/). */
  readonly package: string
  /** What its entry exports, exactly: the packaging test checks both builds of the packed package against it. */
  readonly exports: { readonly functions: readonly string[]; readonly defaultIs?: string }
  /** Its runnable example: examples/<example>. */
  readonly example: string
  /** Packages the fixture imports beyond the adapter's peers (the packaging test installs them beside the tarballs). */
  readonly needs?: readonly string[]
  /** Its import runs code (package.json `sideEffects: true`); an adapter is otherwise pure until called. */
  readonly sideEffects?: boolean
}

/** Every adapter, in the order of their names: read from this folder, one module each. */
export declare const ADAPTERS: readonly AdapterFacts[]

/** An adapter's name: its fixture module's. */
export type Framework = string

/** The names of the HTTP frameworks' adapters (kind 'http'), in the order the tests and benches report them. */
export declare const FRAMEWORKS: readonly Framework[]

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
  /** The route's own policy, put in as the adapter's README shows (`override(...)`, `config.tcpUserTimeout`). */
  override?: TcpUserTimeoutOptions<Native> | false
  /** Called once per name in the fixture's `contract.stages`, from the framework's own stage, before the handler. */
  stage?: (name: string) => void | Promise<void>
  /** Express, Koa and Hono: more route middleware before the handler. */
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

/** What the adapter contract needs of a framework beyond its app (test-utils' harnessFor). */
export interface ContractFacts {
  /** The framework's stages between the body parser and the handler, where a route's `stage` runs. */
  readonly stages: readonly string[]
  /** Whether the error handler runs inside the request's scope (Koa's catcher sits upstream of the middleware). */
  readonly errorHandlerInScope: boolean
  /** How a bad per-route policy names itself in the configuration error. */
  overrideName(route: { method: string; path: string }): string
  /** Options every contract app of this framework takes. */
  readonly app?: Partial<AppOptions>
}

/** An HTTP framework's fixture module. */
export interface HttpFixture {
  readonly adapter: Omit<AdapterFacts, 'name'>
  readonly contract: ContractFacts
  start(options: AppOptions): Promise<ListeningApp>
  load(): Promise<unknown>
  /** The adapter's line in an app, as its README writes it, from the adapter's module. */
  use(module: Native, ...args: unknown[]): (app: Native) => unknown
  /** A bare AsyncLocalStorage.run where `use` puts the adapter: the floor any per-request scope pays (benches). */
  als(app: Native, storage: AsyncLocalStorage<unknown>, store: unknown): void
  /** What a framework-neutral handler sees of the request: from a handler's first argument or a seconds callback's. */
  request(native: Native): NeutralRequest
}

/** An app of a call adapter: one call, with a deadline in ms from now and metadata (each value one entry). */
export interface CallApp {
  call(options?: { deadlineMs?: number; metadata?: Record<string, readonly string[]> }): Promise<unknown>
  close(): Promise<void>
}

export interface CallSpec {
  /** The adapter's line (useAdapter); absent: no adapter. */
  use?: ((implementation: Native) => unknown) | undefined
  handler: (call: Native) => unknown
}

/** A call adapter's fixture module (its own exports are typed by its .d.mts). */
export interface CallFixture {
  readonly adapter: Omit<AdapterFacts, 'name'>
  load(): Promise<unknown>
  /** The adapter's line, as its README writes it: the implementation wrapped. */
  use(module: Native, ...args: unknown[]): (implementation: Native) => unknown
  /** One method answering `handler(call)`'s result, through `use`; rejects when `use` throws (a bad option). */
  serveOne(spec: CallSpec): Promise<CallApp>
}

export declare function httpFixture(framework: Framework): HttpFixture
export declare function callFixture(name: Framework): CallFixture

/** Builds `framework`'s app from `options` and listens on 127.0.0.1 port 0. */
export declare function createApp(framework: Framework, options: AppOptions): Promise<ListeningApp>

/** Imports the framework now (createApp otherwise does on first use): a clock started later does not count it. */
export declare function loadFramework(framework: Framework): Promise<unknown>

/**
 * The `use` that puts the adapter in as its README shows it (its fixture's
 * `use`: Express/Koa/Hono `app.use(tcpUserTimeout(...args))`, Fastify
 * `app.register(tcpUserTimeout, ...args)`, gRPC the implementation through
 * `tcpUserTimeout(implementation, ...args)`). Imports the adapter (and so
 * the core's client hooks) only now.
 */
export declare function useAdapter(name: Framework, ...args: unknown[]): Promise<(app: Native) => unknown>
