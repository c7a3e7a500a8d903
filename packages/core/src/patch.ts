import dc from 'node:diagnostics_channel'
import { reportInternal } from './contain.js'
import { shared, type PatchRecord, type SubscriptionRecord } from './shared.js'

/**
 * What a wrapper calls instead of the original: `original` with `self` and
 * `args` is the call as the application made it. A hook must return what
 * the original returns, throw what it throws, and nothing of its own: a
 * patched Node function never throws because of this library.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each hook names the `this` it is installed on
export type Hook = (original: Function, self: any, args: IArguments) => unknown

/**
 * The one way this library patches Node (OpenTelemetry's wrap/unwrap/
 * isWrapped): `target[key]` (or, with `kind: 'set'`, the setter of the
 * accessor `key`, which `target` must own) is replaced once per thread by a
 * wrapper that calls `hook`. A method `target` inherits is wrapped on
 * `target` itself (one request's emitter, one body stream). Wrapping again
 * (a second evaluation of this package, a later install) only puts the new
 * hook in: the newest code runs, and there is never a second layer.
 * `transient`: a patch of an object that lives as long as one request,
 * which uninstall() need not undo (and must not keep alive). Returns false
 * when there is nothing to wrap.
 */
export function wrap(
  target: object,
  key: PropertyKey,
  hook: Hook,
  kind: 'value' | 'set' = 'value',
  transient = false,
): boolean {
  const known = recordOf(target, key)
  if (known !== undefined) {
    known.hook = hook
    if (!transient) shared.installedPatches.add(known)
    return true
  }
  const own = Object.getOwnPropertyDescriptor(target, key)
  const original: unknown =
    kind === 'set' ? own?.set : own === undefined ? (target as Record<PropertyKey, unknown>)[key] : own.value
  if (typeof original !== 'function' || own?.configurable === false || (own === undefined && kind === 'set'))
    return false
  const record: PatchRecord = { target, key, kind, descriptor: own, hook, wrapper: original }
  record.wrapper = wrapperOf(original, record)
  const base = own ?? { configurable: true, enumerable: false, writable: true }
  Object.defineProperty(
    target,
    key,
    kind === 'set' ? { ...base, set: record.wrapper as (v: unknown) => void } : { ...base, value: record.wrapper },
  )
  let byKey = shared.patches.get(target)
  if (byKey === undefined) shared.patches.set(target, (byKey = new Map<PropertyKey, PatchRecord>()))
  byKey.set(key, record)
  if (!transient) shared.installedPatches.add(record)
  return true
}

/**
 * Undoes `wrap`: the original is back. Where something wrapped our wrapper
 * since (another instrumentation), taking ours out would drop theirs: ours
 * stays in the chain as a pass-through instead, and a later `wrap` reuses it.
 */
export function unwrap(target: object, key: PropertyKey): void {
  const record = recordOf(target, key)
  if (record === undefined) return
  record.hook = undefined
  shared.installedPatches.delete(record)
  const now = Object.getOwnPropertyDescriptor(target, key)
  if ((record.kind === 'set' ? now?.set : now?.value) !== record.wrapper) return
  // A method that was inherited is inherited again.
  if (record.descriptor === undefined) Reflect.deleteProperty(target, key)
  else Object.defineProperty(target, key, record.descriptor)
  shared.patches.get(target)?.delete(key)
}

/** Whether `target[key]` is wrapped by this library and its hook is in force. */
export function isWrapped(target: object, key: PropertyKey): boolean {
  return recordOf(target, key)?.hook !== undefined
}

/** Undoes every patch and subscription (uninstall()). */
export function unwrapAll(): void {
  for (const record of [...shared.installedPatches]) unwrap(record.target, record.key)
  for (const record of shared.subscriptions.values()) dc.unsubscribe(record.channel, record.listener)
  shared.subscriptions.clear()
}

/**
 * Subscribes to a diagnostics channel once per thread, as `wrap` patches:
 * a later call with the same `key` (by default the channel: the core's own
 * hooks) only replaces the hook; an adapter gives a key of its own.
 * uninstall() unsubscribes. A hook that throws is contained here (counted
 * and published as an error): diagnostics_channel would rethrow it
 * asynchronously, as an uncaught exception of the process.
 */
export function subscribe(channel: string, hook: (message: unknown) => void, key: string = channel): void {
  const known = shared.subscriptions.get(key)
  if (known !== undefined) {
    known.hook = hook
    return
  }
  const record: SubscriptionRecord = {
    channel,
    hook,
    listener(message) {
      try {
        record.hook?.(message)
      } catch (error) {
        reportInternal(error)
      }
    },
  }
  shared.subscriptions.set(key, record)
  dc.subscribe(channel, record.listener)
}

function recordOf(target: object, key: PropertyKey): PatchRecord | undefined {
  return shared.patches.get(target)?.get(key)
}

/**
 * Same name and length as the original: code that inspects a function (arity checks, stack traces) sees no difference.
 */
function wrapperOf(original: Function, record: PatchRecord): Function {
  const wrapper = function (this: unknown) {
    const hook = record.hook
    if (hook === undefined) return Reflect.apply(original, this, arguments) as unknown
    return (hook as Hook)(original, this, arguments)
  }
  Object.defineProperty(wrapper, 'name', { value: original.name, configurable: true })
  Object.defineProperty(wrapper, 'length', { value: original.length, configurable: true })
  return wrapper
}
