import { describeValue, readBudget, type RequestBudget } from '@tcp-user-timeout/core/adapter'

/**
 * Reads `job.data[key]` as a budget in seconds, with the core's checks and
 * rounding. Never throws: data that is not an object, a missing key (own
 * properties only, so `constructor` or `__proto__` never match) and `null`
 * give undefined; anything but a finite number > 0 that the kernel can hold
 * (a string, an object, NaN, Infinity, 0, a negative or huge number) is
 * rejected, and the configured bound applies.
 */
export function readJobBudget(job: unknown, key: string): RequestBudget | undefined {
  let value: unknown
  try {
    const data = (job as { data?: unknown } | null | undefined)?.data
    if (data === null || typeof data !== 'object' || !Object.prototype.hasOwnProperty.call(data, key)) return undefined
    value = (data as Record<string, unknown>)[key]
  } catch (error) {
    return { rejected: `reading it threw (${(error as Error)?.message})` }
  }
  return readBudget(value)
}

/** `id` and name of a job for a message, whatever it is. Never throws. */
export function describeJob(job: unknown): string {
  try {
    const { id, name } = job as { id?: unknown; name?: unknown }
    const named = typeof name === 'string' ? ` ("${name.slice(0, 40)}")` : ''
    return `job ${typeof id === 'string' ? id : describeValue(id)}${named}`
  } catch {
    return 'a job'
  }
}
