/**
 * Resolves every `arrive()` once `parties` callers have arrived: the event
 * that proves they are all in flight at once. The guard is a watchdog, not a
 * wait: it only fires when the adapter under test broke concurrency, and
 * turns a hang into a failure that names the barrier.
 */
export class Barrier {
  private arrived = 0
  private readonly done: Promise<void>
  private open!: () => void
  private fail!: (error: Error) => void
  private readonly guard: NodeJS.Timeout

  constructor(
    private readonly parties: number,
    private readonly what: string,
    guardMs = 10_000,
  ) {
    this.done = new Promise<void>((resolve, reject) => {
      this.open = resolve
      this.fail = reject
    })
    // Every arrival gets a rejection handler through arrive(); this one keeps
    // a never-awaited barrier from being an unhandled rejection.
    this.done.catch(() => {})
    this.guard = setTimeout(
      () => this.fail(new Error(`${this.what}: ${this.arrived} of ${this.parties} arrived within ${guardMs} ms`)),
      guardMs,
    )
    this.guard.unref()
  }

  arrive(): Promise<void> {
    if (++this.arrived === this.parties) {
      clearTimeout(this.guard)
      this.open()
    }
    return this.done
  }
}
