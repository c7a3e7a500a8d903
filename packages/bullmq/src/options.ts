import { describeValue as describe, headroom, InvalidOptionError, MAX_MS, type HostPattern, type SecondsCallback } from '@tcp-user-timeout/core'

/** What `withTcpUserTimeout` takes besides the bound. */
interface CommonOptions {
  /** A key of `job.data` holding the producer's own budget in seconds; it can only tighten. */
  jobDataKey?: string
  /** Floor of a job-data budget, in seconds (default 1). */
  minSeconds?: number
  /** Sockets to these hosts are left alone. */
  exemptHosts?: HostPattern[]
}

/**
 * What `withTcpUserTimeout` takes, validated once, when the processor is
 * wrapped. `Job` is what the processor receives (BullMQ's `Job`, or the
 * `SandboxedJob` inside a sandboxed processor file). The type requires a
 * bound, as the validation does.
 */
export type BullMQTcpUserTimeoutOptions<Job = unknown> = CommonOptions &
  (
    | {
        /** The job's time limit: the bound is headroom(maxExecutionSeconds) (max >= 10 ? max - 5 : max * 0.9). */
        maxExecutionSeconds: number
        /** A callback of the job: undefined → headroom(maxExecutionSeconds), false → no bound. */
        seconds?: SecondsCallback<Job>
      }
    | {
        maxExecutionSeconds?: undefined
        /** The bound in seconds, or a callback of the job: undefined or false → no bound for that job. */
        seconds: number | SecondsCallback<Job>
      }
  )

export const optionNames = ['maxExecutionSeconds', 'seconds', 'jobDataKey', 'minSeconds', 'exemptHosts'] as const

/**
 * Checks what the core's shared policy cannot word for this API (the option
 * names are BullMQ's, not a web framework's); the rest (seconds, minSeconds,
 * exemptHosts) is validated by the core with the same coded errors.
 */
export function checkOptions(options: unknown, name: string): asserts options is BullMQTcpUserTimeoutOptions<never> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOptionError(
      `${name}(processor, options) takes an options object such as { maxExecutionSeconds: 30 }, received ${describe(options)}`,
    )
  }
  for (const key of Object.keys(options)) {
    if (!(optionNames as readonly string[]).includes(key)) {
      throw new InvalidOptionError(`${name}(): unknown option "${key}"; the options are ${optionNames.join(', ')}`)
    }
  }
  const o = options as BullMQTcpUserTimeoutOptions<never>
  if (o.maxExecutionSeconds !== undefined) {
    const max = o.maxExecutionSeconds
    if (typeof max !== 'number' || !Number.isFinite(max) || max <= 0 || headroom(max) * 1000 > MAX_MS) {
      throw new InvalidOptionError(
        `${name}(): maxExecutionSeconds must be the job's time limit in seconds, a finite number > 0 (at most ${MAX_MS / 1000 + 5}), received ${describe(max)}; e.g. { maxExecutionSeconds: 30 } bounds its sockets to 25 s`,
      )
    }
  }
  if (typeof o.seconds === 'number' && o.maxExecutionSeconds !== undefined) {
    throw new InvalidOptionError(
      `${name}(): give seconds or maxExecutionSeconds, not both (seconds may be a callback of the job, with maxExecutionSeconds as its default)`,
    )
  }
  if (o.seconds === undefined && o.maxExecutionSeconds === undefined) {
    throw new InvalidOptionError(
      `${name}() needs a bound: { maxExecutionSeconds: 30 }, { seconds: 25 } or { seconds: (job) => ..., maxExecutionSeconds: 30 }; job data can only tighten it, never supply it`,
    )
  }
  if (o.seconds !== undefined && typeof o.seconds !== 'number' && typeof o.seconds !== 'function') {
    throw new InvalidOptionError(
      `${name}(): seconds must be a number of seconds or a callback (job) => seconds | undefined | false, received ${describe(o.seconds)}`,
    )
  }
  if (o.jobDataKey !== undefined && (typeof o.jobDataKey !== 'string' || o.jobDataKey.length === 0 || o.jobDataKey.length > 200)) {
    throw new InvalidOptionError(
      `${name}(): jobDataKey must be the name of a key of job.data (a non-empty string), received ${describe(o.jobDataKey)}; e.g. { jobDataKey: 'timeoutSeconds' }`,
    )
  }
}
