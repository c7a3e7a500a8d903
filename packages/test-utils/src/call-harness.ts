import { callFixture, useAdapter, type CallApp, type Framework } from '../apps/index.mjs'
import type { AdapterOptions } from './harness.js'

/** One per call adapter (an RPC server's handlers, each call a request): a server of one method. */
export interface CallHarness {
  readonly name: string
  /**
   * Serves one method answering what `handler()` returns, through the
   * adapter built with `use` (absent: no adapter). Rejects, with nothing
   * listening, when the adapter rejects the options.
   */
  serve(spec: { use?: readonly [AdapterOptions<unknown>]; handler: () => unknown }): Promise<CallApp>
}

/** The call contract's harness of `name`, from its app fixture alone. */
export function callHarnessFor(name: Framework): CallHarness {
  const fixture = callFixture(name)
  return {
    name,
    serve: async ({ use, handler }) => fixture.serveOne({ use: use && (await useAdapter(name, ...use)), handler }),
  }
}
