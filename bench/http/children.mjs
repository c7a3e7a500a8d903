// Child processes of the HTTP benches (servers, upstream, load generator),
// each on the node binary the bench runs on, talking JSON lines: events on
// stdout, commands on stdin. Every child is registered so that teardown()
// (normal end, error, SIGINT) and, as a last resort, the synchronous 'exit'
// hook kill it: a server left listening would skew the next run's figures.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

const KILL_WAIT_MS = 5000
const live = new Set()

/**
 * Runs `node ...nodeArgs script ...args`. `next(event, ms)` waits for an
 * event, `ask(cmd, ms)` sends a command and waits for the reply of the same
 * name; both reject when the child exits first or the time is up.
 */
export function spawnChild(script, args = [], { nodeArgs = [] } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: 'pipe' })
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

  const name = `${script.split('/').pop()} ${args.join(' ')}`.trim()
  let closing
  const handle = {
    pid: child.pid,
    name,
    events,
    stderr: () => stderr,
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

export async function teardown() {
  await Promise.all([...live].map((c) => c.close()))
}

/** SIGINT/SIGTERM: kill every child, then exit 130. */
export function teardownOnSignals() {
  let stopping = false
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      if (stopping) return
      stopping = true
      console.error(`\n${signal}: killing the child processes...`)
      teardown().finally(() => process.exit(130))
    })
  }
}

process.once('exit', () => {
  for (const c of live) c.killSync()
})

/**
 * The child side: reads JSON-line commands from stdin, answers each with an
 * event of the same name (or `{ event, error }`), and exits when stdin
 * closes, so an orphan never outlives its parent.
 */
export function serveCommands(handlers) {
  const send = (message) => process.stdout.write(`${JSON.stringify(message)}\n`)
  createInterface({ input: process.stdin })
    .on('line', async (line) => {
      let msg
      try {
        msg = JSON.parse(line)
      } catch {
        return
      }
      if (msg.cmd === 'quit') return (handlers.quit ?? (() => process.exit(0)))()
      const handler = handlers[msg.cmd]
      try {
        if (!handler) throw new Error(`unknown command ${msg.cmd}`)
        send({ event: msg.cmd, ...(await handler(msg)) })
      } catch (error) {
        send({ event: msg.cmd, error: error?.stack ?? String(error) })
      }
    })
    .on('close', () => process.exit(0))
  return send
}
