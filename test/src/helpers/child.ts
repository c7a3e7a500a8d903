import { spawn } from 'node:child_process'

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
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
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
