// Network namespaces of our own (root), for the tests, the benches and the
// demo that need a dead peer: a namespace with only `lo`, processes run in it
// with `ip netns exec`, and `ip link set lo down` to cut them apart. Nothing
// outside the namespaces is touched. Every namespace and process made here is
// registered, so that cleanupNetns() (a bench's or the demo's end, a signal)
// and, as a last resort, the synchronous 'exit' hook remove it (a test closes
// its own children with its teardown: test/src/helpers/namespaces.ts): a run that leaves
// namespaces or processes behind poisons the next one. Plain JavaScript
// (typed by netns.d.ts): the benches and the demo run under plain `node`.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { readJsonLines } from './json-lines.mjs'

const execFileAsync = promisify(execFile)
const IP_TIMEOUT_MS = 5000

let support
let counter = 0
const liveNamespaces = new Set()
/** Every process started in a namespace: child → its SIGKILL-and-wait. */
const liveProcesses = new Map()

function ipSync(args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: IP_TIMEOUT_MS })
}

/** Runs `ip ...args`; resolves with its stdout. */
export async function ip(args) {
  const { stdout } = await execFileAsync('ip', args, { timeout: IP_TIMEOUT_MS })
  return stdout
}

/** Root, `ip` present, and `ip netns add` works (tried once, cached). Never throws. */
export function canUseNetns() {
  support ??= probe()
  return support
}

function probe() {
  if (process.platform !== 'linux')
    return { ok: false, reason: `network namespaces need Linux (platform is ${process.platform})` }
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { ok: false, reason: `network namespaces need root (uid is ${process.getuid?.()})` }
  }
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore', timeout: IP_TIMEOUT_MS })
  } catch (error) {
    return { ok: false, reason: `the \`ip\` command (iproute2) is not usable: ${error.message}` }
  }
  // Root without CAP_SYS_ADMIN (some containers) cannot make namespaces.
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

/** What `ip` (or any command run by execFile) said on stderr, else the error's message. */
export function stderrOf(error) {
  const text = error?.stderr ? String(error.stderr).trim() : ''
  return text || error?.message
}

/** Creates a uniquely named namespace (`<prefix>-<pid>-<n>`) with `lo` up; registered for teardown. */
export async function createNetns(prefix = 'tut') {
  const name = `${prefix}-${process.pid}-${++counter}`
  await ip(['netns', 'add', name])
  liveNamespaces.add(name)
  try {
    await setLoopback(name, 'up')
  } catch (error) {
    await deleteNetns(name)
    throw error
  }
  return name
}

/** Whether `name` was made here and not yet deleted. */
export function isLiveNetns(name) {
  return liveNamespaces.has(name)
}

/** Deletes a namespace made here (no-op if already gone). */
export async function deleteNetns(name) {
  if (!liveNamespaces.delete(name)) return
  try {
    await ip(['netns', 'del', name])
  } catch {
    // Already gone.
  }
}

/** `ip link set lo <state>` inside the namespace. */
export async function setLoopback(name, state) {
  await ip(['netns', 'exec', name, 'ip', 'link', 'set', 'lo', state])
}

/** Cuts every path inside the namespace: `ip link set lo down`. */
export function cutLoopback(name) {
  return setLoopback(name, 'down')
}

/**
 * Counters of the namespace's `lo`: packets sent (every segment of both ends
 * crosses it once) and packets dropped on receive (the per-CPU backlog,
 * net.core.netdev_max_backlog, overflowing when thousands of segments are
 * sent in one burst).
 */
export async function loCounters(name) {
  const [link] = JSON.parse(await ip(['-j', '-s', '-n', name, 'link', 'show', 'lo']))
  const stats = link.stats64 ?? link.stats
  return { packets: stats?.tx?.packets ?? null, dropped: stats?.rx?.dropped ?? null }
}

// Raises RLIMIT_NOFILE only when the hard limit is too low for $1 (root may
// raise it; node itself lifts the soft limit to the hard one), then execs.
const WITH_FDS =
  'h=$(ulimit -Hn); if [ "$h" != unlimited ] && [ "$h" -lt "$1" ]; then ulimit -n "$1" || exit 97; fi; shift; exec "$@"'

