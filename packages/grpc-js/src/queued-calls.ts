import { join } from 'node:path'
import { currentScope, isWrapped, runInScope, wrap, type Hook } from '@tcp-user-timeout/core/adapter'
import { copyDefining, nodeRequire, peerCopy } from './peer.js'

/**
 * grpc-js (1.13, 1.14) queues a call that cannot start yet: while the
 * channel resolves its target (ResolvingCall.getConfig, replayed by the
 * resolver's callback) and while it connects (LoadBalancingCall.doPick,
 * replayed by the load balancer's state change). A replay runs in the
 * context of whatever unblocked the queue, which is the call that started
 * the connection, so every call queued behind it would open its HTTP/2
 * stream (`session.request`) in that call's scope. The core gives each
 * stream the scope where `session.request()` ran: here each call's own
 * work is replayed in the scope where the call was made.
 *
 * The scope is recorded when the channel creates the call objects
 * (InternalChannel.createResolvingCall, createLoadBalancingCall: a retry's
 * new attempt is created in its call's replayed scope), and getConfig and
 * doPick run in it when called from another. Symbol.for: two evaluations
 * of this package (ESM and CommonJS, a test runner's registry) agree.
 */
const kScope = Symbol.for('tcp-user-timeout.grpc.call-scope')

const REPLAYED = [
  ['createResolvingCall', 'getConfig'],
  ['createLoadBalancingCall', 'doPick'],
] as const

type Recorded = object & { [kScope]?: ReturnType<typeof currentScope> }

/** The copies patched by this evaluation (folder → why not, or undefined when patched). */
const copies = new Map<string, string | undefined>()

/** Why the application's own copy could not be patched, if it could not; undefined once patched. */
let peerProblem: string | undefined

/** At import: the application's copy (the peer). Never throws. */
export function patchPeer(): void {
  const copy = peerCopy()
  peerProblem = 'reason' in copy ? copy.reason : patchCopy(copy.dir)
}

export function peerPatchProblem(): string | undefined {
  return peerProblem
}

/**
 * The copy that made some credentials, when it is not the peer (a library's
 * nested @grpc/grpc-js): patched too. Returns why not, if it cannot be.
 */
export function patchCopyOf(ChannelCredentials: object): string | undefined {
  if (byClass.has(ChannelCredentials)) return byClass.get(ChannelCredentials)
  const dir = copyDefining(ChannelCredentials)
  const problem =
    dir === undefined
      ? 'the copy of @grpc/grpc-js that made these credentials was not found among the loaded modules'
      : patchCopy(dir)
  byClass.set(ChannelCredentials, problem)
  return problem
}

/** Each credentials class looked up once: the loader's cache is scanned per class, not per call. */
const byClass = new WeakMap<object, string | undefined>()

/** Wraps the copy's InternalChannel; returns why not. Never throws. */
function patchCopy(dir: string): string | undefined {
  if (copies.has(dir)) return copies.get(dir)
  let problem: string | undefined
  try {
    const proto = (
      nodeRequire(join(dir, 'internal-channel.js')) as { InternalChannel?: { prototype?: Record<string, unknown> } }
    ).InternalChannel?.prototype
    const missing = REPLAYED.find(([create]) => typeof proto?.[create] !== 'function')
    if (proto === undefined || missing !== undefined)
      problem = `${dir}/internal-channel.js has no InternalChannel.prototype.${missing?.[0] ?? 'createResolvingCall'}`
    else for (const [create, replayed] of REPLAYED) wrap(proto, create, recordScope(replayed))
  } catch (error) {
    problem = `${dir}/internal-channel.js could not be loaded (${String((error as Error)?.message).split('\n')[0]})`
  }
  copies.set(dir, problem)
  return problem
}

/** Records the scope of each new call object, and makes sure its class replays `method` in it. */
function recordScope(method: string): Hook {
  return (original, channel, args) => {
    const call = Reflect.apply(original, channel, args) as unknown
    try {
      if (call !== null && typeof call === 'object') {
        ;(call as Recorded)[kScope] = currentScope()
        // The class is not exported: taken from its first instance.
        const proto = Object.getPrototypeOf(call) as Record<string, unknown> | null
        if (proto !== null && typeof proto[method] === 'function' && !isWrapped(proto, method))
          wrap(proto, method, replayInScope)
      }
    } catch {
      // A call object this was not written for: it runs as grpc-js runs it.
    }
    return call
  }
}

const replayInScope: Hook = (original, call: Recorded, args) => {
  if (call === null || typeof call !== 'object' || !(kScope in call)) return Reflect.apply(original, call, args)
  const scope = call[kScope]
  if (scope === currentScope()) return Reflect.apply(original, call, args)
  return runInScope(scope, () => Reflect.apply(original, call, args) as unknown)
}
