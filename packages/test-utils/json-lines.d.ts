import type { ChildProcess } from 'node:child_process'

export type ChildEvent = { event: string; [key: string]: unknown }
export type ChildExit = { code: number | null; signal: NodeJS.Signals | null }

export interface JsonLines {
  readonly events: ChildEvent[]
  readonly exited: Promise<ChildExit>
  /** The exit, once it happened. */
  exit(): ChildExit | undefined
  /** Everything the child wrote to stderr (for failure messages). */
  stderr(): string
  /**
   * The first event with this name (received or coming) at index `from` or later; rejects
   * after `ms`, or if the child exits first.
   */
  next(event: string, ms: number, from?: number): Promise<ChildEvent>
  /** Writes one JSON line to the child's stdin. */
  send(message: object): void
}

/**
 * Reads a spawned `child` (stdio: 'pipe'). `name` labels its errors. With
 * `failOnError`, an awaited event that carries `error` rejects.
 */
export declare function readJsonLines(child: ChildProcess, name: string, options?: { failOnError?: boolean }): JsonLines
