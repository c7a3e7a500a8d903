/**
 * The four adapters' harnesses (test/src/adapters), by framework: each
 * builds the framework's app fixture (@tcp-user-timeout/test-utils/apps)
 * with its adapter in, from a framework-neutral spec.
 */
import express from 'express'
import { setGlobalDefault } from '@tcp-user-timeout/core'
import type { Teardown } from '@tcp-user-timeout/test-utils'
import type { AdapterHarness } from '@tcp-user-timeout/test-utils'
import type { Framework } from '@tcp-user-timeout/test-utils/apps'
import { expressHarness } from '../adapters/express.harness.js'
import { fastifyHarness } from '../adapters/fastify.harness.js'
import { honoHarness } from '../adapters/hono.harness.js'
import { koaHarness } from '../adapters/koa.harness.js'

export { FRAMEWORKS, type Framework } from '@tcp-user-timeout/test-utils/apps'

// Each harness's request type differs; the specs here use none of it.
export const HARNESSES: Record<Framework, AdapterHarness<any>> = {
  express: expressHarness('express', express),
  koa: koaHarness,
  fastify: fastifyHarness,
  hono: honoHarness,
}

/** Sets the global default for this test, undone at its end; returns what a connection with no scoped stream then holds, in ms. */
export function idleBound(t: Teardown, globalDefaultSeconds: number | undefined): number {
  if (globalDefaultSeconds !== undefined) {
    setGlobalDefault(globalDefaultSeconds)
    t.add(() => setGlobalDefault(null))
  }
  return (globalDefaultSeconds ?? 0) * 1000
}
