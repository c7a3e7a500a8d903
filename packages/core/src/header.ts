/**
 * Parsing of a client-supplied deadline header into milliseconds. Anything
 * malformed gives undefined, so the configured budget stays in force: a
 * header can never disable, extend or crash anything. Strict shapes and a
 * length cap come before any arithmetic (10 KB of digits is rejected by
 * length, `1e400` by shape, a repeated header by being an array or a
 * comma-joined string).
 */

export type HeaderFormat = 'seconds' | 'milliseconds' | 'grpc-timeout'

export const headerFormats: readonly HeaderFormat[] = ['seconds', 'milliseconds', 'grpc-timeout']

const MAX_LENGTH = 20
const MILLISECONDS = /^\d{1,12}$/
// gRPC: TimeoutValue is at most 8 digits, then one unit letter.
const GRPC = /^(\d{1,8})([HMSmun])$/
const GRPC_UNIT_MS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 }

export function parseDeadlineHeader(value: unknown, format: HeaderFormat): number | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return undefined
  // Trimming cannot change a value that starts and ends with a digit, the common case: it is skipped there.
  const v = isDigit(value, 0) && isDigit(value, value.length - 1) ? value : value.trim()
  let ms: number | undefined
  if (format === 'seconds') {
    ms = secondsMs(v)
    if (ms === undefined) return undefined
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

function isDigit(v: string, i: number): boolean {
  const c = v.charCodeAt(i)
  return c >= 48 && c <= 57
}

/**
 * `\d{1,9}(\.\d{1,3})?` seconds as whole ms, read digit by digit: it is
 * paid on every request that carries the header, where a regular
 * expression, `trim()`, `Number()` and a rounding cost 600 to 950
 * instructions. Integer arithmetic is exact here (at most
 * 999,999,999,999 ms), and gives what the `seconds` option's rounding
 * gives ('8.14' is 8140 ms, as 8.14 is).
 */
function secondsMs(v: string): number | undefined {
  const n = v.length
  let i = 0
  let ms = 0
  while (i < n && isDigit(v, i)) ms = ms * 10 + v.charCodeAt(i++) - 48
  if (i === 0 || i > 9) return undefined
  ms *= 1000
  if (i === n) return ms
  const decimals = n - i - 1
  if (v.charCodeAt(i) !== 46 || decimals < 1 || decimals > 3) return undefined
  for (let unit = 100; ++i < n; unit /= 10) {
    if (!isDigit(v, i)) return undefined
    ms += (v.charCodeAt(i) - 48) * unit
  }
  return ms
}
