// A child process that talks JSON lines: events on its stdout
// ({"event": ...}), commands on its stdin. What the namespaced children of
// netns.mjs and the benches' children (bench/lib/child.mjs) are read with.
// Plain JavaScript (typed by json-lines.d.ts): the benches run under `node`.
import { createInterface } from 'node:readline'

/**
 * Reads a spawned `child` (stdio: 'pipe'). `name` labels its errors. With
 * `failOnError`, an awaited event that carries `error` (a reply to a
 * command that failed) rejects.
 */
export function readJsonLines(child, name, { failOnError = false } = {}) {
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
    if (parsed && typeof parsed === 'object' && typeof parsed.event === 'string') {
      events.push(parsed)
      for (const w of waiters) w()
    }
  })

  return {
    events,
    exited,
    exit: () => exit,
    stderr: () => stderr,
    next(event, ms, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find((e, i) => i >= from && e.event === event)
          if (found)
            return finish(() =>
              failOnError && found.error ? reject(new Error(`${name}: ${found.error}`)) : resolve(found),
            )
          if (exit) {
            return finish(() =>
              reject(
                new Error(`${name} exited (${exit.code ?? exit.signal}) before "${event}"; stderr: ${stderr.trim()}`),
              ),
            )
          }
        }
        const timer = setTimeout(
          () =>
            finish(() =>
              reject(
                new Error(
                  `no "${event}" from ${name} within ${ms} ms; ` +
                    `events: ${JSON.stringify(events)}; stderr: ${stderr.trim()}`,
                ),
              ),
            ),
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
    send(message) {
      if (!exit && child.stdin.writable) child.stdin.write(`${JSON.stringify(message)}\n`)
    },
  }
}
