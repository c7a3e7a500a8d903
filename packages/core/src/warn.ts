import type { WarningCode } from './errors.js'

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
