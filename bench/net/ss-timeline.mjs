// Watches one TCP socket inside a namespace with `ss -tino` while its peer
// is unreachable, so the bench can show WHEN the kernel retransmitted and
// when it finally gave up, instead of assuming the RTO schedule. Each arm of
// the socket's timer is recorded once, with the time it is due to fire
// (poll time + the remaining time ss prints): exact to ss's ms resolution,
// whatever the polling interval.
import { execFile } from 'node:child_process'

export const POLL_MS = 40
const SS_TIMEOUT_MS = 2000

// ss (iproute2's print_ms_timer) prints a timer as 196ms, 1.596ms (meaning
// 1 s 596 ms), 2sec, 1min3sec..., and nothing at all once the timer is past
// due but has not run yet (null here).
export function parseDuration(text) {
  if (text === '') return null
  let ms = 0
  let rest = text
  const min = rest.match(/^(\d+)min/)
  if (min) {
    ms += Number(min[1]) * 60_000
    rest = rest.slice(min[0].length)
  }
  const secMs = rest.match(/^(\d+)\.(\d+)ms$/)
  if (secMs) return ms + Number(secMs[1]) * 1000 + Number(secMs[2])
  const sec = rest.match(/^(\d+)(?:sec|s)/)
  if (sec) {
    ms += Number(sec[1]) * 1000
    rest = rest.slice(sec[0].length)
  }
  const onlyMs = rest.match(/^(\d+)ms$/)
  if (onlyMs) ms += Number(onlyMs[1])
  return ms
}

const field = (text, name) => {
  const m = text.match(new RegExp(`\\b${name}:(\\d+(?:\\.\\d+)?)`))
  return m ? Number(m[1]) : null
}

function ssOnce(ns, localPort) {
  return new Promise((resolve) => {
    execFile(
      'ip',
      ['netns', 'exec', ns, 'ss', '-tinoH', 'src', `127.0.0.1:${localPort}`],
      { timeout: SS_TIMEOUT_MS },
      (error, stdout) => {
        resolve(error ? null : stdout.replace(/\s+/g, ' ').trim())
      },
    )
  })
}

/**
 * Polls until stop() is called. `now()` is the caller's clock (ms), so the
 * arms are on the same time base as the cut. Returns { stop(): Promise<arms> },
 * arms: [{ seenAtMs, kind, dueAtMs, retries, backoff, rtoMs, dataSegsOut,
 * bytesRetrans, dueUncertaintyMs, overdueSeenAtMs }]; overdueSeenAtMs: the last poll that found
 * this arm past due and not yet run (the timer wheel fires late), or null.
 */
export function watchTimer(ns, localPort, now) {
  const arms = []
  let stopped = false
  const loop = (async () => {
    while (!stopped) {
      const before = now()
      const line = await ssOnce(ns, localPort)
      const after = now()
      const timer = line?.match(/timer:\((\w+),([^,]*),(\d+)\)/)
      if (timer) {
        // ss reads the socket somewhere between the two instants: due times
        // come from the middle, ± half the span, and each arm keeps the
        // estimate of its shortest poll (spawning ss is slow on a busy machine).
        const halfSpan = (after - before) / 2
        const remaining = parseDuration(timer[2])
        const arm = {
          seenAtMs: before + halfSpan,
          kind: timer[1],
          retries: Number(timer[3]),
          backoff: field(line, 'backoff') ?? 0,
          rtoMs: field(line, 'rto'),
          dataSegsOut: field(line, 'data_segs_out'),
          bytesRetrans: field(line, 'bytes_retrans') ?? 0,
          dueAtMs: remaining === null ? null : before + halfSpan + remaining,
          dueUncertaintyMs: remaining === null ? null : halfSpan,
          // Past due when ss read it, so still pending at least at `before`.
          overdueSeenAtMs: remaining === null ? before : null,
        }
        const last = arms.at(-1)
        // A new arm: something was sent again, or the timer moved on.
        if (!last || last.dataSegsOut !== arm.dataSegsOut || last.retries !== arm.retries || last.kind !== arm.kind)
          arms.push(arm)
        else if (remaining === null) last.overdueSeenAtMs = before
        else if (last.dueAtMs === null || halfSpan < last.dueUncertaintyMs) {
          last.dueAtMs = arm.dueAtMs
          last.dueUncertaintyMs = halfSpan
        }
      }
      await new Promise((r) => setTimeout(r, POLL_MS))
    }
  })()
  return {
    async stop() {
      stopped = true
      await loop
      return arms
    },
  }
}
