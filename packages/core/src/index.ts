// What an application uses. Adapter authors: '@tcp-user-timeout/core/adapter' (adapter.ts).
import './boot.js'

export { setUserTimeout, getUserTimeout, setKeepAliveProbes, getKeepAliveProbes, support } from './sockopt.js'
export type { KeepAliveProbes, Target } from './sockopt.js'
export type { Support } from './native.js'
export { withTimeout, withJobTimeout, currentTimeout, setGlobalDefault, globalDefault, headroom } from './scope.js'
export type { ScopeOptions } from './scope.js'
export type { HostPattern } from './exempt.js'
export { hardenServer, DEFAULT_KEEPALIVE } from './server.js'
export type { HardenOptions } from './server.js'
export { stats, resetStats, CHANNEL_BIND, CHANNEL_TIMEOUT, CHANNEL_ERROR } from './diagnostics.js'
export type { Stats, BindMessage, TimeoutMessage, ErrorMessage } from './diagnostics.js'
export { observe, type Observer, type TcpUserTimeoutEvent } from './observe.js'
export {
  codes,
  warningCodes,
  InvalidArgumentError,
  OutOfRangeError,
  InvalidOptionError,
  SocketOptionError,
} from './errors.js'
export type { ErrorCode, WarningCode } from './errors.js'
export { install, uninstall, installed } from './hooks/install.js'
export { MAX_MS } from './validate.js'
