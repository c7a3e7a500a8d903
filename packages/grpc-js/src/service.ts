import { errorMonitor, type EventEmitter } from 'node:events'
import type { ServerDuplexStream, ServerReadableStream, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js'
import { InvalidArgumentError } from '@tcp-user-timeout/core'
import {
  createPolicy,
  createScopeEnd,
  describeValue,
  type Policy,
  type ScopeEnd,
  type TcpUserTimeoutOptions,
} from '@tcp-user-timeout/core/adapter'
import { warnIfUnpatched } from './unpatched.js'

/** The call a handler gets, whatever the method's kind: what a `seconds` callback receives. */
export type GrpcServerCall =
  | ServerUnaryCall<unknown, unknown>
  | ServerReadableStream<unknown, unknown>
  | ServerWritableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>

/** The shared options; `header` is a metadata key, a `seconds` callback gets the call. */
export type GrpcTcpUserTimeoutOptions = TcpUserTimeoutOptions<GrpcServerCall>

/**
 * `server.addService(Service, tcpUserTimeout(implementation, { seconds: 25 }))`:
 * each handler runs in a request scope, and so does every event of its
 * call ('data', 'end', ...), until the call ends. The call's deadline
 * tightens the budget as a header does (never below `minSeconds`), and so
 * does the metadata key named by `header`. Options are checked here; a
 * call never throws because of them.
 */
export function tcpUserTimeout<Implementation extends object>(
  implementation: Implementation,
  options: GrpcTcpUserTimeoutOptions,
): Implementation {
  if (implementation === null || (typeof implementation !== 'object' && typeof implementation !== 'function')) {
    throw new InvalidArgumentError(
      `tcpUserTimeout(implementation, options) takes a service implementation ` +
        `(an object of handlers), received ${describeValue(implementation)}`,
    )
  }
  const policy = createPolicy(options, { api: 'tcpUserTimeout', framework: 'grpc-js' })
  warnIfUnpatched()
  const handlers = new Map<string, { original: Function; scoped: Function }>()
  // grpc-js binds each handler to the object given to addService: the
  // handler's `this` is the implementation itself, so its own helper
  // methods are the originals.
  const thisFor = (self: unknown) => (self === proxy ? implementation : self)
  // A Proxy, not a copy: grpc-js looks each method up by its name and then by
  // its original name (proto-loader's camelCase), and a class instance keeps
  // its handlers on its prototype.
  const proxy: Implementation = new Proxy(implementation, {
    get(target, key) {
      const value = Reflect.get(target, key, target) as unknown
      if (typeof value !== 'function' || typeof key !== 'string' || key === 'constructor') return value
      let handler = handlers.get(key)
      if (handler?.original !== value)
        handlers.set(key, (handler = { original: value, scoped: scoped(value, thisFor, policy) }))
      return handler.scoped
    },
  })
  return proxy
}

/** `handler` run in its call's scope; called with anything but a call (a helper method), it is `handler` as is. */
function scoped(handler: Function, thisFor: (self: unknown) => unknown, policy: Policy<GrpcServerCall>): Function {
  const wrapper = function (this: unknown, call: unknown): unknown {
    const self = thisFor(this)
    if (!isCall(call)) return Reflect.apply(handler, self, arguments)
    const args = arguments
    return policy.enter(
      call,
      call,
      callEnd(call),
      askedMs(call, policy),
      () => Reflect.apply(handler, self, args) as unknown,
    )
  }
  Object.defineProperty(wrapper, 'name', { value: handler.name, configurable: true })
  Object.defineProperty(wrapper, 'length', { value: handler.length, configurable: true })
  return wrapper
}

function isCall(value: unknown): value is GrpcServerCall & EventEmitter {
  const call = value as Partial<GrpcServerCall & EventEmitter> | null
  return (
    call !== null &&
    typeof call === 'object' &&
    typeof call.getDeadline === 'function' &&
    typeof call.once === 'function' &&
    typeof call.emit === 'function'
  )
}

/**
 * The budget the call asks for, in ms: the time left to its deadline
 * (Infinity: none), or the `header` metadata, whichever is tighter. At least
 * 1 ms: a deadline already past asks for the floor, not for no budget.
 * Never throws.
 */
function askedMs(call: GrpcServerCall, policy: Policy<GrpcServerCall>): number | undefined {
  let asked: number | undefined
  try {
    const deadline = call.getDeadline()
    const at = deadline instanceof Date ? deadline.getTime() : deadline
    if (typeof at === 'number' && Number.isFinite(at)) asked = Math.max(1, Math.floor(at - Date.now()))
    if (policy.header !== undefined) {
      // A key sent twice is as malformed as a repeated header.
      const values = call.metadata?.get(policy.header)
      const header = policy.parseHeader(values?.length === 1 ? values[0] : undefined)
      if (header !== undefined && (asked === undefined || header < asked)) asked = header
    }
  } catch {
    // A call object this was not written for: the configured budget.
  }
  return asked
}

/**
 * The call's end, as the scope's end. grpc-js 1.13/1.14 emit 'cancelled'
 * when every call ends (status sent, deadline, cancel, reset); streams also
 * emit 'finish' (status sent by end()) and 'close'. An error is watched
 * through errorMonitor: an 'error' listener here would swallow an error
 * the application does not handle.
 */
function callEnd(call: EventEmitter): ScopeEnd {
  const end = createScopeEnd()
  for (const event of END_EVENTS) call.once(event, end.close)
  return end
}

const END_EVENTS = ['cancelled', 'finish', 'close', errorMonitor] as const
