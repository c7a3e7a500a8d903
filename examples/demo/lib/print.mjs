// What the demo prints: the header, each run's timeline (with the core's
// diagnostics events), the table and the verdict.
import dc from 'node:diagnostics_channel'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { CHANNEL_BIND, CHANNEL_TIMEOUT, support } from '@tcp-user-timeout/core'

export const out = (line = '') => process.stdout.write(line + '\n')

export function describeBound(ms) {
  if (ms === undefined) return 'unknown (unsupported here)'
  if (ms === 0) return '0 = none (Linux retries ~15 min)'
  return `${ms} ms`
}

const fmtS = (ms) => `${(ms / 1000).toFixed(1)} s`

export function printHeader({ mode, reason, network, maxChunks }) {
  const sup = support()
  out('tcp-user-timeout demo: a web request waits on an upstream server that stops answering.')
  out('TCP_USER_TIMEOUT is a Linux socket setting: the kernel closes a connection with ETIMEDOUT once the')
  out('data it sent has gone unacknowledged for longer than the bound. Node has no API for it; this library sets it.')
  out('Left at 0 (none, the system default), Linux retransmits for about 15 minutes (tcp_retries2 = 15) first.')
  out()
  out(`How the upstream stops answering here (${mode}: ${reason}):`)
  if (mode === 'partition') {
    out(`  a dead peer: ${network.describe};`)
    out('  the upstream request is sent into the cut, so it is never acknowledged')
  } else {
    out('  the upstream accepts the connection and never reads from it (pauseOnConnect);')
    out(`  the handler uploads 64 KiB chunks until the buffers stay full (at most ${maxChunks} chunks)`)
  }
  out(
    `node ${process.version}, kernel ${os.release()}, ` +
      `TCP_USER_TIMEOUT ${sup.supported ? 'supported' : `NOT supported (${sup.reason ?? 'no reason given'})`}`,
  )
  out()
}

/**
 * A run's timeline: `log(what)` prints `+seconds  what` from now on, the
 * core's bind and timeout events included, until `stop()`: a late echo of
 * the run's cleanup is no news. `fdOf` names a socket.
 */
export function timeline(fdOf) {
  const t0 = performance.now()
  let on = true
  const log = (what) => {
    if (on) out(`  +${((performance.now() - t0) / 1000).toFixed(2).padStart(5)} s  ${what}`)
  }
  const onBind = ({ socket, ms, direction }) =>
    log(`${CHANNEL_BIND}: ${direction} socket fd ${fdOf(socket)} -> ${ms} ms`)
  const onTimeout = ({ ms }) => log(`${CHANNEL_TIMEOUT}: kernel closed the socket (bound ${ms} ms)`)
  dc.subscribe(CHANNEL_BIND, onBind)
  dc.subscribe(CHANNEL_TIMEOUT, onTimeout)
  return {
    t0,
    log,
    stop() {
      on = false
      dc.unsubscribe(CHANNEL_BIND, onBind)
      dc.unsubscribe(CHANNEL_TIMEOUT, onTimeout)
    },
  }
}

export function printTable(runs, capS) {
  const rows = [['', ...runs.map((r) => r.title)]]
  const cell = (r, f) => (r.failed ? (f === 0 ? `run failed: ${r.failed.message}` : '') : f)
  const add = (label, f) => rows.push([label, ...runs.map((r) => cell(r, r.failed ? 0 : f(r)))])
  add('upstream TCP_USER_TIMEOUT', (r) => describeBound(r.boundMs))
  add('request hung for', (r) => (r.hanging ? `still hanging after ${capS} s (cut off by the demo)` : fmtS(r.elapsed)))
  add('caller got', (r) =>
    r.hanging ? 'nothing yet' : r.status ? `${r.status} ${r.statusText}` : `error ${r.callerError}`,
  )
  add('upstream error', (r) =>
    r.upstreamError
      ? `${r.upstreamError}${r.errorAfterDark !== null ? `, ${fmtS(r.errorAfterDark)} after it went dark` : ''}`
      : 'none, the kernel keeps retrying',
  )
  add('upstream socket reclaimed', (r) => {
    if (r.reclaimed) return `yes: destroyed, fd ${r.fd} closed`
    const queued = r.queued ? `, ${(r.queued / 1048576).toFixed(1)} MiB queued` : ''
    return `no: ${r.destroyed ? 'destroyed' : 'open'}, fd ${r.fd} ${r.fdClosed ? 'closed' : 'held'}${queued}`
  })
  add('core stats(): bound / timedOut', (r) => `${r.bound} / ${r.timedOut}`)
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)))
  const line = (row) =>
    row
      .map((c, i) => String(c).padEnd(widths[i]))
      .join(' | ')
      .trimEnd()
  out(line(rows[0]))
  out(widths.map((w) => '-'.repeat(w)).join('-+-'))
  for (const row of rows.slice(1)) out(line(row))
}

/** Prints PASS or FAIL (with what went wrong); resolves the exit code. */
export function verdict([plain, guarded], capS) {
  const problems = []
  if (plain.failed) problems.push(`the unprotected run failed: ${plain.failed.message}`)
  else if (!plain.hanging)
    problems.push('the unprotected request did not hang until the cap (the upstream never went dark?)')
  if (guarded.failed) problems.push(`the protected run failed: ${guarded.failed.message}`)
  else {
    if (guarded.hanging) problems.push('the protected request was still hanging at the cap')
    if (guarded.upstreamError !== 'ETIMEDOUT')
      problems.push(`the protected upstream call got ${guarded.upstreamError ?? 'no error'}, not ETIMEDOUT`)
    if (guarded.status !== 504) problems.push(`the protected caller got ${guarded.status ?? 'no response'}, not 504`)
    if (!guarded.reclaimed) problems.push('the protected upstream socket was not reclaimed')
  }
  out()
  if (problems.length === 0) {
    out(
      `PASS: with the bound the request failed in ${fmtS(guarded.elapsed)} ` +
        `with ETIMEDOUT and its socket was reclaimed;`,
    )
    out(`      without it the request was still hanging after ${capS} s.`)
    return 0
  }
  out('FAIL:')
  for (const p of problems) out(`  - ${p}`)
  return 1
}
