import type { HostPattern, PolicyKeys, SecondsCallback } from '@tcp-user-timeout/core/adapter'

/** What `withTcpUserTimeout` takes besides the bound (part of both forms of BullMQTcpUserTimeoutOptions). */
export interface BullMQSharedOptions {
  /** A key of `job.data` holding the producer's own budget in seconds; it can only tighten. */
  jobDataKey?: string
  /** Floor of a job-data budget, in seconds (default 1). */
  minSeconds?: number
  /** Sockets to these hosts are left alone. */
  exemptHosts?: HostPattern[]
}

/** Options with the job's time limit: the bound is headroom(maxExecutionSeconds). */
export interface BullMQLimitOptions<Job = unknown> extends BullMQSharedOptions {
  /** The job's time limit: the bound is headroom(maxExecutionSeconds) (max >= 10 ? max - 5 : max * 0.9). */
  maxExecutionSeconds: number
  /** A callback of the job: undefined → headroom(maxExecutionSeconds), false → no bound. */
  seconds?: SecondsCallback<Job>
}

/** Options with the bound in `seconds`: a number, or a callback of the job. */
export interface BullMQSecondsOptions<Job = unknown> extends BullMQSharedOptions {
  /**
   * Not with a fixed `seconds`, which is the whole bound: give
   * `maxExecutionSeconds` alone, or with a `seconds` callback.
   */
  maxExecutionSeconds?: undefined
  /** The bound in seconds, or a callback of the job: undefined or false → no bound for that job. */
  seconds: number | SecondsCallback<Job>
}

/**
 * What `withTcpUserTimeout` takes, validated once, when the processor is
 * wrapped. `Job` is what the processor receives (BullMQ's `Job`, or the
 * `SandboxedJob` inside a sandboxed processor file). The type requires a
 * bound, as the validation does.
 */
export type BullMQTcpUserTimeoutOptions<Job = unknown> = BullMQLimitOptions<Job> | BullMQSecondsOptions<Job>

/**
 * These options are the core policy's, under BullMQ's names: the core
 * validates them, and words its errors, with these keys. `jobDataKey` is
 * read here: the job-data budget reaches the policy as a number. No key is
 * `allowLongBudget`, so budgets over an hour never warn: jobs of hours are
 * ordinary, and both options say seconds in their names.
 */
export const BULLMQ_KEYS: PolicyKeys = Object.freeze({
  maxExecutionSeconds: 'workerTimeoutSeconds',
  seconds: 'seconds',
  jobDataKey: null,
  minSeconds: 'minSeconds',
  exemptHosts: 'exemptHosts',
})
