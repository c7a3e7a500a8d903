/**
 * What the namespace tests (root) share on top of
 * @tcp-user-timeout/test-utils/netns: whether they run, and children whose
 * namespaces are torn down with the test that started them.
 */
import { beforeAll } from 'vitest'
import {
  canUseNetns,
  spawnInExistingNetns,
  spawnInNetns,
  type ChildEvent,
  type NetnsChild,
  type NetnsSupport,
} from '@tcp-user-timeout/test-utils/netns'
import type { Teardown } from '@tcp-user-timeout/test-utils/teardown'

/**
 * Skips where namespaces are unusable (not root), with the reason printed;
 * in CI (env CI set) nothing skips: a missing capability fails.
 */
export function netnsGate(
  label: string,
  what: string,
  support: NetnsSupport = canUseNetns(),
): { skip: boolean; requireInSuite(): void } {
  const skip = !support.ok && !process.env.CI
  if (skip) console.log(`[${label}] skipping ${what}: ${support.reason}`)
  return {
    skip,
    /** Call in the describe block: reached only when not skipped, so in CI a missing capability is a failure. */
    requireInSuite() {
      beforeAll(() => {
        if (!support.ok) throw new Error(`network namespaces are required here (CI is set): ${support.reason}`)
      })
    },
  }
}

/** `node script ...args` in a namespace of its own; the child is killed and the namespace deleted with `t`. */
export async function childInNetns(t: Teardown, script: string, args: string[]): Promise<NetnsChild> {
  return t.defer(await spawnInNetns(script, args), (c) => c.close())
}

/** `node script ...args` in a namespace made here that several children share; killed with `t`. */
export async function childInExistingNetns(
  t: Teardown,
  ns: string,
  script: string,
  args: string[],
): Promise<NetnsChild> {
  return t.defer(await spawnInExistingNetns(ns, script, args), (c) => c.close())
}

/** The child's event, or null if none came within `ms`; rejects if the child exited first. */
export async function nextOrNull(child: NetnsChild, event: string, ms: number): Promise<ChildEvent | null> {
  try {
    return await child.next(event, ms)
  } catch (error) {
    if (/ within \d+ ms/.test((error as Error).message)) return null
    throw error
  }
}
