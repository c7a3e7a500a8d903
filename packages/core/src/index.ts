import { install } from './hooks/install.js'

export { setUserTimeout, getUserTimeout, setKeepAliveProbes, getKeepAliveProbes, support } from './sockopt.js'
export type { KeepAliveProbes, Target } from './sockopt.js'
export type { Support } from './native.js'
export {
  withTimeout,
  withJobTimeout,
  currentTimeout,
  setGlobalDefault,
  globalDefault,
  headroom,
  createScope,
  runInScope,
  runUnscoped,
} from './scope.js'
export type { ScopeOptions } from './scope.js'
export type { Scope, ScopeEnd } from './shared.js'
export type { HostPattern, HostMatcher } from './exempt.js'
export { compileExemptHosts } from './exempt.js'
export { createPolicy } from './policy.js'
export { enterRequest, scopeResponseBody } from './request.js'
export { runUntilSettled } from './lease.js'
export type { Policy, SecondsCallback, TcpUserTimeoutOptions } from './policy.js'
export { parseDeadlineHeader } from './header.js'
export type { HeaderFormat } from './header.js'
export { hardenServer, resolveHardening, DEFAULT_KEEPALIVE } from './server.js'
export type { HardenOptions } from './server.js'
export { stats, resetStats, channels, CHANNEL_BIND, CHANNEL_TIMEOUT, CHANNEL_ERROR } from './diagnostics.js'
export type { Stats, BindMessage, TimeoutMessage, ErrorMessage } from './diagnostics.js'
export {
  codes,
  warningCodes,
  InvalidArgumentError,
  OutOfRangeError,
  InvalidOptionError,
  SocketOptionError,
  describe as describeValue,
} from './errors.js'
export type { ErrorCode, WarningCode } from './errors.js'
export { install, uninstall, installed } from './hooks/install.js'
export { MAX_MS } from './validate.js'

// The hooks go in at import, before the application opens its boot sockets
// (DB pools, warmed HTTP pools), so that those are known to be boot sockets
// and no request scope ever binds them. Importing never throws.
try {
  install()
} catch {
  // An exotic runtime without the expected net/http internals: stay a no-op.
}
