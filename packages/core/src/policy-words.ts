/** The options of the policy, by their names in TcpUserTimeoutOptions. */
export type PolicyOption = 'seconds' | 'workerTimeoutSeconds' | 'header' | 'headerFormat' | 'minSeconds' | 'exemptHosts' | 'allowLongBudget'

/**
 * How a caller's API names the policy's options, so that validation speaks
 * its words: BullMQ's `maxExecutionSeconds` is the policy's
 * `workerTimeoutSeconds`. The web adapters use ADAPTER_WORDS.
 */
export interface PolicyWords {
  /**
   * Every option the caller takes, in the order its messages list them: the
   * policy option it is, or null for one of the caller's own, which the
   * policy ignores (BullMQ's `jobDataKey`). Budgets over an hour draw a
   * warning (TUT_WARN_LONG_BUDGET) only when one of these is
   * `allowLongBudget`, the way to silence it: a caller whose budgets are
   * routinely hours long (BullMQ's jobs) leaves it out, and never warns.
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
    allowLongBudget: 'allowLongBudget',
  }),
  example: '{ seconds: 25 }',
  needsBudget: 'needs a budget: { seconds: 25 }, { seconds: (req) => ... } or { workerTimeoutSeconds: 30 }',
  secondsType: 'a number of seconds',
})

/**
 * Where options were given, for createPolicy's messages: a function's name
 * (a string, printed `name()`), or a place that is not a call (a route's
 * config), printed as its `label`.
 */
export type PolicyName = string | PolicyPlace

/** A place options were given, other than a function call. */
export interface PolicyPlace {
  /** What messages start with, as is: `GET /y config.tcpUserTimeout`, `tcpUserTimeout()`. */
  readonly label: string
  /**
   * How a user turns the bound off there, for the error on a budget of 0
   * (which is not "off"): `config: { tcpUserTimeout: false }`. Default:
   * "give false in place of the options".
   */
  readonly off?: string
}

/** The label and the "off" advice of a PolicyName. */
export function placeOf(name: PolicyName): Required<PolicyPlace> {
  if (typeof name === 'string') return { label: `${name}()`, off: `give ${name}(false) in place of the options` }
  return { label: name.label, off: name.off ?? 'give false in place of the options' }
}