/**
 * Spawns `command` (an argv) inside namespace `name`, registered so that
 * cleanupNetns() and the 'exit' hook kill it. `ip netns exec` setns()es then
 * execs (and the `fds` shell execs too), so the pid is the command's own.
 * `options` are spawn's (stdio default 'pipe'), plus `fds`: at least that
 * many descriptors.
 */
export function execInNetns(name, command, { fds, ...options } = {}) {
  const argv = fds === undefined ? command : ['sh', '-c', WITH_FDS, 'sh', String(fds), ...command]
  const child = spawn('ip', ['netns', 'exec', name, ...argv], { stdio: 'pipe', ...options })
  const exited = new Promise((resolve) => child.once('close', resolve))
  const running = () => child.exitCode === null && child.signalCode === null
  const kill = async () => {
    if (running()) {
      child.kill('SIGKILL')
      await Promise.race([exited, new Promise((r) => setTimeout(r, IP_TIMEOUT_MS).unref())])
    }
    liveProcesses.delete(child)
  }
  liveProcesses.set(child, { kill, killSync: () => running() && child.kill('SIGKILL') })
  exited.then(() => liveProcesses.delete(child))
  return child
}

/**
 * Makes a namespace and runs `node script ...args` inside it. The script
 * talks JSON lines: events on stdout, commands on stdin.
 */
export async function spawnInNetns(script, args = []) {
  const ns = await createNetns()
  return startChild(ns, script, args, true)
}

/**
 * Runs `node script ...args` inside a namespace made here (`createNetns`)
 * that several children share. Its `close()` kills this child and leaves
 * the namespace, which its maker deletes (`deleteNetns`, `cleanupNetns`, or
 * at exit). Rejects for a namespace not made here.
 */
export async function spawnInExistingNetns(ns, script, args = []) {
  if (!liveNamespaces.has(ns))
    throw new Error(`spawnInExistingNetns: ${ns} is not a namespace made by createNetns() in this process`)
  return startChild(ns, script, args, false)
}

async function startChild(ns, script, args, ownsNamespace) {
  let child
  try {
    child = execInNetns(ns, [process.execPath, script, ...args])
  } catch (error) {
    if (ownsNamespace) await deleteNetns(ns)
    throw error
  }
  const lines = readJsonLines(child, `the child in ${ns}`)
  let closing
  const handle = {
    ns,
    events: lines.events,
    stderr: lines.stderr,
    next: (event, ms) => lines.next(event, ms),
    send: lines.send,
    async cut() {
      await cutLoopback(ns)
      const at = performance.now()
      handle.send({ cmd: 'cut' })
      return at
    },
    close() {
      closing ??= (async () => {
        await liveProcesses.get(child)?.kill()
        if (ownsNamespace) await deleteNetns(ns)
      })()
      return closing
    },
  }
  return handle
}

/** Kills every process and deletes every namespace made here (a bench's or the demo's end). */
export async function cleanupNetns() {
  await Promise.all([...liveProcesses.values()].map((p) => p.kill()))
  await Promise.all([...liveNamespaces].map((n) => deleteNetns(n)))
}

/**
 * SIGINT/SIGTERM: cleans up, then exits 130. Returns `{ stopping }`, which
 * turns true when a signal came (a bench's loops check it to stop).
 */
export function cleanupOnSignals() {
  const state = { stopping: false }
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      if (state.stopping) return
      state.stopping = true
      console.error(`\n${signal}: killing the children and deleting the namespaces...`)
      cleanupNetns().finally(() => process.exit(130))
    })
  }
  return state
}

// Last resort, when a run is interrupted: synchronous, so it works in 'exit'.
process.once('exit', () => {
  for (const p of liveProcesses.values()) p.killSync()
  for (const name of liveNamespaces) {
    try {
      ipSync(['netns', 'del', name])
    } catch {
      // Nothing more can be done while exiting.
    }
  }
})
