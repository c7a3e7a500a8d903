/**
 * The HTTP frameworks' adapters (the list of @tcp-user-timeout/test-utils/apps),
 * each with the contract's harness built from its app fixture, and the
 * global default a test sets.
 */
import { setGlobalDefault } from '@tcp-user-timeout/core'
import { harnessFor, type AdapterHarness, type Teardown } from '@tcp-user-timeout/test-utils'
import { FRAMEWORKS, type Framework } from '@tcp-user-timeout/test-utils/apps'

export { FRAMEWORKS, type Framework }

export const HARNESSES: Record<Framework, AdapterHarness<unknown>> = Object.fromEntries(
  FRAMEWORKS.map((framework) => [framework, harnessFor(framework)]),
)

/**
 * Sets the global default for this test, undone at its end; returns what a connection
 * with no scoped stream then holds, in ms.
 */
export function idleBound(t: Teardown, globalDefaultSeconds: number | undefined): number {
  if (globalDefaultSeconds !== undefined) {
    setGlobalDefault(globalDefaultSeconds)
    t.add(() => setGlobalDefault(null))
  }
  return (globalDefaultSeconds ?? 0) * 1000
}
