import { publishError } from './diagnostics.js'
import { shared } from './shared.js'

/**
 * Runs the library's own work inside a patched Node function or a channel
 * listener: whatever it throws (a bug, a host that tore down what it
 * relied on) is reported (`reportInternal`) and `fallback` is returned.
 * The application's call goes on as if the library were not there.
 */
export function contain<T>(work: () => T, fallback: T): T {
  try {
    return work()
  } catch (error) {
    reportInternal(error)
    return fallback
  }
}

/**
 * Counts a failure of the library's own work in `stats().errors` and publishes it
 * on `tcp-user-timeout:error`. Never throws.
 */
export function reportInternal(error: unknown): void {
  try {
    shared.counters.errors++
    publishError(null, error instanceof Error ? error : new Error(String(error)))
  } catch {
    // Nothing left to report with.
  }
}
