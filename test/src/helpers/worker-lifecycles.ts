/**
 * The 200-worker-lifecycle run (workers/main.mjs) and what it must report,
 * shared by workers.test.ts (a plain host) and the hosts/ tests (a read-only
 * /tmp, the permission model): the same script, the same expectations.
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import { describeChild, resultOf, type ChildRun } from './child.js'

export const LIFECYCLES_DIR = fileURLToPath(new URL('../workers/', import.meta.url))
export const LIFECYCLES_SCRIPT = join(LIFECYCLES_DIR, 'main.mjs')
export const WORKERS = 200
export const SOCKETS_PER_WORKER = 20
export const LIFECYCLES_TIMEOUT_MS = 60_000
export const MODES = [
  ['before', 'the main thread imports and uses the core before the workers start'],
  ['during', 'the main thread imports and uses the core while the workers run'],
  ['never', 'the main thread never loads the core'],
] as const
export type Mode = (typeof MODES)[number][0]

interface Result {
  mode: string
  node: string
  completed: number
  builds: { esm: number; cjs: number }
  values: number
  wrong: unknown[]
  unsupported: unknown[]
  failures: unknown[]
  main: { support: { supported: boolean }; values: number; wrong: unknown[] } | null
  ms: number
}

/** The arguments of a run in `mode` (`node ...flags <these>`), and its environment. */
export function lifecycleArgs(mode: Mode): string[] {
  return [LIFECYCLES_SCRIPT, mode]
}

export function lifecycleEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  // The child reports what is still running this long before the kill.
  return { ...env, WORKERS: String(WORKERS), DEADLINE_MS: String(LIFECYCLES_TIMEOUT_MS - 5_000) }
}

/** Every lifecycle completed cleanly, every thread supported, every value read back right; the process exited 0. */
export function expectLifecycles(label: string, mode: Mode, run: ChildRun): void {
  expect(run.timedOut, describeChild(label, run)).toBe(false)
  expect(run.signal, describeChild(label, run)).toBeNull()
  expect(run.code, describeChild(label, run)).toBe(0)
  const result = resultOf<Result>(run)
  expect(result, describeChild(`${label} reported nothing`, run)).toBeDefined()
  const r = result!
  expect(r.node).toBe(process.version)
  expect(r.failures).toEqual([])
  expect(r.completed).toBe(WORKERS)
  expect(r.builds).toEqual({ esm: WORKERS / 2, cjs: WORKERS / 2 })
  // A count, with the first two: a host where the binding is lost loses it in all 200.
  expect(
    r.unsupported.length,
    `unsupported in ${r.unsupported.length} workers: ${JSON.stringify(r.unsupported.slice(0, 2))}`,
  ).toBe(0)
  expect(r.values).toBe(WORKERS * SOCKETS_PER_WORKER)
  expect(r.wrong).toEqual([])
  if (mode === 'never') {
    expect(r.main).toBeNull()
  } else {
    expect(r.main).toEqual({ support: { supported: true }, values: SOCKETS_PER_WORKER, wrong: [] })
  }
  console.log(`${label} (node ${r.node}): ${r.completed} lifecycles, ${r.values} sockets read back, ${r.ms} ms`)
}
