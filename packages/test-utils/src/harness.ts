import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import type supertest from 'supertest'
import type { TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'

/** The options every adapter takes; `Req` is what a `seconds` callback receives (req, ctx, request). */
export type AdapterOptions<Req> = TcpUserTimeoutOptions<Req>

/** What a framework-neutral handler sees of the request. */
export interface NeutralRequest {
  method: string
  /** Without the query string. */
  path: string
  headers: IncomingHttpHeaders
  /** As received on the wire: proves a header really came twice. */
  rawHeaders: string[]
  /** The framework's parsed JSON body (undefined on a GET). */
  body: unknown
  /**
   * The request body as a stream, for what the JSON parser leaves unread
   * (application/octet-stream: an upload the handler reads itself).
   */
  stream: Readable
}

export interface RouteSpec<Req> {
  method: 'GET' | 'POST'
  /** A literal path: the frameworks' pattern syntaxes differ, the contract needs none. */
  path: string
  /** The route's own policy (Express/Koa `override(...)`, Fastify `config.tcpUserTimeout`); absent: the app's. */
  override?: AdapterOptions<Req> | false
  /**
   * Called once per name in `harness.stages`, from the framework's own stage
   * (route middleware, Fastify hooks), before the handler, after the body is
   * parsed.
   */
  stage?: (name: string) => void | Promise<void>
  /** Its result is sent as JSON with status 200; a throw or rejection goes to the app's error handler. */
  handler: (req: NeutralRequest) => unknown
}

export interface AppSpec<Req> {
  /**
   * The arguments of the app-wide `tcpUserTimeout(...)` (Fastify: of
   * `register`): `[options]`, or `[]` to call it with none. Absent: the app
   * has no middleware at all.
   */
  use?: readonly [] | readonly [AdapterOptions<Req>]
  routes: readonly RouteSpec<Req>[]
  /** The JSON the framework's error handler answers with (status 500), computed inside that handler. */
  onError?: (error: unknown) => unknown
}

export type Client = ReturnType<typeof supertest>

export interface RunningApp {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string
  /** supertest bound to the listening server. */
  readonly client: Client
  /** Closes the server and every connection it holds. */
  close(): Promise<void>
}

/**
 * One per adapter: builds a real app from a framework-neutral spec. Every
 * app has a JSON body parser after the middleware (so the scope must survive
 * it) that leaves an application/octet-stream body unread for the handler,
 * and an error handler answering JSON.
 */
export interface AdapterHarness<Req> {
  readonly name: string
  /**
   * Builds the app and listens on 127.0.0.1 port 0. Rejects (having closed
   * whatever it opened) when the adapter rejects the configuration.
   */
  start(spec: AppSpec<Req>): Promise<RunningApp>
  /** A `seconds` callback that decides from the request's path (req.path, ctx.path, request.url). */
  secondsFromPath(choose: (path: string) => unknown): (req: Req) => number | undefined | false
  /** The framework's stages between the body parser and the handler, each exercised with `RouteSpec.stage`. */
  readonly stages: readonly string[]
  /**
   * Whether the error handler runs inside the request's scope. Koa's
   * try/catch middleware sits upstream of tcpUserTimeout, so its code after
   * `await next()` runs in the caller's context, outside the scope.
   */
  readonly errorHandlerInScope: boolean
  /** How a bad per-route policy names itself in the configuration error. */
  overrideName(route: { method: string; path: string }): string
}
