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

export type {
  AdapterHarness,
  AdapterOptions,
  AppSpec,
  Client,
  NeutralRequest,
  RouteSpec,
  RunningApp,
} from './harness.js'
// The harnesses, built from the app fixtures (../apps): an adapter's
// contract spec is `adapterContract(harnessFor(name))`, or
// `callAdapterContract(callHarnessFor(name))`.
export { harnessFor } from './harness-for.js'
export { callHarnessFor, type CallHarness } from './call-harness.js'
export { callAdapterContract } from './contract-call.js'
// The pieces, for adapter-specific tests and the cross-package tests in test/.
// npm undici is loaded by ownPools only, when first called.
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
export { captureWarnings, type CapturedWarnings, type ProcessWarning } from './warnings.js'
export { whenAllHold } from './when-all-hold.js'

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
