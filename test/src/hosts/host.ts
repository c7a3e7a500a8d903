/**
 * What the hosts/*.test.ts files share: when they run (Linux; root where the
 * host condition needs it), the Node flags of the permission model on this
 * Node, the read-only /tmp and `nobody` wrappers, and running binds.mjs and
 * checking what it reports.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, type TestContext } from 'vitest'
import { describeChild, resultOf, runCommand, type ChildRun } from '../helpers/child.js'

export const HOSTS_DIR = fileURLToPath(new URL('./', import.meta.url))
export const BINDS = join(HOSTS_DIR, 'binds.mjs')
export const NODE_MAJOR = Number(process.versions.node.split('.')[0])
/** The main thread and 4 workers, 10 sockets each (binds.mjs). */
export const WORKERS = 4
export const SOCKETS = 10
/** A child binding 50 sockets takes about a second; a first use that stalls (the old lock) takes 5 s more per wave. */
export const CHILD_TIMEOUT_MS = 45_000

const IN_CI = !['', '0', 'false', undefined].includes(process.env.CI)

/** Why these tests do not apply here, or undefined: TCP_USER_TIMEOUT, mount namespaces and setpriv are Linux's. */
export const notLinux = process.platform === 'linux' ? undefined : `Linux only (this is ${process.platform})`
/** Why the tests that change mounts or users cannot run, or undefined. */
export const notRoot =
  process.getuid?.() === 0
    ? undefined
    : `needs root (uid ${process.getuid?.()}): mount namespaces and switching to nobody`

/** Prints why a whole file is skipped (describe.skipIf prints nothing). */
export function announceSkip(file: string, why: string | undefined): void {
  if (why !== undefined) console.log(`[${file}] skipped: ${why}`)
}

/**
 * Skips the running test with `why` printed; in CI (which runs as root on
 * Linux) it fails instead: a skip there would silently prove nothing.
 */
export function skipUnlessCI(ctx: TestContext, file: string, why: string): void {
  if (IN_CI) throw new Error(`${why}; CI is set, so this must run here`)
  console.log(`[${file}] skipped "${ctx.task.name}": ${why}`)
  ctx.skip(why)
}

/**
 * Node's permission model with no filesystem write at all. Node 20 spells it
 * --experimental-permission. From Node 25 the network is under it too: without
 * --allow-net no socket can be opened (listen and connect throw
 * ERR_ACCESS_DENIED), so it is granted there; earlier versions reject the flag.
 */
export function permissionFlags({ addons, worker }: { addons: boolean; worker: boolean }): string[] {
  const flags = [NODE_MAJOR >= 22 ? '--permission' : '--experimental-permission', '--allow-fs-read=*']
  if (addons) flags.push('--allow-addons')
  if (worker) flags.push('--allow-worker')
  if (NODE_MAJOR >= 25) flags.push('--allow-net')
  return flags
}

/**
 * `command args` in a mount namespace of its own where /tmp is a read-only bind
 * of itself (the host's /tmp is untouched).
 */
export function readOnlyTmp(command: string, args: string[]): [string, string[]] {
  return [
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount -o bind,ro /tmp /tmp && exec "$0" "$@"',
      command,
      ...args,
    ],
  ]
}

/** `command args` as user and group nobody (65534), no supplementary groups. */
export function asNobody(command: string, args: string[]): [string, string[]] {
  return ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', command, ...args]]
}

/** The environment without the variables os.tmpdir() reads, plus `extra`. */
export function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of ['TMPDIR', 'TMP', 'TEMP']) delete env[name]
  return { ...env, ...extra }
}

/** A fresh directory under the system's temp folder (the test process's, not the child's host). */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Why `wrap` cannot run `node -e script` here (no CAP_SYS_ADMIN for mount, files nobody cannot read), or undefined. */
export async function cannotWrap(
  wrap: (command: string, args: string[]) => [string, string[]],
  what: string,
  script = 'process.exit(0)',
): Promise<string | undefined> {
  const [command, args] = wrap(process.execPath, ['-e', script])
  const run = await runCommand(command, args, { cwd: HOSTS_DIR, timeoutMs: 10_000 }).catch((error: Error) => ({
    code: null,
    signal: null,
    stdout: '',
    stderr: error.message,
    timedOut: false,
  }))
  return run.code === 0
    ? undefined
    : `${what} is not possible here: ${command} exited ${run.code ?? run.signal}: ${run.stderr.trim().slice(0, 300)}`
}

export interface ThreadReport {
  thread: string
  build: 'esm' | 'cjs'
  support: { supported: boolean; reason?: string }
  firstUseMs: number
  values: { want: number; got: unknown }[]
  errors: number
  warnings: string[]
  other?: { copy: string; ok: boolean; got?: unknown; error?: string; binary: string | null }
  explicit?: { ms: number; set: unknown; get: unknown }
}

export interface BindsResult {
  mode: string
  node: string
  tmp: { dir: string; writable: boolean; code?: string }
  threads: ThreadReport[]
  failures: unknown[]
  doomed?: {
    workers: number
    exits: Record<string, number>
    phase: Record<'before' | 'during' | 'after', number>
    byStrategy: Record<string, unknown>
  }
}

/** The child exited cleanly and printed its RESULT line. */
export function resultOfRun(label: string, run: ChildRun): BindsResult {
  expect(run.timedOut, describeChild(label, run)).toBe(false)
  expect(run.signal, describeChild(label, run)).toBeNull()
  expect(run.code, describeChild(label, run)).toBe(0)
  const result = resultOf<BindsResult>(run)
  expect(result, describeChild(`${label} reported nothing`, run)).toBeDefined()
  expect(result!.node).toBe(process.version)
  return result!
}

/**
 * Every thread (`threads`: 'main', 'worker 1'..) supported, each of its 10
 * sockets holding its scope's value, no error counted, no warning: in the
 * child and on its stderr. First-use durations are printed, never asserted.
 */
export function expectAllBound(label: string, run: ChildRun, result: BindsResult, threads: string[]): void {
  const line = result.threads.map((t) => `${t.thread} ${t.firstUseMs} ms`).join(', ')
  console.log(`${label} (node ${result.node}): first use ${line}`)
  expect(result.failures, describeChild(label, run)).toEqual([])
  expect(result.threads.map((t) => t.thread)).toEqual(threads)
  // Compared as [thread, support] pairs: a failure names the thread and its reason.
  expect(result.threads.map((t) => [t.thread, t.support])).toEqual(threads.map((t) => [t, { supported: true }]))
  expect(result.threads.map((t) => [t.thread, t.values.filter((v) => v.got !== v.want)])).toEqual(
    threads.map((t) => [t, []]),
  )
  expect(result.threads.map((t) => t.values.length)).toEqual(threads.map(() => SOCKETS))
  expect(result.threads.map((t) => [t.thread, t.errors])).toEqual(threads.map((t) => [t, 0]))
  expect(result.threads.flatMap((t) => t.warnings)).toEqual([])
  expect(run.stderr).not.toContain('TUT_WARN')
}

/** 'main', 'worker 1' .. 'worker n'. */
export function threadNames(workers: number): string[] {
  return ['main', ...Array.from({ length: workers }, (_, i) => `worker ${i + 1}`)]
}
