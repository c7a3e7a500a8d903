import { warningCodes } from '@tcp-user-timeout/core'
import { warn } from '@tcp-user-timeout/core/adapter'
import { patchCopyOf, peerPatchProblem } from './queued-calls.js'

let warned = false

/**
 * Says once, when the application uses this package (withUserTimeout,
 * tcpUserTimeout), that the client patch is not in place, and why. Quiet at
 * import: an application that only imports the package is not told about
 * a grpc-js it does not use. `credentialsClass`: the root class of
 * credentials handed to withUserTimeout, whose copy is patched too when it
 * is not the peer. Never throws.
 */
export function warnIfUnpatched(credentialsClass?: object): void {
  const problem = credentialsClass === undefined ? peerPatchProblem() : patchCopyOf(credentialsClass)
  if (problem === undefined || warned) return
  warned = true
  warn(
    warningCodes.GRPC_UNPATCHED,
    `@tcp-user-timeout/grpc-js could not patch @grpc/grpc-js: ${problem}. ` +
      `Calls still run in their scopes, and credentials are still pinned, ` +
      'but a call queued while its channel resolves or connects opens its ' +
      'HTTP/2 stream in the scope of the call that started the connection. ' +
      'Use @grpc/grpc-js ^1.13 (the peer range), installed where the application resolves it.',
  )
}
