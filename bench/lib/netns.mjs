// Namespaces and child processes for the benches that need a dead peer.
// Everything made here is registered so that teardown() (normal end, error,
// SIGINT) and, as a last resort, the synchronous 'exit' hook remove it: a
// bench that leaves namespaces or 10,000-socket processes behind poisons the
// next run.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { jsonLinesChild } from './child.mjs'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)
const IP_TIMEOUT_MS = 5000

const liveNamespaces = new Set()
const liveChildren = new Set()
let counter = 0

/** Why namespaces cannot be used here, or null when they can. Never throws. */
export function netnsUnavailable() {
  if (process.platform !== 'linux') return `network namespaces need Linux (platform is ${process.platform})`
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return `network namespaces need root (uid is ${process.getuid?.()})`
  }
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore', timeout: IP_TIMEOUT_MS })
  } catch (error) {
    return `the \`ip\` command (iproute2) is not usable: ${error.message}`
  }
  // Root without CAP_SYS_ADMIN (some containers) cannot make namespaces.
  const probe = `bench-${process.pid}-probe`
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: ['ignore', 'ignore', 'pipe'], timeout: IP_TIMEOUT_MS })
  } catch (error) {
    return `\`ip netns add\` failed: ${String(error.stderr ?? '').trim() || error.message}`
  }
  try {
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore', timeout: IP_TIMEOUT_MS })
  } catch {
    // Left behind only if deletion itself fails; nothing more to do.
  }
  return null
}

export async function ip(args) {
  const { stdout } = await execFileAsync('ip', args, { timeout: IP_TIMEOUT_MS })
  return stdout
}

/** A uniquely named namespace with `lo` up, registered for teardown. */
export async function createNetns() {
  const name = `bench-${process.pid}-${++counter}`
  await ip(['netns', 'add', name])
  liveNamespaces.add(name)
  await ip(['-n', name, 'link', 'set', 'lo', 'up'])
  return name
}

export async function deleteNetns(name) {
  if (!liveNamespaces.delete(name)) return
  try {
    await ip(['netns', 'del', name])
  } catch {
    // Already gone.
  }
}

/**
 * Counters of the namespace's `lo`: packets sent (every segment of both ends
 * crosses it once) and packets dropped on receive (the per-CPU backlog,
 * net.core.netdev_max_backlog, overflowing when thousands of segments are
 * sent in one burst).
 */
export async function loCounters(ns) {
  const [link] = JSON.parse(await ip(['-j', '-s', '-n', ns, 'link', 'show', 'lo']))
  const stats = link.stats64 ?? link.stats
  return { packets: stats?.tx?.packets ?? null, dropped: stats?.rx?.dropped ?? null }
}

// `ip netns exec` setns()es then execs, and the shell execs node, so the pid
// we hold is node's own and /proc/<pid> describes the measured process. The
// shell only raises RLIMIT_NOFILE when the hard limit is too low for `fds`
// (root may raise it; node itself lifts the soft limit to the hard one).
const WRAPPER = 'h=$(ulimit -Hn); if [ "$h" != unlimited ] && [ "$h" -lt "$1" ]; then ulimit -n "$1" || exit 97; fi; shift; exec "$@"'

/**
 * Runs `node script ...args` in namespace `ns` with at least `fds` descriptors.
 * The script talks JSON lines: events on stdout, commands on stdin.
 */
export function spawnInNetns(ns, script, args, fds) {
  const child = spawn('ip', ['netns', 'exec', ns, 'sh', '-c', WRAPPER, 'sh', String(fds), process.execPath, script, ...args], {
    stdio: 'pipe',
  })
  return jsonLinesChild(child, script, liveChildren)
}

/**
 * SIGINT/SIGTERM: tears down, then exits 130. Returns `{ stopping }`, which
 * turns true when a signal came (a bench's loops check it to stop).
 */
export function teardownOnSignals() {
  const state = { stopping: false }
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      if (state.stopping) return
      state.stopping = true
      console.error(`\n${signal}: killing the children and deleting the namespaces...`)
      teardown().finally(() => process.exit(130))
    })
  }
  return state
}

/** Kills every child, then deletes every namespace made here. */
export async function teardown() {
  await Promise.all([...liveChildren].map((c) => c.close()))
  await Promise.all([...liveNamespaces].map((n) => deleteNetns(n)))
}

// Last resort when the run dies some other way: synchronous, so it works in 'exit'.
process.once('exit', () => {
  for (const c of liveChildren) c.killSync()
  for (const name of liveNamespaces) {
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: IP_TIMEOUT_MS })
    } catch {
      // Nothing more can be done while exiting.
    }
  }
})
