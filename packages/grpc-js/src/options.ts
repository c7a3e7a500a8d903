import { InvalidOptionError, MAX_MS } from '@tcp-user-timeout/core'
import { describeValue, readBudget } from '@tcp-user-timeout/core/adapter'

const USAGE = 'such as { userTimeoutSeconds: 20 }, or none to follow grpc.keepalive_timeout_ms (gRPC A18)'

/**
 * withUserTimeout's options: the pin in ms, or undefined to follow A18.
 * Checked and rounded as the core checks a budget (readBudget).
 */
export function readUserTimeoutOption(options: unknown): number | undefined {
  if (options === undefined) return undefined
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionError(
      `withUserTimeout(credentials, options): options must be an object ${USAGE}, received ${describeValue(options)}`,
    )
  }
  for (const key of Object.keys(options)) {
    if (key !== 'userTimeoutSeconds')
      throw new InvalidOptionError(`withUserTimeout(): unknown option "${key}"; the one option is userTimeoutSeconds`)
  }
  const seconds = (options as { userTimeoutSeconds?: unknown }).userTimeoutSeconds
  if (seconds === undefined) return undefined
  const read = readBudget(seconds)
  if (read !== undefined && 'ms' in read) return read.ms
  const zero =
    seconds === 0
      ? '. 0 is not "off": to leave the connections unpinned, pass the credentials without withUserTimeout()'
      : ''
  throw new InvalidOptionError(
    `withUserTimeout(): userTimeoutSeconds must be a finite number of seconds > 0 (at ` +
      `most ${MAX_MS / 1000}), received ${describeValue(seconds)}${zero}; e.g. { userTimeoutSeconds: 20 }`,
  )
}
