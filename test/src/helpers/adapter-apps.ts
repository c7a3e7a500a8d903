/**
 * The adapter kernel tests' side of kernel/fixtures/adapter-apps.mjs (the
 * one app, for Express, Koa and Fastify, that both the in-process wedge test
 * and the namespaced partition test run): its types, a loader, a log of
 * the app's reports that can be awaited, and a plain HTTP client.
 *
 * Times are epoch ms with sub-ms precision (`epochNow()`), as the fixtures
 * report them, so that a child process's moments compare with the test's.
 */
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { Framework } from '@tcp-user-timeout/test-utils/apps'

export { FRAMEWORKS, type Framework } from '@tcp-user-timeout/test-utils/apps'

const fixtures = new URL('../kernel/fixtures/', import.meta.url)
/** The app library (imported in-process). */
export const APPS_MODULE = fileURLToPath(new URL('adapter-apps.mjs', fixtures))
/** The scripts run inside network namespaces. */
export const APP_SCRIPT = fileURLToPath(new URL('adapter-app.mjs', fixtures))
export const UPSTREAM_SCRIPT = fileURLToPath(new URL('adapter-upstream.mjs', fixtures))
export const CLIENT_SCRIPT = fileURLToPath(new URL('adapter-client.mjs', fixtures))

/** The adapter's budget in both tests: tcpUserTimeout({ seconds: BUDGET_S }). */
export const BUDGET_S = 2
export const BUDGET_MS = BUDGET_S * 1000
/** With the adapter: the error answer arrives within this long after the upstream fails (the cut, the wedge). */
export const ANSWER_WITHIN_MS = BUDGET_MS + 1500
/** Without it: still no answer this long after. */
export const HANGING_AT_MS = BUDGET_MS + 5000
/** How much later than allowed an answer is still awaited, so that a failure can say when it came. */
export const GRACE_MS = 2000

export function epochNow(): number {
  return performance.timeOrigin + performance.now()
}

/** `performance.now()` (this process) as an epoch time. */
export function toEpoch(now: number): number {
  return performance.timeOrigin + now
}

/**
 * Calls `attempt(ms)` (which resolves null when nothing came within `ms`)
 * until it yields something or the epoch time `deadline` has passed. Timers
 * measure from the event loop's cached clock and can fire a little early,
 * so a null before the deadline is retried (at most 5 times).
 */
export async function awaitUntil<T>(deadline: number, attempt: (ms: number) => Promise<T | null>): Promise<T | null> {
  let result: T | null = null
  for (let i = 0; i < 5 && result === null && epochNow() < deadline; i++) {
    result = await attempt(Math.ceil(deadline - epochNow()) + 1)
  }
  return result
}

export interface Pace {
  chunkBytes: number
  tickMs: number
  maxChunks: number
}

/** An event the app reported, with its epoch time `t`. */
export type Report = { event: string; t: number; [key: string]: unknown }

export interface StartAppOptions {
  framework: Framework
  /** true: the adapter with `{ seconds }`; false: the same app without it. */
  middleware: boolean
  seconds?: number
  upstream: { host: string; port: number }
  pace: Pace
  /** Sent to the upstream as x-relay-tag. */
  tag: string
  report: (event: string, fields: Record<string, unknown>) => void
}

export interface RunningApp {
  readonly port: number
  close(): Promise<void>
}

export interface AdapterApps {
  FRAMEWORKS: readonly Framework[]
  PACE: { readonly partition: Pace; readonly wedge: Pace }
  STALL_MS: number
  startApp(options: StartAppOptions): Promise<RunningApp>
}

/** Imports the app library into this process (express, koa, fastify and the adapters with it). */
export async function loadAdapterApps(): Promise<AdapterApps> {
  // A computed specifier: the module is plain JavaScript, typed by AdapterApps above.
  const specifier: string = APPS_MODULE
  return (await import(specifier)) as AdapterApps
}

/** The reports of one app, in order; each can be awaited. */
export class ReportLog {
  readonly reports: Report[] = []
  private readonly waiters = new Set<() => void>()

  /** Pass as `report` to startApp. */
  readonly report = (event: string, fields: Record<string, unknown>): void => {
    this.reports.push({ t: epochNow(), ...fields, event })
    for (const w of this.waiters) w()
  }

  find(event: string): Report | undefined {
    return this.reports.find((r) => r.event === event)
  }

  /** The first report named `event` (already in or coming); rejects after `ms`. */
  next(event: string, ms: number): Promise<Report> {
    return new Promise<Report>((resolve, reject) => {
      const check = () => {
        const found = this.find(event)
        if (found) finish(() => resolve(found))
      }
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(new Error(`no "${event}" report within ${ms} ms; reports: ${JSON.stringify(this.reports)}`)),
          ),
        ms,
      )
      const finish = (settle: () => void) => {
        clearTimeout(timer)
        this.waiters.delete(check)
        settle()
      }
      this.waiters.add(check)
      check()
    })
  }
}

export interface Answer {
  status: number
  body: unknown
  /** Epoch ms when the whole response had arrived. */
  t: number
}

export interface Exchange {
  /** The whole response, or null if none arrived within `ms` (a failed request rejects). */
  within(ms: number): Promise<Answer | null>
  /** Aborts the request (idempotent). */
  destroy(): void
}

/** GET `url` on a connection of its own (no agent pool, no timeout of its own); starts now. */
export function get(url: string): Exchange {
  let destroyed = false
  const req = http.get(url, { agent: false })
  const answer = new Promise<Answer>((resolve, reject) => {
    req.once('error', reject)
    req.once('response', (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        text += d
      })
      res.once('error', reject)
      res.once('end', () => {
        let body: unknown = text
        try {
          body = JSON.parse(text)
        } catch {
          // Not JSON: kept as text.
        }
        resolve({ status: res.statusCode ?? 0, body, t: epochNow() })
      })
    })
  })
  // Once destroyed on purpose, a late error is expected, never unhandled.
  answer.catch(() => {})
  return {
    within(ms) {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<null>((resolve) => {
        timer = setTimeout(() => resolve(null), Math.max(0, ms))
      })
      return Promise.race([answer, late]).finally(() => clearTimeout(timer))
    },
    destroy() {
      if (destroyed) return
      destroyed = true
      req.destroy()
    },
  }
}
