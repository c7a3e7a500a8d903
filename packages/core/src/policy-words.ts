/** The options of the policy, by their names in TcpUserTimeoutOptions. */
export type PolicyOption = 'seconds' | 'workerTimeoutSeconds' | 'header' | 'headerFormat' | 'minSeconds' | 'exemptHosts'

/**
 * How a caller's API names the policy's options, so that validation speaks
 * its words: BullMQ's `maxExecutionSeconds` is the policy's
 * `workerTimeoutSeconds`. The web adapters use ADAPTER_WORDS.
 */
export interface PolicyWords {
  /**
   * Every option the caller takes, in the order its messages list them: the
   * policy option it is, or null for one of the caller's own, which the
   * policy ignores (BullMQ's `jobDataKey`).
   */
  readonly options: Readonly<Record<string, PolicyOption | null>>
  /** An options object to show, e.g. `{ seconds: 25 }`. */
  readonly example: string
  /** The error when no budget is given, after `name() `: what is missing, and how to give it. */
  readonly needsBudget: string
  /** What `seconds` may be, for the error when it is something else. */
  readonly secondsType: string
}

export const ADAPTER_WORDS: PolicyWords = Object.freeze({
  options: Object.freeze({
    seconds: 'seconds',
    workerTimeoutSeconds: 'workerTimeoutSeconds',
    header: 'header',
    headerFormat: 'headerFormat',
    minSeconds: 'minSeconds',
    exemptHosts: 'exemptHosts',
  }),
  example: '{ seconds: 25 }',
  needsBudget: 'needs a budget: { seconds: 25 }, { seconds: (req) => ... } or { workerTimeoutSeconds: 30 }',
  secondsType: 'a number of seconds',
})
