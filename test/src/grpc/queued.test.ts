/**
 * Importing @tcp-user-timeout/grpc-js patches the application's grpc-js so
 * that a call queued while its channel resolves or connects does its pick,
 * opens its HTTP/2 stream and runs its callback in the scope where the
 * call was made, not in the scope of the call that started the connection.
 * Read through the core's multiplexed rule on the channel's one real
 * connection (queued-scenario.ts); queued-uninstalled.test.ts is the same
 * without the patch.
 */
import { describe, it } from 'vitest'
import '@tcp-user-timeout/grpc-js'
import { perTest } from '@tcp-user-timeout/test-utils/teardown'
import { queuedCalls } from './queued-scenario.js'

describe('calls queued while the channel connects run in their own scopes', { concurrent: true }, () => {
  it.for([
    [
      'an address target (queued for the config, then for the pick)',
      (port: number) => `127.0.0.1:${port}`,
      '127.0.0.1',
    ],
    ['a dns: target resolved by grpc-js', (port: number) => `dns:localhost:${port}`, 'localhost'],
  ] as const)(
    '%s: the connection holds the largest bound in flight (7000), then 7000 for B alone, then 0',
    async ([, target, host], ctx) => {
      const { expect } = ctx
      const q = await queuedCalls(perTest(ctx), target, host)
      expect(q.heldWithAll, "B's stream was requested in B's 7 s scope, not in A's 3 s one").toBe(7000)
      expect(await q.finishA(), 'A done, B still in flight').toBe(7000)
      await q.finishRest(0)
      expect(q.callbackScope).toEqual({ A: 3000, B: 7000, C: undefined })
    },
  )
})
