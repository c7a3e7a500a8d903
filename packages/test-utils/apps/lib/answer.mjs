/** Calls `handler(...args)` and hands its result (sync or a promise) to `send`, a throw or rejection to `fail`. */
export function answer(handler, args, send, fail) {
  let result
  try {
    result = handler(...args)
  } catch (error) {
    return fail(error)
  }
  // A synchronous result is sent synchronously: a bench's hello world pays no promise.
  if (result !== null && typeof result?.then === 'function') return result.then(send, fail)
  return send(result)
}
