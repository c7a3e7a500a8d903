// Child processes of the HTTP benches (servers, upstream, load generator),
// each on the node binary the bench runs on, talking JSON lines: events on
// stdout, commands on stdin. Every child is registered so that teardown()
// (normal end, error, SIGINT) and, as a last resort, the synchronous 'exit'
// hook kill it: a server left listening would skew the next run's figures.
import { spawn, spawnSync } from 'node:child_process'
import os from 'node:os'
import { createInterface } from 'node:readline'
import { jsonLinesChild } from '../lib/child.mjs'

const live = new Set()

/**
 * Runs `node ...nodeArgs script ...args`, on the CPUs `cpu` names (taskset)
 * when given. `next(event, ms)` waits for an event, `ask(cmd, ms)` sends a
 * command and waits for the reply of the same name; both reject when the
 * child exits first or the time is up.
 */
export function spawnChild(script, args = [], { nodeArgs = [], cpu } = {}) {
  const argv = [process.execPath, ...nodeArgs, script, ...args]
  // taskset execs node: the pid is node's own.
  const child =
    cpu === undefined
      ? spawn(argv[0], argv.slice(1), { stdio: 'pipe' })
      : spawn('taskset', ['-c', cpu, ...argv], { stdio: 'pipe' })
  return jsonLinesChild(child, `${script.split('/').pop()} ${args.join(' ')}`.trim(), live)
}

export async function teardown() {
  await Promise.all([...live].map((c) => c.close()))
}

/** Runs a bench's main(): an error is printed and fails the exit code; the children go either way. */
export async function runMain(main) {
  try {
    await main()
  } catch (error) {
    console.error(error)
    process.exitCode = 1
  } finally {
    await teardown()
  }
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

/**
 * CPUs for a server and its load generator, apart, so that neither takes
 * the other's CPU slices: a throughput figure then moves with the server's
 * own cost instead of with the scheduler. Undefined where that cannot be done.
 */
export function separateCpus() {
  const cpus = os.availableParallelism?.() ?? os.cpus().length
  if (cpus < 2 || spawnSync('taskset', ['-c', '0', 'true']).status !== 0) return undefined
  return { server: String(cpus - 1), load: '0' }
}
