/**
 * The dead-peer partition, which needs root: a network namespace of our own
 * with only `lo`, a child Node process inside it running a server and a
 * client on 127.0.0.1, and `ip link set lo down` to cut them apart. Nothing
 * outside the namespace is touched. Every namespace and child made here is
 * torn down by `NetnsChild.close()`, by `cleanupNetns()` (afterAll) and, as a
 * last resort, when the test process exits.
 */
import { execFile, execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { createInterface } from 'node:readline'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)
const IP_TIMEOUT_MS = 5000

export interface NetnsSupport {
  ok: boolean
  reason?: string
}

let support: NetnsSupport | undefined
let counter = 0
const liveNamespaces = new Set<string>()
const liveChildren = new Map<NetnsChild, () => void>()

function uniqueName(): string {
  return `tut-${process.pid}-${++counter}`
}

function ipSync(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: IP_TIMEOUT_MS })
}

async function ip(args: string[]): Promise<void> {
  await execFileAsync('ip', args, { timeout: IP_TIMEOUT_MS })
}

/** Root, `ip` present, and `ip netns add` works (tried once, cached). Never throws. */
export function canUseNetns(): NetnsSupport {
  if (support) return support
  support = probe()
  return support
}

function probe(): NetnsSupport {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (platform is ${process.platform})` }
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { ok: false, reason: `network namespaces need root (uid is ${process.getuid?.()})` }
  }
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore', timeout: IP_TIMEOUT_MS })
  } catch (error) {
    return { ok: false, reason: `the \`ip\` command (iproute2) is not usable: ${(error as Error).message}` }
  }
  const name = `tut-${process.pid}-probe`
  try {
    ipSync(['netns', 'add', name])
  } catch (error) {
    return { ok: false, reason: `\`ip netns add\` failed: ${stderrOf(error)}` }
  }
  try {
    ipSync(['netns', 'del', name])
  } catch {
    // Left behind only if deletion itself fails; nothing more to do.
  }
  return { ok: true }
}

function stderrOf(error: unknown): string {
  const stderr = (error as { stderr?: Buffer | string }).stderr
  const text = stderr ? String(stderr).trim() : ''
  return text || (error as Error).message
}

/** Creates a uniquely named namespace with `lo` up; registered for teardown. */
export async function createNetns(): Promise<string> {
  const name = uniqueName()
  await ip(['netns', 'add', name])
  liveNamespaces.add(name)
  try {
    await ip(['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up'])
  } catch (error) {
    await deleteNetns(name)
    throw error
  }
  return name
}

/** Deletes a namespace made here (no-op if already gone). */
export async function deleteNetns(name: string): Promise<void> {
  if (!liveNamespaces.delete(name)) return
  try {
    await ip(['netns', 'del', name])
  } catch {
    // Already gone.
  }
}

