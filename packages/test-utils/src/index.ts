import { afterAll, describe, expect, it } from 'vitest'
import { support } from '@tcp-user-timeout/core'
import { bootContract } from './contract-boot.js'
import { callbackContract } from './contract-callback.js'
import { concurrencyContract } from './contract-concurrency.js'
import { configContract } from './contract-config.js'
import { connectContract } from './contract-connect.js'
import { headerContract } from './contract-header.js'
import { overrideContract } from './contract-override.js'
import { scopeContract } from './contract-scope.js'
import type { AdapterHarness } from './harness.js'
import { stopTrackingFetch } from './outbound.js'

export type { AdapterHarness, AdapterOptions, AppSpec, Client, NeutralRequest, RouteSpec, RunningApp } from './harness.js'
// The pieces, for adapter-specific tests beside the contract.
export { Barrier } from './barrier.js'
export { get, post, startApp } from './app.js'
export { MALFORMED_HEADER_VALUES } from './contract-header.js'
export { postAfterContinue, postJsonAfterContinue, rawGet } from './client.js'
export { fetchReadBack, httpGet, ownPools, probe, probed, type Exchange, type Probe } from './outbound.js'
export { perSuite, perTest, Teardown } from './teardown.js'
export { serve, startTcpSink, startUpstream, type Served } from './upstream.js'
export { startBlackHole, type BlackHole } from './black-hole.js'

/**
 * The contract every adapter passes, against real servers on 127.0.0.1 and
 * the real kernel (values read back with getsockopt). Call it at the top
 * level of a test file, with the adapter's harness.
 */
export function adapterContract<Req>(harness: AdapterHarness<Req>): void {
  describe(`${harness.name} adapter contract`, () => {
    afterAll(stopTrackingFetch)

    it('runs where TCP_USER_TIMEOUT can be read back (Linux, ffi-rs loaded)', () => {
      // Every read-back below would fail obscurely otherwise.
      expect(support()).toEqual({ supported: true })
    })

    scopeContract(harness)
    overrideContract(harness)
    callbackContract(harness)
    headerContract(harness)
    concurrencyContract(harness)
    bootContract(harness)
    configContract(harness)
    connectContract(harness)
  })
}
