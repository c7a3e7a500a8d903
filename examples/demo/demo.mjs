#!/usr/bin/env node
// An Express 5 app whose handler calls an upstream that goes dark, run twice:
// once as is (no middleware), once with the adapter in front of its routes
// (`app.use(tcpUserTimeout({ seconds: 2 }))` from @tcp-user-timeout/express).
// Prints how long each request hung, what the caller got, and whether the
// upstream socket was reclaimed.
//
//   node demo.mjs                 partition mode when root with `ip netns`, else wedge mode
//   node demo.mjs --mode=wedge    force the write-side wedge (no root needed)
//   node demo.mjs --mode=partition  force the dead-peer partition (fails without root)
//   --cap=8      seconds after which the demo cuts a hanging request off
//   --seconds=2  the budget given to tcpUserTimeout({ seconds })
//
// Exit code 0 when the protected request failed fast with ETIMEDOUT and the
// unprotected one was still hanging at the cap; 1 otherwise; 2 on bad usage.
//
// Partition mode re-runs this file inside a network namespace it creates
// (`--inside`); the inner process asks this one, by a line on stdout, to cut
// the namespace's loopback (`ip link set lo down`) and reads the answer on
// stdin. Only loopback inside that namespace (or the host's loopback in wedge
// mode) is ever used; every loop is bounded in count and time.

import { execFile, execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const SCRIPT = fileURLToPath(import.meta.url)
const CONTROL = '@@tut-demo' // prefix of the inner process's requests to the parent
const CHUNK = 64 * 1024
const MAX_CHUNKS = 4096 // wedge: at most 256 MiB queued before giving up
const IP_TIMEOUT_MS = 5000

// ---------------------------------------------------------------- arguments

let opts
try {
  const { values } = parseArgs({
    // `pnpm start -- --mode=wedge` passes the `--` through: ignore it.
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      mode: { type: 'string', default: 'auto' },
      cap: { type: 'string', default: '8' },
      seconds: { type: 'string', default: '2' },
      inside: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  })
  opts = values
} catch (err) {
  usage(err.message)
}
if (opts.help) usage()
if (!['auto', 'partition', 'wedge'].includes(opts.mode)) usage(`--mode must be auto, partition or wedge, got ${opts.mode}`)
const CAP_S = Number(opts.cap)
const BUDGET_S = Number(opts.seconds)
if (!Number.isFinite(BUDGET_S) || BUDGET_S <= 0 || BUDGET_S > 60) usage(`--seconds must be in (0, 60], got ${opts.seconds}`)
if (!Number.isFinite(CAP_S) || CAP_S < BUDGET_S + 3 || CAP_S > 120) usage(`--cap must be in [seconds + 3, 120], got ${opts.cap}`)

function usage(problem) {
  if (problem) process.stderr.write(`demo: ${problem}\n`)
  process.stderr.write('usage: node demo.mjs [--mode=auto|partition|wedge] [--cap=8] [--seconds=2]\n')
  process.exit(problem ? 2 : 0)
}

const out = (line = '') => process.stdout.write(line + '\n')

/**
 * @tcp-user-timeout/core, express and @tcp-user-timeout/express, imported by
 * the process that runs the scenarios (not by the namespace parent, which
 * only drives `ip`).
 */
let core = null
let express = null
let tcpUserTimeout = null

function chooseMode(requested) {
  if (requested === 'wedge') return { mode: 'wedge', reason: 'forced with --mode=wedge' }
  const why = partitionUnavailable()
  if (why === undefined) {
    return { mode: 'partition', reason: requested === 'partition' ? 'forced with --mode=partition' : 'running as root with `ip netns` available' }
  }
  if (requested === 'partition') {
    process.stderr.write(`demo: --mode=partition is not possible here: ${why}\n`)
    process.exit(2)
  }
  return { mode: 'wedge', reason: `${why}; the dead-peer partition needs root and \`ip netns\`` }
}

function partitionUnavailable() {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'not running as root'
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore', timeout: IP_TIMEOUT_MS })
  } catch (err) {
    return `\`ip netns\` is not usable (${err.code ?? err.message})`
  }
  return undefined
}

// ------------------------------------------------- partition: the parent side

/**
 * Creates the namespace, re-runs this file inside it, streams its output and
 * cuts / heals the namespace's loopback when asked. Always deletes the
 * namespace and ends the child, on success, failure, SIGINT and SIGTERM.
 */