/** Cuts every path inside the namespace: `ip link set lo down`. */
export async function cutLoopback(name: string): Promise<void> {
  await ip(['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'down'])
}

export type ChildEvent = { event: string; [key: string]: unknown }

export interface NetnsChild {
  readonly ns: string
  readonly events: ChildEvent[]
  /** Everything the child wrote to stderr (for failure messages). */
  readonly stderr: () => string
  /** The first event (already received or coming) with this name; rejects after `ms`, or if the child exits first. */
  next(event: string, ms: number): Promise<ChildEvent>
  /** Writes one JSON line to the child's stdin. */
  send(message: object): void
  /** Cuts `lo` in the namespace, then tells the child `{ "cmd": "cut" }`. Resolves with `performance.now()` of the cut. */
  cut(): Promise<number>
  /** Kills the child, waits for it to exit, deletes the namespace (unless shared: spawnInExistingNetns). Idempotent. */
  close(): Promise<void>
}

/**
 * Makes a namespace and runs `node script ...args` inside it. The script
 * talks JSON lines: events on stdout, commands on stdin.
 */
export async function spawnInNetns(script: string, args: string[] = []): Promise<NetnsChild> {
  const ns = await createNetns()
  return startChild(ns, script, args, true)
}

/**
 * Runs `node script ...args` inside a namespace made here (`createNetns`)
 * that several children share. Its `close()` kills this child and leaves
 * the namespace, which its maker deletes (`deleteNetns`, `cleanupNetns`, or
 * at exit). Rejects for a namespace not made here.
 */
export async function spawnInExistingNetns(ns: string, script: string, args: string[] = []): Promise<NetnsChild> {
  if (!liveNamespaces.has(ns)) throw new Error(`spawnInExistingNetns: ${ns} is not a namespace made by createNetns() in this process`)
  return startChild(ns, script, args, false)
}

async function startChild(ns: string, script: string, args: string[], ownsNamespace: boolean): Promise<NetnsChild> {
  let child: ChildProcessWithoutNullStreams
  try {
    // `ip netns exec` setns()es then execs: the pid is node's own.
    child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, ...args], { stdio: 'pipe' })
  } catch (error) {
    if (ownsNamespace) await deleteNetns(ns)
    throw error
  }
  const events: ChildEvent[] = []
  const waiters = new Set<() => void>()
  let stderr = ''
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined
  const exited = new Promise<void>((resolve) => {
    child.once('close', (code, signal) => {
      exit = { code, signal }
      for (const w of waiters) w()
      resolve()
    })
  })
  child.once('error', (error) => {
    stderr += `\n[spawn error] ${error.message}`
  })
  child.stdin.on('error', () => {})
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (d: string) => {
    if (stderr.length < 64 * 1024) stderr += d
  })
  createInterface({ input: child.stdout }).on('line', (line) => {
    let parsed: unknown
    try {
      parsed = JSON.parse(line)
    } catch {
      stderr += `\n[stdout, not JSON] ${line}`
      return
    }
    if (parsed && typeof parsed === 'object' && typeof (parsed as ChildEvent).event === 'string') {
      events.push(parsed as ChildEvent)
      for (const w of waiters) w()
    }
  })

  let closing: Promise<void> | undefined
  const handle: NetnsChild = {
    ns,
    events,
    stderr: () => stderr,
    next(event, ms) {
      return new Promise<ChildEvent>((resolve, reject) => {
        const check = () => {
          const found = events.find((e) => e.event === event)
          if (found) return finish(() => resolve(found))
          if (exit) {
            return finish(() =>
              reject(new Error(`child in ${ns} exited (${exit!.code ?? exit!.signal}) before "${event}"; stderr: ${stderr.trim()}`)),
            )
          }
        }
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no "${event}" from the child in ${ns} within ${ms} ms; events: ${JSON.stringify(events)}; stderr: ${stderr.trim()}`))),
          ms,
        )
        function finish(settle: () => void) {
          clearTimeout(timer)
          waiters.delete(check)
          settle()
        }
        waiters.add(check)
        check()
      })
    },
    send(message) {
      if (!exit && child.stdin.writable) child.stdin.write(`${JSON.stringify(message)}\n`)
    },
    async cut() {
      await cutLoopback(ns)
      const at = performance.now()
      handle.send({ cmd: 'cut' })
      return at
    },
    close() {
      closing ??= (async () => {
        if (!exit) {
          child.kill('SIGKILL')
          await Promise.race([exited, new Promise((r) => setTimeout(r, IP_TIMEOUT_MS).unref())])
        }
        liveChildren.delete(handle)
        if (ownsNamespace) await deleteNetns(ns)
      })()
      return closing
    },
  }
  liveChildren.set(handle, () => {
    if (!exit) child.kill('SIGKILL')
  })
  return handle
}

/** Kills every child and deletes every namespace made here (for afterAll). */
export async function cleanupNetns(): Promise<void> {
  await Promise.all([...liveChildren.keys()].map((c) => c.close()))
  await Promise.all([...liveNamespaces].map((n) => deleteNetns(n)))
}

// Last resort, when a run is interrupted: synchronous, so it works in 'exit'.
process.once('exit', () => {
  for (const kill of liveChildren.values()) kill()
  for (const name of liveNamespaces) {
    try {
      ipSync(['netns', 'del', name])
    } catch {
      // Nothing more can be done while exiting.
    }
  }
})
