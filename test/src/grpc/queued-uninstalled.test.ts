/**
 * The control of queued.test.ts: the same calls once core's uninstall()
 * has taken every patch out (the grpc-js one included) and install() has
 * put the core's own hooks back, not ours. grpc-js then replays B and C in
 * A's context: their streams claim A's 3 s, and their callbacks run in it.
 * This is what the patch fixes, and shows uninstall() undoes it. Its own
 * file: uninstall() is process-wide.
 */
import { describe, it } from 'vitest'
import '@tcp-user-timeout/grpc-js'
import { install, uninstall } from '@tcp-user-timeout/core'
import { perTest } from '@tcp-user-timeout/test-utils/teardown'
import { queuedCalls } from './queued-scenario.js'

describe('without the grpc-js patch (uninstall(), then install())', () => {
  it('queued calls run in the scope of the call that started the connection', async (ctx) => {
    const { expect } = ctx
    uninstall()
    expect(install()).toBe(true)
    const q = await queuedCalls(perTest(ctx), (port) => `127.0.0.1:${port}`)
    expect(q.heldWithAll, "B's stream claimed A's 3 s").toBe(3000)
    await q.finishA()
    await q.finishRest(0)
    expect(q.callbackScope).toEqual({ A: 3000, B: 3000, C: 3000 })
  })
})
