// Partition mode's plumbing. The parent makes a network namespace (with
// @tcp-user-timeout/test-utils/netns, which deletes it and kills the child
// on every way out) and runs the demo again inside it (`--inside`); the
// inner process asks the parent, by a line on stdout, to cut or heal the
// namespace's loopback (`ip link set lo down|up`) and reads the answer on
// stdin. Only loopback inside that namespace is ever used.
import readline from 'node:readline'
import {
  canUseNetns,
  cleanupNetns,
  createNetns,
  execInNetns,
  setLoopback,
  stderrOf,
} from '@tcp-user-timeout/test-utils/netns'
import { out } from './print.mjs'

const CONTROL = '@@tut-demo' // prefix of the inner process's requests to the parent
const ANSWER_MS = 6000

/** partition when root with `ip netns`, else wedge; with the reason printed. */
export function chooseMode(requested) {
  if (requested === 'wedge') return { mode: 'wedge', reason: 'forced with --mode=wedge' }
  const netns = canUseNetns()
  if (netns.ok) {
    return {
      mode: 'partition',
      reason: requested === 'partition' ? 'forced with --mode=partition' : 'running as root with `ip netns` available',
    }
  }
  if (requested === 'partition') {
    process.stderr.write(`demo: --mode=partition is not possible here: ${netns.reason}\n`)
    process.exit(2)
  }
  return { mode: 'wedge', reason: `${netns.reason}; the dead-peer partition needs root and \`ip netns\`` }
}

/**
 * Creates the namespace, runs `script ...args` inside it, streams its output
 * and cuts / heals the namespace's loopback when asked. Resolves with the
 * inner process's exit code, or calls `fallback(reason)` when no namespace
 * can be made (and `mandatory` is false).
 */
export async function runParent({ script, args, reason, mandatory, watchdogMs, fallback }) {
  const onSignal = (signal) => {
    process.stderr.write(`\ndemo: ${signal}, cleaning up\n`)
    // test-utils/netns kills the child and deletes the namespace on exit.
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  let ns
  try {
    ns = await createNetns('tut-demo')
  } catch (err) {
    const detail = stderrOf(err)
    if (mandatory) {
      process.stderr.write(`demo: could not set up a network namespace: ${detail}\n`)
      return 1
    }
    return fallback(`\`ip netns add\` failed (${detail}); falling back`)
  }

  const code = await new Promise((resolve) => {
    const env = { ...process.env, TUT_DEMO_NS: ns, TUT_DEMO_WHY: reason }
    const child = execInNetns(ns, [process.execPath, script, ...args], { stdio: ['pipe', 'pipe', 'inherit'], env })
    // The child has its own watchdog; this one covers a child that cannot even start it.
    const watchdog = setTimeout(() => {
      process.stderr.write('demo: the inner process overran its time; killing it\n')
      child.kill('SIGKILL')
    }, watchdogMs)
    child.stdin.on('error', () => {}) // the child may exit before reading a reply
    readline.createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
      if (!line.startsWith(CONTROL + ' ')) return out(line)
      const [, verb, id] = line.split(' ')
      const state = verb === 'cut' ? 'down' : verb === 'heal' ? 'up' : null
      if (state === null) return child.stdin.write(`${id} err unknown request ${verb}\n`)
      setLoopback(ns, state).then(
        () => child.stdin.write(`${id} ok\n`),
        (err) => child.stdin.write(`${id} err ${stderrOf(err).replace(/\n/g, ' ')}\n`),
      )
    })
    child.on('error', (err) => {
      process.stderr.write(`demo: could not start the inner process: ${err.message}\n`)
      clearTimeout(watchdog)
      resolve(1)
    })
    child.on('close', (status, signal) => {
      clearTimeout(watchdog)
      if (signal) process.stderr.write(`demo: the inner process was killed by ${signal}\n`)
      resolve(signal ? 1 : (status ?? 1))
    })
  })
  await cleanupNetns()
  return code
}

/** The inner process's side of the stdio protocol: ask, wait for `ID ok`. */
export function parentNetwork() {
  const pending = new Map()
  let next = 1
  let dark = false
  let healing = null
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
  lines.on('line', (line) => {
    const [id, status, ...rest] = line.split(' ')
    const p = pending.get(id)
    if (!p) return
    pending.delete(id)
    clearTimeout(p.timer)
    if (status === 'ok') p.resolve()
    else p.reject(new Error(`the parent could not change the network: ${rest.join(' ')}`))
  })
  // The parent went away: nobody can heal the network or clean up, so stop.
  lines.on('close', () => {
    process.stderr.write('demo (inside): the parent process went away; exiting\n')
    process.exit(1)
  })
  const ask = (verb) =>
    new Promise((resolve, reject) => {
      const id = String(next++)
      const timer = setTimeout(() => {
        pending.delete(id)
        reject(new Error(`no answer from the parent to "${verb}" within ${ANSWER_MS} ms`))
      }, ANSWER_MS)
      pending.set(id, { resolve, reject, timer })
      process.stdout.write(`${CONTROL} ${verb} ${id}\n`)
    })
  return {
    describe: `network namespace ${process.env.TUT_DEMO_NS ?? '?'}: loopback set down with \`ip link set lo down\``,
    async cut() {
      await ask('cut')
      dark = true
    },
    /** Idempotent; concurrent calls share one request, so a later cut cannot overtake it. */
    heal() {
      if (!dark) return Promise.resolve()
      healing ??= ask('heal')
        .then(() => {
          dark = false
        })
        .finally(() => {
          healing = null
        })
      return healing
    },
  }
}