async function runParent(choice) {
  const ns = `tut-demo-${process.pid}`
  let child = null
  let nsMade = false

  const teardown = () => {
    if (child !== null && child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGKILL')
      } catch {}
    }
    if (nsMade) {
      nsMade = false
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: IP_TIMEOUT_MS })
      } catch (err) {
        process.stderr.write(`demo: could not delete network namespace ${ns}: ${err.message}\n`)
      }
    }
  }
  const onSignal = (signal) => {
    process.stderr.write(`\ndemo: ${signal}, cleaning up\n`)
    teardown()
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.once('exit', teardown)

  try {
    execFileSync('ip', ['netns', 'add', ns], { stdio: ['ignore', 'ignore', 'pipe'], timeout: IP_TIMEOUT_MS })
    nsMade = true
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: IP_TIMEOUT_MS })
  } catch (err) {
    const detail = String(err.stderr ?? err.message).trim()
    teardown()
    if (opts.mode === 'partition') {
      process.stderr.write(`demo: could not set up network namespace ${ns}: ${detail}\n`)
      return 1
    }
    return runScenarios('wedge', `\`ip netns add\` failed (${detail}); falling back`, null)
  }

  const args = [
    'netns', 'exec', ns, process.execPath, SCRIPT, '--inside',
    `--cap=${CAP_S}`, `--seconds=${BUDGET_S}`,
  ]
  const code = await new Promise((resolve) => {
    child = spawn('ip', args, { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, TUT_DEMO_NS: ns, TUT_DEMO_WHY: choice.reason } })
    // The child has its own watchdog; this one covers a child that cannot even start it.
    const watchdog = setTimeout(() => {
      process.stderr.write('demo: the inner process overran its time; killing it\n')
      child.kill('SIGKILL')
    }, (CAP_S * 2 + 40) * 1000)
    child.stdin.on('error', () => {}) // the child may exit before reading a reply
    const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity })
    lines.on('line', (line) => {
      if (!line.startsWith(CONTROL + ' ')) return out(line)
      const [, verb, id] = line.split(' ')
      const state = verb === 'cut' ? 'down' : verb === 'heal' ? 'up' : null
      if (state === null) return child.stdin.write(`${id} err unknown request ${verb}\n`)
      execFile('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', state], { timeout: IP_TIMEOUT_MS }, (err, _o, stderr) => {
        child.stdin.write(err ? `${id} err ${String(stderr || err.message).trim().replace(/\n/g, ' ')}\n` : `${id} ok\n`)
      })
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
  teardown()
  return code
}

/** The inner process's side of the stdio protocol: ask, wait for `ID ok`. */
function parentNetwork() {
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
        reject(new Error(`no answer from the parent to "${verb}" within ${IP_TIMEOUT_MS + 1000} ms`))
      }, IP_TIMEOUT_MS + 1000)
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

// ------------------------------------------------------------ the scenarios

