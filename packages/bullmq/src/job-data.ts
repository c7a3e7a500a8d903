import { describeValue as describe, MAX_MS } from '@tcp-user-timeout/core'

/** A job-data budget: its milliseconds, nothing given, or why the value was rejected. */
export type JobDataBudget = { ms: number } | undefined | { rejected: string }

/**
 * Reads `job.data[key]` as a budget in seconds. Never throws: data that is
 * not an object, a missing key (own properties only, so `constructor` or
 * `__proto__` never match) and `null` give undefined; anything but a finite
 * number > 0 that the kernel can hold (a string, an object, NaN, Infinity,
 * 0, a negative or huge number) is rejected, and the configured bound applies.
 */
export function readJobBudget(job: unknown, key: string): JobDataBudget {
  let value: unknown
  try {
    const data = (job as { data?: unknown } | null | undefined)?.data
    if (data === null || typeof data !== 'object' || !Object.prototype.hasOwnProperty.call(data, key)) return undefined
    value = (data as Record<string, unknown>)[key]
  } catch (error) {
    return { rejected: `reading it threw (${(error as Error)?.message})` }
  }
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number' && Number.isFinite(value) && value > 0 && value * 1000 <= MAX_MS) {
    return { ms: Math.ceil(value * 1000) }
  }
  return { rejected: `it is ${describe(value)}` }
}

/** `id` and name of a job for a message, whatever it is. Never throws. */
export function describeJob(job: unknown): string {
  try {
    const { id, name } = job as { id?: unknown; name?: unknown }
    return `job ${typeof id === 'string' ? id : describe(id)}${typeof name === 'string' ? ` ("${name.slice(0, 40)}")` : ''}`
  } catch {
    return 'a job'
  }
}
