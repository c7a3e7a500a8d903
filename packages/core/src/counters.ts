/**
 * The counters, listed once: `Stats` (the type `stats()` returns) and every
 * reset are derived from this object of zeros.
 */
const ZERO = {
  /** Successful binds of a non-zero bound, outbound and inbound. */
  bound: 0,
  /** Bound sockets the kernel closed with ETIMEDOUT, outbound and inbound. */
  timedOut: 0,
  /** setsockopt failures on implicit binds (thrown by none). */
  errors: 0,
  /** setsockopt calls made; flat in steady state since equal values are skipped. */
  setsockoptCalls: 0,
  /** Accepted sockets hardened by `hardenServer`. */
  hardened: 0,
  /** Hardened inbound sockets the kernel closed with ETIMEDOUT (ghost connections reclaimed). */
  reaped: 0,
}

/** Counters since the process started (or since `resetStats()`). */
export type Stats = { [K in keyof typeof ZERO]: number }

/** Sets every counter of `counters` back to 0 (and makes them all, for a new set). */
export function zeroCounters(counters: Partial<Stats> = {}): Stats {
  return Object.assign(counters, ZERO)
}
