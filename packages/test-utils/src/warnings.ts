import { once } from 'node:events'
import type { Teardown } from './teardown.js'

export type ProcessWarning = Error & { code?: string }

const SENTINEL = 'TEST_WARNINGS_DELIVERED'
const DELIVERY_TIMEOUT_MS = 5000

export interface CapturedWarnings {
  /** Every process warning emitted since the capture began (the sentinel of `delivered()` left out). */
  readonly warnings: readonly ProcessWarning[]
  /**
   * Every warning emitted so far, once delivered: process.emitWarning
   * delivers on the next tick, in order, so a sentinel emitted now arrives
   * after all of them. Resolves with `warnings`.
   */
  delivered(): Promise<readonly ProcessWarning[]>
  /** Puts the process's own 'warning' listeners back (Node's printer among them). Idempotent. */
  restore(): void
}

/**
 * Captures the process warnings a test provokes, in place of printing them:
 * a listener on 'warning' alone does not stop Node's own listener (the one
 * that prints to stderr, absent under --no-warnings) from printing, so every
 * 'warning' listener is taken off until `restore()` (or `t`'s teardown) puts
 * them back. Expected warnings stay assertable and the test output stays clean.
 */
export function captureWarnings(t?: Teardown): CapturedWarnings {
  const saved = process.listeners('warning')
  const warnings: ProcessWarning[] = []
  const onWarning = (warning: ProcessWarning) => {
    if (warning.code !== SENTINEL) warnings.push(warning)
  }
  process.removeAllListeners('warning')
  process.on('warning', onWarning)
  let restored = false
  const captured: CapturedWarnings = {
    warnings,
    async delivered() {
      const sentinel = once(process, 'warning', { signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS) })
      process.emitWarning('all warnings emitted so far are delivered', { code: SENTINEL })
      // onWarning was added first, so it has seen the sentinel, and all before it, when this resolves.
      await sentinel
      return warnings
    },
    restore() {
      if (restored) return
      restored = true
      process.off('warning', onWarning)
      for (const listener of saved) process.on('warning', listener)
    },
  }
  t?.add(() => captured.restore())
  return captured
}
