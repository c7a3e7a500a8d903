import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Teardown } from '@tcp-user-timeout/test-utils/teardown'

export interface ChildRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  timedOut: boolean
}

export interface RunOptions {
  cwd: string
  timeoutMs: number
  env?: NodeJS.ProcessEnv
}

/**
 * Runs `process.execPath` (the Node the suite runs on) with `args`. A crash
 * of the child (SIGSEGV, SIGABRT) shows as its signal instead of killing the
 * test runner.
 */
export function runNode(args: string[], options: RunOptions): Promise<ChildRun> {
  return runCommand(process.execPath, args, options)
}

/** Runs a command in its own process group; past `timeoutMs` the whole group is SIGKILLed. */
export function runCommand(command: string, args: string[], options: RunOptions): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid!, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }, options.timeoutMs)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, timedOut })
    })
  })
}

/** How a run ended, with the tail of its output: the message of a failed assertion. */
export function describeChild(what: string, r: ChildRun): string {
  const how = r.timedOut ? 'timed out' : r.signal !== null ? `was killed by ${r.signal}` : `exited with ${r.code}`
  return `${what} ${how}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-3000)}`
}

/** The object a child printed on its `RESULT {json}` line, or undefined. */
export function resultOf<T>(r: ChildRun): T | undefined {
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '))
  return line === undefined ? undefined : (JSON.parse(line.slice('RESULT '.length)) as T)
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

export interface NodeProcess {
  readonly child: ChildProcess
  /** Every line it printed, in order; stderr's prefixed `stderr: `. */
  readonly lines: string[]
  readonly exited: Promise<Exit>
  /**
   * The first stdout line matching `pattern`, printed or to come; rejects after `ms`, or when the process exits first.
   */
  line(pattern: RegExp, ms: number): Promise<RegExpExecArray>
  /** Its exit within `ms`; past that, SIGKILL and a rejection. */
  exit(ms: number): Promise<Exit>
  /** SIGTERM (unless it has exited), then `exit(ms)`. */
  stop(ms: number): Promise<Exit>
}

const live = new Set<ChildProcess>()
// Last resort, should the test process end before a teardown: no child outlives it.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL')
})

const STOP_MS = 10_000

/**
 * Starts `process.execPath` with `args`, a long-running process read line by
 * line; with `t` it is stopped (SIGTERM, SIGKILL if it lingers) unless it
 * has exited.
 */
export function startNode(
  t: Teardown,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; label?: string },
): NodeProcess {
  const child = spawn(process.execPath, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  live.add(child)
  const lines: string[] = []
  const stdout: string[] = []
  const waiters = new Set<() => void>()
  let exit: Exit | undefined
  const exited = new Promise<Exit>((resolve) => {
    child.once('close', (code, signal) => {
      live.delete(child)
      resolve((exit = { code, signal }))
      for (const w of waiters) w()
    })
  })
  let spawnError: Error | undefined
  child.once('error', (error) => {
    spawnError = error
    for (const w of waiters) w()
  })
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l)
    stdout.push(l)
    for (const w of waiters) w()
  })
  createInterface({ input: child.stderr }).on('line', (l) => lines.push(`stderr: ${l}`))
  const what = options.label ?? `node ${args.join(' ')}`
  const running = () => child.exitCode === null && child.signalCode === null

  const proc: NodeProcess = {
    child,
    lines,
    exited,
    line(pattern, ms) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const l of stdout) {
            const m = pattern.exec(l)
            if (m !== null) {
              finish(() => resolve(m))
              return
            }
          }
          if (spawnError !== undefined) {
            finish(() => reject(new Error(`${what}: could not start: ${spawnError!.message}`)))
            return
          }
          if (exit !== undefined) {
            finish(() =>
              reject(
                new Error(
                  `${what} exited (code ${exit!.code}, signal ${exit!.signal}) ` +
                    `before printing ${pattern}\n${lines.join('\n')}`,
                ),
              ),
            )
            return
          }
        }
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(new Error(`${what}: no line matching ${pattern} within ${ms} ms\n${lines.join('\n')}`)),
            ),
          ms,
        )
        const finish = (settle: () => void) => {
          clearTimeout(timer)
          waiters.delete(check)
          settle()
        }
        waiters.add(check)
        check()
      })
    },
    async exit(ms) {
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)))
      const result = await Promise.race([exited, late])
      clearTimeout(timer)
      if (result !== 'late') return result
      child.kill('SIGKILL')
      await exited
      throw new Error(`${what} did not exit within ${ms} ms\n${lines.join('\n')}`)
    },
    stop(ms) {
      if (running()) child.kill('SIGTERM')
      return proc.exit(ms)
    },
  }
  t.add(async () => {
    if (running()) await proc.stop(STOP_MS).catch(() => {})
  })
  return proc
}
