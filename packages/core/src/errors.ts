import { getSystemErrorName } from 'node:util'

/**
 * Every error this library throws carries a stable `code`, so callers can
 * branch on it without parsing messages (the convention of Node core and
 * undici). Configuration errors are thrown when something is configured,
 * never later while a request is being served.
 */
export const codes = {
  INVALID_ARG: 'TUT_ERR_INVALID_ARG',
  OUT_OF_RANGE: 'TUT_ERR_OUT_OF_RANGE',
  INVALID_OPTION: 'TUT_ERR_INVALID_OPTION',
  SOCKOPT: 'TUT_ERR_SOCKOPT',
} as const

export type ErrorCode = (typeof codes)[keyof typeof codes]

/** Codes of the process warnings this library emits (`process.on('warning')`, `--no-warnings`). */
export const warningCodes = {
  /** On Linux, ffi-rs could not be loaded: the library is a no-op; the message says why and how to fix it. */
  NATIVE_UNAVAILABLE: 'TUT_WARN_NATIVE_UNAVAILABLE',
  /**
   * A budget over an hour (a `seconds`, a `workerTimeoutSeconds`, a `seconds`
   * callback's answer, `withTimeout`, `setGlobalDefault`): most likely
   * milliseconds by mistake. Once per middleware or route
   * (`allowLongBudget: true` says it is meant), once per process for the
   * core's functions (`--disable-warning=TUT_WARN_LONG_BUDGET`).
   */
  LONG_BUDGET: 'TUT_WARN_LONG_BUDGET',
  /**
   * The middleware was registered after routes it therefore never sees
   * (Express: route layers before it; Fastify: routes declared before the
   * plugin loaded). Once per app; the fix is to register it first.
   */
  LATE_REGISTRATION: 'TUT_WARN_LATE_REGISTRATION',
  /** An `observe()` listener threw: caught, reported once per observer. */
  LISTENER_THREW: 'TUT_WARN_LISTENER_THREW',
  /**
   * @tcp-user-timeout/grpc-js could not patch the application's
   * @grpc/grpc-js (absent, or internals other than 1.13+'s): a call queued
   * while its channel connects opens its stream in the scope of the call
   * that started the connection. Once, when the package is first used.
   */
  GRPC_UNPATCHED: 'TUT_WARN_GRPC_UNPATCHED',
} as const

export type WarningCode = (typeof warningCodes)[keyof typeof warningCodes]

// The ESM and the CommonJS build of this package can both be loaded in one
// process (the dual-package hazard; see shared.ts), each with its own copy
// of these classes: an error thrown by one build must still be `instanceof`
// the other's class. As undici does, each class brands its instances with a
// registry symbol (the same in both builds) on its prototype, and its static
// Symbol.hasInstance checks the brand (brand(), after each class: the
// classes stay plain in their types). A subclass declared by a user keeps
// the ordinary prototype-chain check.
const kInvalidArgument = Symbol.for('tcp-user-timeout.error.InvalidArgumentError')
const kOutOfRange = Symbol.for('tcp-user-timeout.error.OutOfRangeError')
const kInvalidOption = Symbol.for('tcp-user-timeout.error.InvalidOptionError')
const kSocketOption = Symbol.for('tcp-user-timeout.error.SocketOptionError')

/** Brands `Class`'s instances with `key`, and makes `instanceof Class` check the brand. */
function brand(Class: Function, key: symbol): void {
  Object.defineProperty(Class.prototype, key, { value: true })
  Object.defineProperty(Class, Symbol.hasInstance, {
    value(this: Function, instance: unknown): boolean {
      // A user's subclass inherits this: it keeps the prototype-chain check.
      if (this !== Class) return Function.prototype[Symbol.hasInstance].call(this, instance)
      return (
        (typeof instance === 'object' || typeof instance === 'function') &&
        instance !== null &&
        (instance as Record<symbol, unknown>)[key] === true
      )
    },
  })
}

/** A value of the wrong type was passed to a function of this library. */
export class InvalidArgumentError extends TypeError {
  readonly code = codes.INVALID_ARG
  override name = 'InvalidArgumentError'
}
brand(InvalidArgumentError, kInvalidArgument)

/** A number was outside the range the kernel (or the option) accepts. */
export class OutOfRangeError extends RangeError {
  readonly code = codes.OUT_OF_RANGE
  override name = 'OutOfRangeError'
}
brand(OutOfRangeError, kOutOfRange)

/** A middleware or `hardenServer` option is invalid. */
export class InvalidOptionError extends TypeError {
  readonly code = codes.INVALID_OPTION
  override name = 'InvalidOptionError'
}
brand(InvalidOptionError, kInvalidOption)

/**
 * `setsockopt`/`getsockopt` failed on an explicit call. Shaped like Node's own
 * system errors: `errno` is the negative errno, `syscall` the call, and
 * `errnoName` the symbolic name (`EBADF`, `ENOTSOCK`, ...).
 */
export class SocketOptionError extends Error {
  readonly code = codes.SOCKOPT
  override name = 'SocketOptionError'
  readonly errno: number
  readonly errnoName: string
  readonly syscall: 'setsockopt' | 'getsockopt'
  readonly option: string

  constructor(syscall: 'setsockopt' | 'getsockopt', option: string, errno: number, detail?: string) {
    const name = errnoName(errno)
    super(`${syscall}(${option}) failed: ${name}${detail ? ` (${detail})` : ''}`)
    this.errno = -Math.abs(errno)
    this.errnoName = name
    this.syscall = syscall
    this.option = option
  }
}
brand(SocketOptionError, kSocketOption)

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-Math.abs(errno))
  } catch {
    return `errno ${errno}`
  }
}

/**
 * How a message shows what it received (adapters: `describeValue`). The
 * value is a user's mistake, so showing it must not make another: no
 * String() of an object (its toString or a Proxy may throw, or print a
 * config with secrets), and a string is cut, so a body pasted by mistake
 * does not become a log line of megabytes. Only its kind is shown then.
 */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return 'a function'
  if (typeof value === 'symbol') return 'a symbol'
  return isArray(value) ? 'an array' : 'an object'
}

/** Array.isArray, which throws on a revoked Proxy. */
function isArray(value: unknown): boolean {
  try {
    return Array.isArray(value)
  } catch {
    return false
  }
}
