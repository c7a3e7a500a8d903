import type { ChildProcess, SpawnOptions } from 'node:child_process'

export interface NetnsSupport {
  ok: boolean
  reason?: string
}

/** Root, `ip` present, and `ip netns add` works (tried once, cached). Never throws. */
export declare function canUseNetns(): NetnsSupport
/** Runs `ip ...args`; resolves with its stdout. */
export declare function ip(args: string[]): Promise<string>
/** What `ip` (or any command run by execFile) said on stderr, else the error's message. */
export declare function stderrOf(error: unknown): string
/**
 * Creates a uniquely named namespace (`<prefix>-<pid>-<n>`, prefix default
 * `tut`) with `lo` up; registered for teardown.
 */
export declare function createNetns(prefix?: string): Promise<string>
/** Whether `name` was made here and not yet deleted. */
export declare function isLiveNetns(name: string): boolean
/** Deletes a namespace made here (no-op if already gone). */
export declare function deleteNetns(name: string): Promise<void>
/** `ip link set lo <state>` inside the namespace. */
export declare function setLoopback(name: string, state: 'up' | 'down'): Promise<void>
/** Cuts every path inside the namespace: `ip link set lo down`. */
export declare function cutLoopback(name: string): Promise<void>
/** Packets sent on the namespace's `lo`, and packets it dropped on receive (null where `ip` does not say). */
export declare function loCounters(name: string): Promise<{ packets: number | null; dropped: number | null }>

/**
 * Spawns `command` (an argv) inside namespace `name`, registered so that
 * cleanupNetns() and the 'exit' hook kill it; the pid is the command's own.
 * `fds`: at least that many descriptors (RLIMIT_NOFILE raised when the hard
 * limit is lower). stdio defaults to 'pipe'.
 */
export declare function execInNetns(
  name: string,
  command: string[],
  options?: SpawnOptions & { fds?: number },
): ChildProcess

export type ChildEvent = { event: string; [key: string]: unknown }

export interface NetnsChild {
  readonly ns: string
  readonly events: ChildEvent[]
  /** Everything the child wrote to stderr (for failure messages). */
  readonly stderr: () => string
  /** The first event (already received or coming) with this name; rejects after `ms`, or if the child exits first. */
  next(event: string, ms: number): Promise<ChildEvent>
  /** Writes one JSON line to the child's stdin. */
  send(message: object): void
  /**
   * Cuts `lo` in the namespace, then tells the child `{ "cmd": "cut" }`. Resolves with `performance.now()` of the cut.
   */
  cut(): Promise<number>
  /** Kills the child, waits for it to exit, deletes the namespace (unless shared: spawnInExistingNetns). Idempotent. */
  close(): Promise<void>
}

/**
 * Makes a namespace and runs `node script ...args` inside it. The script
 * talks JSON lines: events on stdout, commands on stdin.
 */
export declare function spawnInNetns(script: string, args?: string[]): Promise<NetnsChild>
/**
 * Runs `node script ...args` inside a namespace made here (`createNetns`)
 * that several children share. Its `close()` kills this child and leaves
 * the namespace, which its maker deletes (`deleteNetns`, `cleanupNetns`, or
 * at exit). Rejects for a namespace not made here.
 */
export declare function spawnInExistingNetns(ns: string, script: string, args?: string[]): Promise<NetnsChild>
/** Kills every process and deletes every namespace made here (a bench's or the demo's end). */
export declare function cleanupNetns(): Promise<void>
/** SIGINT/SIGTERM: cleans up, then exits 130. `stopping` turns true when a signal came. */
export declare function cleanupOnSignals(): { stopping: boolean }
