// A child process that talks JSON lines: events on its stdout ({"event": ...}),
// commands on its stdin ({"cmd": ...}, answered by an event of the same name).
// Used by every bench that drives servers, clients or load generators.
import { createInterface } from 'node:readline'
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
  const events = []
  const waiters = new Set()
  let stderr = ''
  let exit
  const exited = new Promise((resolve) => {
    child.once('close', (code, signal) => {
      exit = { code, signal }
      for (const w of waiters) w()
      resolve(exit)
    })
  })
  child.once('error', (error) => {
    stderr += `\n[spawn error] ${error.message}`
  })
  child.stdin.on('error', () => {})
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (d) => {
    if (stderr.length < 64 * 1024) stderr += d
  })
  createInterface({ input: child.stdout }).on('line', (line) => {
    let parsed
    try {
      parsed = JSON.parse(line)
    } catch {
      stderr += `\n[stdout, not JSON] ${line}`
      return
    }
    if (parsed && typeof parsed.event === 'string') {
      events.push(parsed)
      for (const w of waiters) w()
    }
  })

  let closing
  const handle = {
    pid: child.pid,
    name,
    events,
    stderr: () => stderr,
    /** The first event named `event` after index `from` of `events`. */
    next(event, ms, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find((e, i) => i >= from && e.event === event)
          if (found) return finish(() => (found.error ? reject(new Error(`${name}: ${found.error}`)) : resolve(found)))
          if (exit) {
            return finish(() => reject(new Error(`${name} exited (${exit.code ?? exit.signal}) before "${event}"; stderr: ${stderr.trim()}`)))
          }
        }
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no "${event}" from ${name} within ${ms} ms; stderr: ${stderr.trim()}`))),
          ms,
        )
        function finish(settle) {
          clearTimeout(timer)
          waiters.delete(check)
          settle()
        }
        waiters.add(check)
        check()
      })
    },
    async ask(cmd, ms, extra = {}) {
      const from = events.length
      handle.send({ cmd, ...extra })
      return handle.next(cmd, ms, from)
    },
    send(message) {
      if (!exit && child.stdin.writable) child.stdin.write(`${JSON.stringify(message)}\n`)
    },
    /** Asks the child to exit on its own (so --cpu-prof can write its profile); resolves with its exit. */
    async quit(ms) {
      handle.send({ cmd: 'quit' })
      const timer = new Promise((resolve) => setTimeout(resolve, ms).unref())
      await Promise.race([exited, timer])
      await handle.close()
      return exit
    },
    close() {
      closing ??= (async () => {
        if (!exit) {
          child.kill('SIGKILL')
          await Promise.race([exited, new Promise((r) => setTimeout(r, KILL_WAIT_MS).unref())])
        }
        live.delete(handle)
      })()
      return closing
    },
    killSync() {
      if (!exit) child.kill('SIGKILL')
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
