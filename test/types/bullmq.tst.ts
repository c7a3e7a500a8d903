import { describe, expect, test } from 'tstyche'
import { withTcpUserTimeout, type BullMQTcpUserTimeoutOptions } from '@tcp-user-timeout/bullmq'

type Job = { id?: string; name: string; data: { timeoutSeconds?: number } }
declare const processor: (job: Job) => Promise<void>

describe('withTcpUserTimeout(processor, options)', () => {
  test('takes a limit, a bound, or a callback with the limit as its default', () => {
    expect(withTcpUserTimeout(processor, { maxExecutionSeconds: 30 })).type.toBe<typeof processor>()
    expect(withTcpUserTimeout(processor, { seconds: 25, jobDataKey: 'timeoutSeconds' })).type.toBe<typeof processor>()
    expect(
      withTcpUserTimeout(processor, {
        seconds: (job) => (job.name === 'export' ? false : undefined),
        maxExecutionSeconds: 30,
      }),
    ).type.not.toRaiseError()
    expect<BullMQTcpUserTimeoutOptions<Job>>().type.toBeAssignableFrom({ maxExecutionSeconds: 6 * 3600 })
  })

  // The messages name the package's own, exported types.
  test('common mistakes read well', () => {
    expect(withTcpUserTimeout(processor, { maxExecution: 30 })).type.toRaiseError(
      "'maxExecution' does not exist in type 'BullMQTcpUserTimeoutOptions<Job>'",
    )
    expect(withTcpUserTimeout(processor, { jobDataKey: 'timeoutSeconds' })).type.toRaiseError(
      "but required in type 'BullMQSecondsOptions<Job>'",
    )
    expect(withTcpUserTimeout(processor, { seconds: 25, maxExecutionSeconds: 30 })).type.toRaiseError(
      "Type 'number' is not assignable to type 'SecondsCallback<Job>'",
    )
    // No allowLongBudget: a job's bound of hours is ordinary, and never warns.
    expect(withTcpUserTimeout(processor, { maxExecutionSeconds: 30, allowLongBudget: true })).type.toRaiseError(
      "'allowLongBudget' does not exist",
    )
  })
})
