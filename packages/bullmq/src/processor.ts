import {
  channels,
  createPolicy,
  describeValue as describe,
  InvalidArgumentError,
  runUntilSettled,
  type ErrorMessage,
  type TcpUserTimeoutOptions,
} from '@tcp-user-timeout/core'
import { describeJob, readJobBudget } from './job-data.js'
import { checkOptions, type BullMQTcpUserTimeoutOptions } from './options.js'

const NAME = 'withTcpUserTimeout'

/**
 * The job-data budget travels the HTTP header's path through the core's
 * policy (header format 'milliseconds'), so it obeys the same rule: it only
 * tightens, `min(asked, configured)`, floored at `minSeconds`.
 */
const JOB_DATA = 'x-job-data-budget-ms'

/** A processor: BullMQ's `(job, token?, signal?) => Promise`, or a sandboxed file's `(job) => ...`. */
export type AnyProcessor = (job: any, ...rest: any[]) => unknown

/**
 * Wraps a BullMQ processor so that each job runs in a scope: every socket it
 * opens, and every HTTP exchange it makes, gets TCP_USER_TIMEOUT =
 * headroom(maxExecutionSeconds) (or `seconds`), the core's
 * `withJobTimeout`. Options are validated here, once (coded errors); a job
 * never fails because of them or of its data. The wrapper has the
 * processor's arity, so BullMQ still passes an AbortSignal to a processor
 * that declares one.
 *
 *   new Worker('mail', withTcpUserTimeout(processor, { maxExecutionSeconds: 30 }), { connection })
 */
export function withTcpUserTimeout<P extends AnyProcessor>(
  processor: P,
  options: BullMQTcpUserTimeoutOptions<Parameters<P>[0]>,
): P {
  if (typeof processor !== 'function') {
    throw new InvalidArgumentError(
      `${NAME}(processor, options): processor must be a function (job, token, signal) => Promise, received ${describe(processor)}; ` +
        'a sandboxed processor (a file path or URL) runs in another process: wrap the function that file exports instead',
    )
  }
  checkOptions(options, NAME)
  const { maxExecutionSeconds, seconds, jobDataKey, minSeconds, exemptHosts } = options
  // Validated above: a bound is given; `seconds` and maxExecutionSeconds are the core's seconds and workerTimeoutSeconds.
  const policy = createPolicy<Parameters<P>[0]>(
    {
      seconds,
      workerTimeoutSeconds: maxExecutionSeconds,
      header: jobDataKey === undefined ? undefined : JOB_DATA,
      headerFormat: 'milliseconds',
      minSeconds,
      exemptHosts,
    } as TcpUserTimeoutOptions<Parameters<P>[0]>,
    NAME,
  )

  let reported = false
  const budgetOf = (job: unknown): string | undefined => {
    if (jobDataKey === undefined) return undefined
    const budget = readJobBudget(job, jobDataKey)
    if (budget === undefined) return undefined
    if ('ms' in budget) return String(budget.ms)
    if (!reported) {
      reported = true
      const error = new InvalidArgumentError(
        `${NAME}(): ${describeJob(job)} has data.${jobDataKey} that is not a budget: ${budget.rejected}; ` +
          `it must be a number of seconds > 0 (it can only tighten the bound); the configured bound applies. Reported once per processor.`,
      )
      if (channels.error.hasSubscribers) channels.error.publish({ socket: null, error } satisfies ErrorMessage)
    }
    return undefined
  }

  const wrapped = function (this: unknown, job: Parameters<P>[0], ...rest: unknown[]): unknown {
    // Resolving never throws: a bad callback answer or bad job data is
    // published on tcp-user-timeout:error and the configured bound applies.
    const scope = policy.resolve(job, budgetOf(job))
    // The job's life: once it has settled, the sockets it opened go back to the global default.
    return runUntilSettled(scope, () => processor.call(this, job, ...rest))
  }
  // BullMQ reads processor.length: 3 declares an AbortSignal parameter.
  Object.defineProperty(wrapped, 'length', { value: processor.length })
  return wrapped as unknown as P
}
