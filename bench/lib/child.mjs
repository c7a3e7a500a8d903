// A child process that talks JSON lines: events on its stdout ({"event": ...}),
// commands on its stdin ({"cmd": ...}, answered by an event of the same name).
// Used by every bench that drives servers, clients or load generators.
import { readJsonLines } from '@tcp-user-timeout/test-utils/json-lines'
import { execInNetns } from '@tcp-user-timeout/test-utils/netns'

const KILL_WAIT_MS = 5000

/**
 * Wraps a spawned `child` (stdio: 'pipe'). `name` labels its errors;
 * `live` is the caller's registry of children to tear down: the handle is
 * in it until closed. `next(event, ms)` waits for an event (rejecting on a
 * reply that carries `error`), `ask(cmd, ms)` sends a command and waits for
 * its reply; both reject when the child exits first or the time is up.
 */
export function jsonLinesChild(child, name, live) {
  const lines = readJsonLines(child, name, { failOnError: true })
  const { events, exited } = lines
  let closing
  const handle = {
    pid: child.pid,
    name,
    events,
    stderr: lines.stderr,
    /** The first event named `event` after index `from` of `events`. */
    next: lines.next,
    async ask(cmd, ms, extra = {}) {
      const from = events.length
      handle.send({ cmd, ...extra })
      return handle.next(cmd, ms, from)
    },
    send: lines.send,
    /** Asks the child to exit on its own (so --cpu-prof can write its profile); resolves with its exit. */
    async quit(ms) {
      handle.send({ cmd: 'quit' })
      const timer = new Promise((resolve) => setTimeout(resolve, ms).unref())
      await Promise.race([exited, timer])
      await handle.close()
      return lines.exit()
    },
    close() {
      closing ??= (async () => {
        if (!lines.exit()) {
          child.kill('SIGKILL')
          await Promise.race([exited, new Promise((r) => setTimeout(r, KILL_WAIT_MS).unref())])
        }
        live.delete(handle)
      })()
      return closing
    },
    killSync() {
      if (!lines.exit()) child.kill('SIGKILL')
    },
  }
  live.add(handle)
  return handle
}

const namespaced = new Set()

/**
 * `node script ...args` inside namespace `ns` (made by
 * @tcp-user-timeout/test-utils/netns, whose cleanupNetns() kills it), with
 * at least `fds` descriptors, as a JSON-lines child. The pid is node's own,
 * so /proc/<pid> describes the measured process.
 */
export function nodeInNetns(ns, script, args, fds) {
  const child = execInNetns(ns, [process.execPath, script, ...args], { fds })
  const handle = jsonLinesChild(child, script, namespaced)
  child.once('close', () => namespaced.delete(handle))
  return handle
}
