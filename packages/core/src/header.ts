/**
 * Parsing of a client-supplied deadline header into milliseconds. Anything
 * malformed gives undefined, so the configured budget stays in force: a
 * header can never disable, extend or crash anything. Strict shapes and a
 * length cap come before any arithmetic (10 KB of digits is rejected by
 * length, `1e400` by shape, a repeated header by being an array or a
 * comma-joined string).
 */
import { msOfSeconds } from './validate.js'

export type HeaderFormat = 'seconds' | 'milliseconds' | 'grpc-timeout'

export const headerFormats: readonly HeaderFormat[] = ['seconds', 'milliseconds', 'grpc-timeout']

const MAX_LENGTH = 20
const SECONDS = /^\d{1,9}(?:\.\d{1,3})?$/
const MILLISECONDS = /^\d{1,12}$/
// gRPC: TimeoutValue is at most 8 digits, then one unit letter.
const GRPC = /^(\d{1,8})([HMSmun])$/
const GRPC_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 }

export function parseDeadlineHeader(value: unknown, format: HeaderFormat): number | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return undefined
  const v = value.trim()
  let ms: number
  if (format === 'seconds') {
    if (!SECONDS.test(v)) return undefined
    // The conversion of a `seconds` option: '8.14' is the 8140 ms that 8.14 is there.
    ms = msOfSeconds(Number(v))
  } else if (format === 'milliseconds') {
    if (!MILLISECONDS.test(v)) return undefined
    ms = Number(v)
  } else {
    const m = GRPC.exec(v)
    if (m === null) return undefined
    // Sub-millisecond units round up: a tiny deadline is 1 ms, not 0 (which
    // would read as no header); the policy floors it at minSeconds anyway.
    // Exact: ceil(n * 1e-3) and ceil(n * 1e-6) equal ceil(n / 1000) and
    // ceil(n / 1e6) for every n of 8 digits (checked exhaustively).
    ms = Math.ceil(Number(m[1]) * GRPC_UNIT_MS[m[2]!]!)
  }
  return ms > 0 ? ms : undefined
}
