import { createRequire } from 'node:module'
import { dirname } from 'node:path'

// Both builds need the CommonJS loader: @grpc/grpc-js is CommonJS, and its
// internal modules (build/src/*.js) are reached by file path. The ESM build
// has `import.meta.url`; the CommonJS build (where tsup defines it away) has
// the real `require`.
export const nodeRequire: NodeJS.Require =
  typeof import.meta.url === 'string' ? createRequire(import.meta.url) : require

/** A copy of @grpc/grpc-js: the folder of its modules (build/src), or why it cannot be used. */
export type Copy = { readonly dir: string } | { readonly reason: string }

/**
 * The copy the application resolves: the peer, as `require('@grpc/grpc-js')`
 * from here finds it. Loaded through its index first, so its modules
 * initialise in their own order. Never throws.
 */
export function peerCopy(): Copy {
  try {
    const main = nodeRequire.resolve('@grpc/grpc-js')
    nodeRequire(main)
    return { dir: dirname(main) }
  } catch (error) {
    return { reason: `@grpc/grpc-js could not be loaded (${String((error as Error)?.message).split('\n')[0]})` }
  }
}

/**
 * The copy that defined `ChannelCredentials` (the class at the root of some
 * credentials): a module of the loader's cache that exports it. Another
 * copy than the peer (a library's own nested @grpc/grpc-js) is found this
 * way. Never throws.
 */
export function copyDefining(ChannelCredentials: unknown): string | undefined {
  for (const module of Object.values(nodeRequire.cache)) {
    try {
      if ((module?.exports as { ChannelCredentials?: unknown } | undefined)?.ChannelCredentials === ChannelCredentials)
        return dirname(module!.filename)
    } catch {
      // A module whose exports throw when read (a lazy getter): not the one.
    }
  }
  return undefined
}
