import type { WarningCode } from './errors.js'
import { shared } from './shared.js'

/**
 * Emits one of the library's process warnings: type `TcpUserTimeoutWarning`,
 * a `TUT_WARN_` code (`process.on('warning')`, `--no-warnings`). Never
 * throws: a process whose `emitWarning` was replaced by something that
 * throws goes on as if it had been said.
 */
export function warn(code: WarningCode, message: string): void {
  try {
    process.emitWarning(message, { code, type: 'TcpUserTimeoutWarning' })
  } catch {
    // Nothing else to say it with.
  }
}

/**
 * `warn`, at most once per thread for `key` (a function of the core that can
 * be called a million times: one line of the user's code to fix, said once),
 * however many times or copies the package is evaluated (shared.ts). The
 * message is only worded when it is said. Never throws.
 */
export function warnOnce(key: string, code: WarningCode, message: () => string): void {
  const said = (shared.warnedOnce ??= new Set<string>())
  if (said.has(key)) return
  said.add(key)
  try {
    warn(code, message())
  } catch {
    // A message that cannot be worded is not worth a throw.
  }
}

/** Budgets above this draw TUT_WARN_LONG_BUDGET: an hour, where a budget given in ms by mistake (25000) lands. */
export const LONG_BUDGET_MS = 3_600_000

/**
 * The words of TUT_WARN_LONG_BUDGET, one sentence for every API: `given`
 * (what was given, where) is a budget of `seconds`; `inSeconds` shows how
 * the same budget reads in seconds, as that API takes it; `meant` says how
 * to say that a long budget is meant.
 */
export function longBudgetMessage(
  given: string,
  seconds: number,
  inSeconds: (seconds: number) => string,
  meant: string,
): string {
  const asMs = Number((seconds / 1000).toPrecision(6))
  return (
    `${given} is a budget of ${(seconds / 3600).toFixed(1)} hours; it looks like milliseconds ` +
    `(${seconds} ms would be ${inSeconds(asMs)}). Budgets are in seconds. ` +
    `If a budget over an hour is meant, ${meant}.`
  )
}
