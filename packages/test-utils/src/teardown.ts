import { afterAll, type TestContext } from 'vitest'

type Cleanup = () => unknown

/** Cleanups run last-in first-out, all of them even when one fails. */
export class Teardown {
  private cleanups: Cleanup[] = []

  /** Registers `cleanup(value)` and returns `value`: `const agent = t.defer(new Agent(), (a) => a.destroy())`. */
  defer<T>(value: T, cleanup: (value: T) => unknown): T {
    this.cleanups.push(() => cleanup(value))
    return value
  }

  /** Registers an undo that holds no value (a global setting put back, a channel unsubscribed). */
  add(cleanup: Cleanup): void {
    this.cleanups.push(cleanup)
  }

  async run(): Promise<void> {
    const cleanups = this.cleanups.reverse()
    this.cleanups = []
    const errors: unknown[] = []
    for (const cleanup of cleanups) {
      try {
        await cleanup()
      } catch (error) {
        errors.push(error)
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'teardown failed')
  }
}

/**
 * Per test, not per describe: the contract's tests run concurrently, and an
 * afterEach over a shared list would close the servers of tests still
 * running. The context's onTestFinished is the per-test afterEach (the
 * global one cannot tell concurrent tests apart).
 */
export function perTest(context: Pick<TestContext, 'onTestFinished'>): Teardown {
  const teardown = new Teardown()
  context.onTestFinished(() => teardown.run())
  return teardown
}

/** For what a describe block's tests share (one app for many requests). */
export function perSuite(): Teardown {
  const teardown = new Teardown()
  afterAll(() => teardown.run())
  return teardown
}