async function runScenarios(mode, reason, network) {
  if (opts.inside) reason = process.env.TUT_DEMO_WHY ?? reason
  const watchdog = setTimeout(() => {
    process.stderr.write('demo: watchdog fired; the demo overran its time\n')
    process.exit(1)
  }, (CAP_S * 2 + 30) * 1000)
  watchdog.unref()
  process.once('SIGINT', () => process.exit(130))
  process.once('SIGTERM', () => process.exit(143))

  core = await import('@tcp-user-timeout/core')
  express = (await import('express')).default
  ;({ tcpUserTimeout } = await import('@tcp-user-timeout/express'))
  const sup = core.support()

  out(`tcp-user-timeout demo — an upstream goes dark mid-request (node ${process.version}, kernel ${os.release()})`)
  out(`mode: ${mode} — ${reason}`)
  if (mode === 'partition') {
    out(`      dead peer: ${network.describe};`)
    out('      the upstream request is sent into the cut, so it stays unacknowledged')
  } else {
    out('      write-side wedge: the upstream accepts and never reads (pauseOnConnect);')
    out(`      the handler uploads 64 KiB chunks until the buffers stay full (at most ${MAX_CHUNKS} chunks)`)
  }
  out(`core: TCP_USER_TIMEOUT ${sup.supported ? 'supported' : `NOT supported (${sup.reason ?? 'no reason given'})`}`)
  out()

  // Timeline lines come from core's diagnostics channels too.
  const dc = await import('node:diagnostics_channel')
  let timeline = null
  const onBind = ({ socket, ms, direction }) => timeline?.(`${core.CHANNEL_BIND}: ${direction} socket fd ${fdOf(socket)} -> ${ms} ms`)
  const onTimeout = ({ socket, ms }) => timeline?.(`${core.CHANNEL_TIMEOUT}: kernel closed the socket (bound ${ms} ms)`)
  dc.subscribe(core.CHANNEL_BIND, onBind)
  dc.subscribe(core.CHANNEL_TIMEOUT, onTimeout)

  const runs = []
  for (const protect of [false, true]) {
    const title = protect ? `with app.use(tcpUserTimeout({ seconds: ${BUDGET_S} }))` : 'without protection (no middleware)'
    out(`run ${runs.length + 1}/2: ${title}`)
    const t0 = performance.now()
    // Stops at the end of the run: a late echo of its cleanup is no news.
    const live = { on: true }
    timeline = (what) => {
      if (live.on) out(`  +${((performance.now() - t0) / 1000).toFixed(2).padStart(5)} s  ${what}`)
    }
    let result
    try {
      result = await runOnce({ mode, network, protect, log: timeline, live, t0 })
    } catch (err) {
      result = { failed: err }
      out(`  the run failed: ${err.stack ?? err}`)
    }
    result.title = title
    runs.push(result)
    live.on = false
    timeline = null
    out()
  }
  dc.unsubscribe(core.CHANNEL_BIND, onBind)
  dc.unsubscribe(core.CHANNEL_TIMEOUT, onTimeout)

  printTable(runs)
  const [plain, guarded] = runs
  const problems = []
  if (plain.failed) problems.push(`the unprotected run failed: ${plain.failed.message}`)
  else if (!plain.hanging) problems.push('the unprotected request did not hang until the cap (the upstream never went dark?)')
  if (guarded.failed) problems.push(`the protected run failed: ${guarded.failed.message}`)
  else {
    if (guarded.hanging) problems.push('the protected request was still hanging at the cap')
    if (guarded.upstreamError !== 'ETIMEDOUT') problems.push(`the protected upstream call got ${guarded.upstreamError ?? 'no error'}, not ETIMEDOUT`)
    if (guarded.status !== 504) problems.push(`the protected caller got ${guarded.status ?? 'no response'}, not 504`)
    if (!guarded.reclaimed) problems.push('the protected upstream socket was not reclaimed')
  }
  out()
  if (problems.length === 0) {
    out(`PASS: with the bound the request failed in ${fmtS(guarded.elapsed)} with ETIMEDOUT and its socket was reclaimed;`)
    out(`      without it the request was still hanging after ${CAP_S} s.`)
    return 0
  }
  out('FAIL:')
  for (const p of problems) out(`  - ${p}`)
  return 1
}

/**
 * One run: an upstream, an app that calls it, a caller that calls the app.
 * Resolves with what the caller saw and what became of the upstream socket.
 */
