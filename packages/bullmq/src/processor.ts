import { InvalidArgumentError, InvalidOptionError } from '@tcp-user-timeout/core'
import { createPolicy, describeValue, reportOnce, runUntilSettled } from '@tcp-user-timeout/core/adapter'
import type { PolicyApi, TcpUserTimeoutOptions } from '@tcp-user-timeout/core/adapter'
import { describeJob, readJobBudget } from './job-data.js'
import { BULLMQ_KEYS, type BullMQTcpUserTimeoutOptions } from './options.js'

const NAME = 'withTcpUserTimeout'
const LABEL: PolicyApi = { api: NAME, framework: 'bullmq', keys: BULLMQ_KEYS }

/** A processor: BullMQ's `(job, token?, signal?) => Promise`, or a sandboxed file's `(job) => ...`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any processor, whatever its job's type
export type AnyProcessor = (job: any, ...rest: any[]) => unknown

/**
 * Wraps a BullMQ processor so that each job runs in a scope: every socket it
 * opens, and every HTTP exchange it makes, gets TCP_USER_TIMEOUT =
 * headroom(maxExecutionSeconds) (or `seconds`), the core's
 * `withJobTimeout`. Options are validated here, once, by the core's policy
 * (coded errors); a job never fails because of them or of its data. The
 * job-data budget is the policy's asked budget: it only tightens,
 * `min(asked, configured)`, floored at `minSeconds`. The wrapper has the
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
      `${NAME}(processor, options): processor must be a function (job, ` +
        `token, signal) => Promise, received ${describeValue(processor)}; ` +
        'a sandboxed processor (a file path or URL) ' +
        'runs in another process: wrap the function that file exports instead',
    )
  }
  // BullMQ's options are the policy's, under BullMQ's names (BULLMQ_KEYS).
  const policy = createPolicy<Parameters<P>[0]>(options as unknown as TcpUserTimeoutOptions<Parameters<P>[0]>, LABEL)
  const jobDataKey = checkJobDataKey(options.jobDataKey)
  const report = reportOnce()

  const askedMs = (job: unknown): number | undefined => {
    if (jobDataKey === undefined) return undefined
    const budget = readJobBudget(job, jobDataKey)
    if (budget === undefined || 'ms' in budget) return budget?.ms
    report(
      new InvalidArgumentError(
        `${NAME}(): ${describeJob(job)} has data.${jobDataKey} that is not a budget: ${budget.rejected}; ` +
          `it must be a number of seconds > 0 (it can only tighten the bound); ` +
          `the configured bound applies. Reported once per processor.`,
      ),
    )
    return undefined
  }

  const wrapped = function (this: unknown, job: Parameters<P>[0], ...rest: unknown[]): unknown {
    // Resolving never throws: a bad callback answer or bad job data is
    // published on tcp-user-timeout:error and the configured bound applies.
    const scope = policy.resolve(job, askedMs(job))
    // The job's life: once it has settled, the sockets it opened go back to the global default.
    return runUntilSettled(scope, () => processor.call(this, job, ...rest))
  }
  // BullMQ reads processor.length: 3 declares an AbortSignal parameter.
  Object.defineProperty(wrapped, 'length', { value: processor.length })
  return wrapped as unknown as P
}

/** `jobDataKey` is BullMQ's own option (the policy ignores it): any key of job.data. */
function checkJobDataKey(key: unknown): string | undefined {
  if (key === undefined || (typeof key === 'string' && key.length > 0 && key.length <= 200)) return key
  throw new InvalidOptionError(
    `${NAME}(): jobDataKey must be the name of a key of job.data (a non-empty string), ` +
      `received ${describeValue(key)}; e.g. { jobDataKey: 'timeoutSeconds' }`,
  )
}
