// Types for upstream.mjs, for the examples written in TypeScript (examples/nestjs).

/** The built-in stand-in upstream, or the one UPSTREAM_URL names. */
export function upstreamFromEnv(): Promise<{ url: string; close(): void }>
/** GET (or POST `body` as JSON) `path` on the upstream, giving up after `timeoutMs`; resolves with its JSON. */
export function callUpstream(baseUrl: string, path: string, body: unknown, timeoutMs: number): Promise<unknown>
/** The status and code to answer when the upstream call failed. */
export function failure(err: unknown): { status: number; code: string }
/** On SIGTERM/SIGINT: `close()`, then exit. */
export function exitOnSignals(name: string, close: () => Promise<void>): void
/** Stops `server` taking connections, lets requests in flight finish, then closes `upstream`. */
export function closeHttp(server: import('node:http').Server, upstream: { close(): unknown }): Promise<void>