async function runOnce({ mode, network, protect, log, live, t0 }) {
  const before = core.stats()
  const upstream = await startUpstream(mode)
  const state = { socket: null, fd: -1, inode: null, boundMs: undefined, darkAt: null, upstreamError: null, upstreamErrorAt: null }

  // ---- the application: an Express app whose route needs the upstream to answer.
  // The only difference between the two runs is the middleware in front of
  // the routes: with it, every socket the request uses (here the upstream
  // call's) gets TCP_USER_TIMEOUT = seconds * 1000.
  const app = express()
  if (protect) app.use(tcpUserTimeout({ seconds: BUDGET_S }))
  app.get('/quote', async (req, res) => {
    try {
      const answer = await (mode === 'partition' ? postToUpstream : uploadToUpstream)(upstream.port, state, network, log)
      res.type('json').send(answer)
    } catch (err) {
      state.upstreamError = err.code ?? err.message
      state.upstreamErrorAt = performance.now()
      log(`app: upstream call failed: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' '))
      // Demo only: the partition also cut the caller off; bring the network
      // back so the caller can hear the 504.
      if (network) await network.heal().catch((e) => log(`could not heal the network: ${e.message}`))
      if (!res.headersSent && !res.destroyed) {
        res.status(504).type('text').send(`upstream failed: ${err.code ?? err.message}\n`)
      }
    }
  })
  const server = http.createServer(app)
  await listen(server)

  // ---- the caller: waits for the app's answer, at most CAP_S seconds
  let callerReq = null
  const outcome = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ hanging: true, at: performance.now() }), CAP_S * 1000)
    log(`caller: GET /quote -> app`)
    callerReq = http.get({ host: '127.0.0.1', port: server.address().port, path: '/quote', agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => {
        if (body.length < 1000) body += d
      })
      res.on('end', () => {
        clearTimeout(timer)
        resolve({ status: res.statusCode, statusText: res.statusMessage, body: body.trim(), at: performance.now() })
      })
    })
    callerReq.on('error', (err) => {
      clearTimeout(timer)
      resolve({ callerError: err.code ?? err.message, at: performance.now() })
    })
  })
  const elapsed = outcome.at - t0
  if (outcome.hanging) log(`caller: still waiting after ${CAP_S} s: the demo cuts it off here`)
  else if (outcome.status) log(`caller: got ${outcome.status} ${outcome.statusText}`)
  else log(`caller: error ${outcome.callerError}`)

  // ---- what became of the upstream socket (looked at before any cleanup)
  const sock = state.socket
  const fdNow = state.fd >= 0 ? fdTarget(state.fd) : null
  const fdClosed = state.fd >= 0 && fdNow !== state.inode
  const reclaimed = sock !== null && sock.destroyed && fdClosed
  const destroyed = sock?.destroyed ?? null
  const queued = sock && !sock.destroyed ? sock.writableLength : 0
  const after = core.stats()
  const upstreamError = state.upstreamError
  const upstreamErrorAt = state.upstreamErrorAt

  // ---- cleanup: everything this run opened, then the network back up
  // (the errors the cleanup itself causes are not part of the story)
  live.on = false
  callerReq?.destroy()
  sock?.destroy()
  server.closeAllConnections()
  server.close()
  upstream.close()
  if (network) await network.heal()

  return {
    hanging: outcome.hanging === true,
    elapsed,
    status: outcome.status ?? null,
    statusText: outcome.statusText ?? null,
    callerError: outcome.callerError ?? null,
    upstreamError,
    errorAfterDark: upstreamErrorAt !== null && state.darkAt !== null ? upstreamErrorAt - state.darkAt : null,
    boundMs: state.boundMs,
    fd: state.fd,
    fdClosed,
    destroyed,
    reclaimed,
    queued,
    bound: after.bound - before.bound,
    timedOut: after.timedOut - before.timedOut,
  }
}

// ----------------------------------------------------------- the upstreams

/** Partition mode: a healthy HTTP upstream; the network between goes away. Wedge mode: accepts, never reads. */
async function startUpstream(mode) {
  const conns = new Set()
  let server
  if (mode === 'partition') {
    server = http.createServer((req, res) => {
      req.resume()
      req.on('end', () => res.end('{"price":42}'))
    })
  } else {
    server = net.createServer({ pauseOnConnect: true }, () => {
      /* never reads: its receive buffer fills and its window closes */
    })
  }
  server.on('connection', (s) => {
    conns.add(s)
    s.on('close', () => conns.delete(s))
    s.on('error', () => {})
  })
  await listen(server)
  return {
    port: server.address().port,
    close() {
      for (const s of conns) s.destroy()
      server.close()
    },
  }
}

/** Partition mode: connect, let the network go dark, then send the request into it. */
function postToUpstream(port, state, network, log) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ sku: 'demo-1', qty: 1 })
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: '/price',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
    })
    req.on('error', reject)
    req.on('response', (res) => {
      let data = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (data += d))
      res.on('end', () => resolve(data))
      res.on('error', reject)
    })
    req.on('socket', (socket) =>
      whenConnected(socket, async () => {
        noteSocket(state, socket, log)
        try {
          await network.cut()
        } catch (err) {
          req.destroy(err)
          return
        }
        state.darkAt = performance.now()
        log('network: namespace loopback is down; app sends POST /price into the cut')
        req.end(body)
      }),
    )
  })
}

/** Wedge mode: upload a large body to an upstream that never reads. */
function uploadToUpstream(port, state, _network, log) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { 'content-type': 'application/octet-stream' } })
    req.on('error', reject)
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve('{"uploaded":true}'))
    })
    req.on('socket', (socket) =>
      whenConnected(socket, () => {
        noteSocket(state, socket, log)
        // write() returns false as soon as Node's own buffer passes its
        // high-water mark, long before the kernel's buffers are full; so on
        // false wait for 'drain', and call it wedged when none comes in 300 ms.
        const chunk = Buffer.alloc(CHUNK, 0x61)
        const deadline = performance.now() + 5000
        let n = 0
        const fill = () => {
          while (n < MAX_CHUNKS && performance.now() < deadline) {
            n++
            if (!req.write(chunk)) {
              const onDrain = () => {
                clearTimeout(stalled)
                fill()
              }
              const stalled = setTimeout(() => {
                req.off('drain', onDrain)
                wedged()
              }, 300)
              req.once('drain', onDrain)
              return
            }
          }
          req.destroy(new Error(`the wedge did not fill the buffers after ${n} chunks`))
        }
        const wedged = () => {
          state.darkAt = performance.now()
          log(`wedge: buffers full after ${n} chunks (${((n * CHUNK) / 1048576).toFixed(1)} MiB), no 'drain' for 300 ms; the upstream reads nothing`)
          // If the upstream ever read again, the upload would finish here.
          req.once('drain', () => req.end())
        }
        fill()
      }),
    )
  })
}

// ------------------------------------------------------------------ helpers

function whenConnected(socket, fn) {
  if (!socket.connecting && socket._handle && socket._handle.fd >= 0) queueMicrotask(fn)
  else socket.once('connect', fn)
}

function noteSocket(state, socket, log) {
  state.socket = socket
  state.fd = fdOf(socket)
  state.inode = fdTarget(state.fd)
  state.boundMs = core.getUserTimeout(socket)
  log(`app: upstream socket connected (fd ${state.fd}, TCP_USER_TIMEOUT ${describeBound(state.boundMs)})`)
}

function fdOf(socket) {
  return socket?._handle?.fd ?? -1
}

/** What /proc says the fd is (`socket:[inode]`), or null when it is closed. */
function fdTarget(fd) {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`)
  } catch {
    return null
  }
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function describeBound(ms) {
  if (ms === undefined) return 'unknown (unsupported here)'
  if (ms === 0) return '0 = system default'
  return `${ms} ms`
}

function fmtS(ms) {
  return `${(ms / 1000).toFixed(1)} s`
}

function printTable(runs) {
  const rows = [['', ...runs.map((r) => r.title)]]
  const cell = (r, f) => (r.failed ? (f === 0 ? `run failed: ${r.failed.message}` : '') : f)
  const add = (label, f) => rows.push([label, ...runs.map((r) => cell(r, r.failed ? 0 : f(r)))])
  add('upstream TCP_USER_TIMEOUT', (r) => describeBound(r.boundMs))
  add('request hung for', (r) => (r.hanging ? `still hanging after ${CAP_S} s (cut off by the demo)` : fmtS(r.elapsed)))
  add('caller got', (r) => (r.hanging ? 'nothing yet' : r.status ? `${r.status} ${r.statusText}` : `error ${r.callerError}`))
  add('upstream error', (r) =>
    r.upstreamError ? `${r.upstreamError}${r.errorAfterDark !== null ? `, ${fmtS(r.errorAfterDark)} after it went dark` : ''}` : 'none, the kernel keeps retrying',
  )
  add('upstream socket reclaimed', (r) =>
    r.reclaimed
      ? `yes: destroyed, fd ${r.fd} closed`
      : `no: ${r.destroyed ? 'destroyed' : 'open'}, fd ${r.fd} ${r.fdClosed ? 'closed' : 'held'}${r.queued ? `, ${(r.queued / 1048576).toFixed(1)} MiB queued` : ''}`,
  )
  add('core stats(): bound / timedOut', (r) => `${r.bound} / ${r.timedOut}`)
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)))
  const line = (row) => row.map((c, i) => String(c).padEnd(widths[i])).join(' | ').trimEnd()
  out(line(rows[0]))
  out(widths.map((w) => '-'.repeat(w)).join('-+-'))
  for (const row of rows.slice(1)) out(line(row))
}

// --------------------------------------------------------------------- main
// (last, so every declaration above is initialised when it runs)

if (opts.inside) {
  // Inside the namespace the parent made: the partition is driven over stdio.
  process.exitCode = await runScenarios('partition', 'inside the demo namespace', parentNetwork())
  process.exit(process.exitCode)
} else {
  const choice = chooseMode(opts.mode)
  if (choice.mode === 'partition') {
    process.exit(await runParent(choice))
  } else {
    process.exit(await runScenarios('wedge', choice.reason, null))
  }
}
