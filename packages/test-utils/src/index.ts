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
import { stopTrackingFetch } from './undici-exchanges.js'

export type { AdapterHarness, AdapterOptions, AppSpec, Client, NeutralRequest, RouteSpec, RunningApp } from './harness.js'
// The pieces, for adapter-specific tests and the cross-package tests in test/.
// This entry loads npm undici (ownPools), whose import installs its Agent as
// the global dispatcher: a test of Node's bundled undici imports
// `@tcp-user-timeout/test-utils/teardown` and `/listen` instead.
export { Barrier } from './barrier.js'
export { get, post, startApp } from './app.js'
export { startBlackHole, type BlackHole } from './black-hole.js'
export { postAfterContinue, postJsonAfterContinue, rawGet, type RawResponse } from './client.js'
export { connected } from './connected.js'
export { MALFORMED_HEADER_VALUES } from './contract-header.js'
export { httpGet, type Exchange, type GetOptions } from './http-get.js'
export { listen, serve, type Served } from './listen.js'
export { ownPools, type Pools } from './pools.js'
export { orNull, probe, probed, type Probe } from './probe.js'
export { startTcpSink } from './tcp-sink.js'
export { perSuite, perTest, Teardown } from './teardown.js'
export { fetchReadBack, trackUndiciExchanges, type Seen, type UndiciExchanges } from './undici-exchanges.js'
export { answerJson, chunked, holding, shuffling, startUpstream, type UpstreamHandler } from './upstream.js'

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
